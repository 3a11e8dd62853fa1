"""Processed Slack event ids, so that a redelivered event is handled once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import ProcessedEvent, utcnow
from storage.upsert import insert_ignoring_conflict


def claim_event(session: Session, event_id: str, *, now: datetime | None = None) -> bool:
    """Record the event id; return False when some process has already claimed it."""
    return insert_ignoring_conflict(
        session,
        ProcessedEvent,
        {"event_id": event_id, "received_at": now or utcnow()},
        conflict_on=["event_id"],
    )


def purge_events(session: Session, *, older_than: datetime) -> int:
    """Delete event ids received before the given time; return how many went."""
    statement = sa.delete(ProcessedEvent).where(ProcessedEvent.received_at < older_than)
    result = session.execute(statement)
    return result.rowcount
