"""The email and phone checks shared by the deliver form and the contact import."""

from __future__ import annotations

import re

# A pragmatic check rather than RFC 5322: one "@", no spaces or list separators, and a dotted
# domain name.
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[^@\s<>,;]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
# E.164 allows at most 15 digits. The minimum of 7 rejects fragments such as an extension.
_PHONE = re.compile(r"\+?[0-9]{7,15}")


def normalize_email(value: str) -> str | None:
    """Return the address in lower case, or None when it is not a valid email address."""
    value = value.strip()
    return value.lower() if _EMAIL.fullmatch(value) else None


def normalize_phone(value: str) -> str | None:
    """Return the digits with an optional leading "+", or None when it is not a phone number."""
    digits = _PHONE_SEPARATORS.sub("", value)
    return digits if _PHONE.fullmatch(digits) else None
