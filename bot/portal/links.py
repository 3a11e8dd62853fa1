"""Addresses of portal pages, for links in email."""

from __future__ import annotations

from urllib.parse import quote, urlencode

PREFIX = "/portal"


def delivery_path(delivery_id: int) -> str:
    return f"{PREFIX}/deliveries/{delivery_id}"


def signin_url(public_url: str, raw_token: str, *, next_path: str | None = None) -> str:
    """Build the emailed link that signs its holder in, then shows next_path (a portal page)."""
    url = f"{public_url.rstrip('/')}{PREFIX}/signin/{quote(raw_token, safe='')}"
    if next_path is not None:
        if not next_path.startswith(PREFIX + "/"):
            raise ValueError(f"next_path {next_path!r} is not a portal page")
        url += "?" + urlencode({"next": next_path})
    return url
