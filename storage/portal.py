"""Queries of the records a restricted user may see, and the sign-in requests that limit them.

Every lookup here takes the restricted user's id and finds a record only through one of their
active grants, so a delivery that exists but was not delivered to them is indistinguishable
from one that does not exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from storage.models import (
    AccessGrant,
    AccessToken,
    Conversation,
    Delivery,
    DeliveryRecipient,
    SignInRequest,
    utcnow,
)

# accepted_by and event actors are Slack user id columns. A restricted user is stored there
# as this prefix and their id: no Slack id contains a colon, so the two never collide.
PORTAL_ACTOR_PREFIX = "email:"


@dataclass(frozen=True)
class VisibleDelivery:
    """A delivery granted to a restricted user, with their recipient row and the conversation."""

    grant: AccessGrant
    delivery: Delivery
    recipient: DeliveryRecipient
    conversation: Conversation


def portal_actor(restricted_user_id: int) -> str:
    """Return the value that stands for a restricted user in accepted_by and event actors."""
    return f"{PORTAL_ACTOR_PREFIX}{restricted_user_id}"


def is_portal_actor(actor: str | None) -> bool:
    return actor is not None and actor.startswith(PORTAL_ACTOR_PREFIX)


def _visible_statement(restricted_user_id: int):  # type: ignore[no-untyped-def]
    return (
        select(AccessGrant, Delivery, DeliveryRecipient, Conversation)
        .join(Delivery, Delivery.id == AccessGrant.delivery_id)
        .join(DeliveryRecipient, DeliveryRecipient.id == AccessGrant.recipient_id)
        .join(Conversation, Conversation.id == AccessGrant.conversation_id)
        .where(AccessGrant.restricted_user_id == restricted_user_id)
        .where(AccessGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        # A grant names its delivery and conversation; both must agree with the delivery row.
        .where(Delivery.conversation_id == AccessGrant.conversation_id)
        .where(DeliveryRecipient.delivery_id == AccessGrant.delivery_id)
    )


def visible_deliveries(session: Session, restricted_user_id: int) -> list[VisibleDelivery]:
    """Return every delivery granted to the user and not revoked, newest first."""
    statement = _visible_statement(restricted_user_id).order_by(
        Delivery.delivered_at.desc(),  # type: ignore[attr-defined]
        Delivery.id.desc(),  # type: ignore[union-attr]
    )
    return [VisibleDelivery(*row) for row in session.exec(statement)]


def visible_delivery(
    session: Session, restricted_user_id: int, delivery_id: int
) -> VisibleDelivery | None:
    """Return the delivery when it is granted to the user, else None."""
    statement = _visible_statement(restricted_user_id).where(Delivery.id == delivery_id)
    row = session.exec(statement).first()
    return VisibleDelivery(*row) if row is not None else None


def visible_delivery_ids_of(
    session: Session, restricted_user_id: int, conversation_id: int
) -> set[int]:
    """Return the ids of the conversation's deliveries that are granted to the user."""
    statement = _visible_statement(restricted_user_id).where(Conversation.id == conversation_id)
    return {delivery.id for _grant, delivery, _recipient, _conversation in session.exec(statement)}


def latest_visible_delivery_of(
    session: Session, restricted_user_id: int, conversation_id: int
) -> VisibleDelivery | None:
    """Return the newest delivery of a conversation granted to the user, else None."""
    statement = (
        _visible_statement(restricted_user_id)
        .where(Conversation.id == conversation_id)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc())  # type: ignore[attr-defined,union-attr]
    )
    row = session.exec(statement).first()
    return VisibleDelivery(*row) if row is not None else None


def mark_link_used(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    """Record when a link was last used to open a session; the link stays valid until it expires."""
    session.execute(
        sa.update(AccessToken).where(AccessToken.id == token_id).values(used_at=now or utcnow())
    )


# Sign-in requests


@dataclass(frozen=True)
class RecentRequests:
    """How many sign-in links were asked for in a window, by one address and by one client."""

    by_email: int
    by_client: int


def record_signin_request(
    session: Session,
    email: str,
    client_address: str,
    *,
    window: timedelta,
    now: datetime | None = None,
) -> RecentRequests:
    """Store a request for a sign-in link and count the requests in the window, it included.

    Rows older than the window count for nothing, so they are deleted here. The count is
    serialized with every other request for the same address or from the same client, in
    any process, until the session's transaction ends, so keep that transaction short.
    """
    now = now or utcnow()
    since = now - window
    _lock_signin_counts(session, email, client_address)
    session.execute(sa.delete(SignInRequest).where(SignInRequest.requested_at < since))
    session.add(SignInRequest(email=email, client_address=client_address, requested_at=now))
    session.flush()
    by_email = session.exec(
        select(func.count())
        .select_from(SignInRequest)
        .where(SignInRequest.email == email, SignInRequest.requested_at >= since)
    ).one()
    by_client = session.exec(
        select(func.count())
        .select_from(SignInRequest)
        .where(SignInRequest.client_address == client_address, SignInRequest.requested_at >= since)
    ).one()
    return RecentRequests(by_email=by_email, by_client=by_client)


def _lock_signin_counts(session: Session, email: str, client_address: str) -> None:
    """Wait until no other transaction is counting requests for this address or client.

    On PostgreSQL this takes a transaction-level advisory lock for each, in sorted order so
    that two requests cannot deadlock. SQLite allows one writer at a time, and Python 3.11's
    sqlite3 with its default isolation_level (which create_db_engine keeps) begins the
    transaction at the first write. So the delete that follows takes the write lock of the
    database file and holds it until the commit.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key("signin email", email), _lock_key("signin client", client_address)})
    for key in keys:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _lock_key(kind: str, value: str) -> int:
    """Return a stable signed 64-bit key for an advisory lock on `value`."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
