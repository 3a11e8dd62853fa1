"""Cookies, CSRF tokens, response headers and log redaction for the portal."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.portal.links import PREFIX

SESSION_COOKIE = "caretbot_session"
# The sign-in form comes before any session, so its CSRF token is a random value that is both
# in this cookie and in the form (the double-submit pattern).
SIGNIN_CSRF_COOKIE = "caretbot_signin_csrf"
CSRF_FIELD = "csrf_token"

SESSION_LIFETIME = timedelta(hours=12)
SIGNIN_CSRF_LIFETIME = timedelta(hours=1)

# The pages need no script, so none may run; styles only from the portal's own stylesheet.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class SecurityHeaders:
    """ASGI middleware that puts SECURITY_HEADERS on every response, replacing any set before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {name for name, _ in SECURITY_HEADERS}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", []) if pair[0] not in names]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def set_cookie(response: Response, name: str, value: str, lifetime: timedelta) -> None:
    """Set a portal cookie: HttpOnly, Secure, SameSite=Lax, and sent only to portal paths.

    Lax, not Strict, because the emailed link is a navigation from another site (the mail
    client). A Strict cookie set during it would not be sent on the redirect that follows, so
    the first click would land on the sign-in page. Every request that changes anything is a
    POST with a CSRF token, and browsers send no Lax cookie with a POST from another site.
    """
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path=PREFIX,
        secure=True,
        httponly=True,
        samesite="lax",
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, secure=True, httponly=True, samesite="lax")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, presented: object) -> bool:
    """Compare a CSRF token in constant time; a missing or non-text value never matches."""
    if not expected or not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def client_address(request: Request) -> str:
    """Return the client's IP address, as uvicorn saw it after applying trusted proxy headers."""
    return request.client.host if request.client else "unknown"


# The token in an emailed link is a secret until it expires, so no log line may contain it.
_LINK_TOKEN = re.compile(re.escape(PREFIX) + r"/signin/[^/?\s\"]+")
_REDACTED = f"{PREFIX}/signin/[redacted]"


class RedactSignInLinks(logging.Filter):
    """Replace the token of /portal/signin/TOKEN in log records, uvicorn's access log included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and _LINK_TOKEN.search(record.msg):
            record.msg = _LINK_TOKEN.sub(_REDACTED, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _LINK_TOKEN.sub(_REDACTED, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    """Add RedactSignInLinks to uvicorn's loggers once, however many portals are built."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSignInLinks) for existing in logger.filters):
            logger.addFilter(RedactSignInLinks())
