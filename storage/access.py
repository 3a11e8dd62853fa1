"""Restricted users: people outside Slack who may read what was delivered to their address.

A delivery to an email address grants that address one conversation. The address signs in
with a secret: an emailed link, or the portal session that a link opens. Only the SHA-256 of
a secret is stored, so the table alone opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import AccessGrant, AccessToken, DeliveryRecipient, RestrictedUser, utcnow
from storage.upsert import insert_ignoring_conflict

LINK = "link"
SESSION = "session"


class TokenState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TokenCheck:
    """The result of checking a presented secret. User and token are set when it is valid."""

    state: TokenState
    user: RestrictedUser | None = None
    token: AccessToken | None = None


def normalize_email(email: str) -> str:
    """Addresses are compared without letter case and surrounding spaces."""
    return email.strip().lower()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> str:
    """Return a random secret for a link or session: 32 bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def restricted_user(session: Session, email: str) -> RestrictedUser:
    """Return the restricted user of an address, creating it; safe when two processes race."""
    address = normalize_email(email)
    insert_ignoring_conflict(
        session, RestrictedUser, {"email": address, "created_at": utcnow()}, conflict_on=["email"]
    )
    return session.exec(select(RestrictedUser).where(RestrictedUser.email == address)).one()


def find_restricted_user(session: Session, email: str) -> RestrictedUser | None:
    address = normalize_email(email)
    return session.exec(select(RestrictedUser).where(RestrictedUser.email == address)).first()


def grant_delivery(
    session: Session, recipient: DeliveryRecipient, *, workspace_id: str, conversation_id: int
) -> RestrictedUser:
    """Let an email recipient read the delivered conversation; granting twice changes nothing."""
    if recipient.kind != "email" or not recipient.email:
        raise ValueError(f"recipient {recipient.id} is not an email recipient")
    user = restricted_user(session, recipient.email)
    insert_ignoring_conflict(
        session,
        AccessGrant,
        {
            "restricted_user_id": user.id,
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "delivery_id": recipient.delivery_id,
            "recipient_id": recipient.id,
            "granted_at": utcnow(),
        },
        conflict_on=["restricted_user_id", "delivery_id"],
    )
    return user


def active_grants(session: Session, restricted_user_id: int) -> list[AccessGrant]:
    statement = (
        select(AccessGrant)
        .where(AccessGrant.restricted_user_id == restricted_user_id)
        .where(AccessGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        .order_by(AccessGrant.granted_at.desc(), AccessGrant.id.desc())  # type: ignore[union-attr]
    )
    return list(session.exec(statement))


def issue_token(
    session: Session,
    restricted_user_id: int,
    purpose: str,
    lifetime: timedelta,
    *,
    now: datetime | None = None,
    raw: str | None = None,
) -> tuple[str, AccessToken]:
    """Make a new secret; return it (to send once) and its stored row.

    `raw` stores a secret from new_secret() instead, for a caller that sends the secret before
    it writes anything, so that no database lock is held while it waits on the network.
    """
    if purpose not in (LINK, SESSION):
        raise ValueError(f"token purpose {purpose!r} is not {LINK!r} or {SESSION!r}")
    now = now or utcnow()
    raw = raw or new_secret()
    token = AccessToken(
        restricted_user_id=restricted_user_id,
        purpose=purpose,
        token_hash=hash_token(raw),
        csrf_token=secrets.token_urlsafe(32) if purpose == SESSION else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return raw, token


def check_token(
    session: Session, raw: str, purpose: str, *, now: datetime | None = None
) -> TokenCheck:
    """Look a presented secret up by its hash and return whether it still signs someone in."""
    now = now or utcnow()
    token = session.exec(
        select(AccessToken)
        .where(AccessToken.token_hash == hash_token(raw))
        .where(AccessToken.purpose == purpose)
    ).first()
    if token is None:
        return TokenCheck(TokenState.UNKNOWN)
    if token.revoked_at is not None:
        return TokenCheck(TokenState.REVOKED, token=token)
    if token.expires_at <= now:
        return TokenCheck(TokenState.EXPIRED, token=token)
    user = session.get(RestrictedUser, token.restricted_user_id)
    return TokenCheck(TokenState.VALID, user=user, token=token)


def revoke_token(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    session.execute(
        sa.update(AccessToken)
        .where(AccessToken.id == token_id)
        .where(AccessToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now or utcnow())
    )


@dataclass(frozen=True)
class Revoked:
    grants: int
    tokens: int


def revoke_access(session: Session, email: str, *, now: datetime | None = None) -> Revoked | None:
    """Withdraw every grant, link and session of an address; None when it has no access."""
    user = find_restricted_user(session, email)
    if user is None:
        return None
    stamp = now or utcnow()
    grants = session.execute(
        sa.update(AccessGrant)
        .where(AccessGrant.restricted_user_id == user.id)
        .where(AccessGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=stamp)
    )
    tokens = session.execute(
        sa.update(AccessToken)
        .where(AccessToken.restricted_user_id == user.id)
        .where(AccessToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=stamp)
    )
    return Revoked(grants=grants.rowcount, tokens=tokens.rowcount)
