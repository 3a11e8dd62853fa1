"""The email and phone checks shared by the deliver form and the contact import."""

from __future__ import annotations

import re

# A pragmatic subset of RFC 5321: a dot-string local part (no quoted string, comments, spaces or
# control characters, which some servers read differently and which would let one mailbox
# hold two spellings) and a dotted domain name.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+")
# RFC 5321 limits: 64 characters before the "@", 254 in all (a path of 256 minus "<>").
MAX_LOCAL_PART = 64
MAX_EMAIL_LENGTH = 254
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
# E.164 allows at most 15 digits. The minimum of 7 rejects fragments such as an extension.
_PHONE = re.compile(r"\+?[0-9]{7,15}")


def normalize_email(value: str) -> str | None:
    """Return the address in lower case, or None when it is not a valid email address."""
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        return None
    if len(value.partition("@")[0]) > MAX_LOCAL_PART:
        return None
    return value.lower()


def normalize_phone(value: str) -> str | None:
    """Return the digits with an optional leading "+", or None when it is not a phone number."""
    digits = _PHONE_SEPARATORS.sub("", value)
    return digits if _PHONE.fullmatch(digits) else None
