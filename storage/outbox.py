"""The outbox: messages written in the same transaction as the records they announce.

Rows are sent after the commit, so a crash between the commit and the send loses nothing:
the next process sends what is still pending. Several processes share the table, and each
row is leased to one sender at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import OutboxMessage, utcnow

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    delivery_id: int | None = None,
    recipient_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        payload=payload,
        delivery_id=delivery_id,
        recipient_id=recipient_id,
        next_attempt_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def claim_due(
    session: Session, *, now: datetime, lease: timedelta, limit: int = 20
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to the caller; others skip them until the lease ends."""
    candidates = session.exec(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    claimed: list[OutboxMessage] = []
    for message_id in candidates:
        # Conditional per row: when two processes race for one row, only one update matches.
        statement = (
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.state == PENDING,
                sa.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .values(locked_until=now + lease)
            .returning(OutboxMessage.id)
        )
        if session.execute(statement).first() is not None:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            session.refresh(message)
            claimed.append(message)
    return claimed


def mark_sent(
    session: Session,
    message_id: int,
    *,
    channel_id: str | None = None,
    message_ts: str | None = None,
    now: datetime | None = None,
) -> None:
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    message.state = SENT
    message.attempts += 1
    message.sent_at = now or utcnow()
    message.locked_until = None
    message.last_error = None
    message.channel_id = channel_id or message.channel_id
    message.message_ts = message_ts or message.message_ts
    session.add(message)
    session.flush()


def mark_retry(session: Session, message_id: int, *, error: str, next_attempt_at: datetime) -> None:
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    message.attempts += 1
    message.last_error = error
    message.next_attempt_at = next_attempt_at
    message.locked_until = None
    session.add(message)
    session.flush()


def mark_failed(session: Session, message_id: int, *, error: str) -> None:
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    message.state = FAILED
    message.attempts += 1
    message.last_error = error
    message.locked_until = None
    session.add(message)
    session.flush()


def sent_cards(session: Session, delivery_id: int, kinds: tuple[str, ...]) -> list[OutboxMessage]:
    """Return the sent messages of a delivery of the given kinds, with where they landed."""
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.delivery_id == delivery_id,
            OutboxMessage.state == SENT,
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.message_ts.is_not(None),
        )
        .order_by(OutboxMessage.id)
    )
    return list(session.exec(statement))


def list_messages(session: Session, delivery_id: int) -> list[OutboxMessage]:
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.delivery_id == delivery_id)
        .order_by(OutboxMessage.id)
    )
    return list(session.exec(statement))
