from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.ledger import EventLedger
from storage.events import claim_event, purge_events
from storage.models import ProcessedEvent


def test_claim_event_once(session_scope):
    with session_scope() as session:
        first = claim_event(session, "Ev001")
    with session_scope() as session:
        second = claim_event(session, "Ev001")

    assert first is True
    assert second is False


def test_purge_removes_only_old_ids(session_scope):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with session_scope() as session:
        claim_event(session, "EvOld", now=now - timedelta(days=2))
        claim_event(session, "EvNew", now=now - timedelta(hours=1))

    with session_scope() as session:
        removed = purge_events(session, older_than=now - timedelta(days=1))
    with session_scope() as session:
        left = session.exec(select(ProcessedEvent.event_id)).all()

    assert removed == 1
    assert left == ["EvNew"]


def test_ledger_purges_on_schedule(session_scope):
    clock = [datetime(2026, 12, 3, 12, 0, tzinfo=UTC)]
    ledger = EventLedger(
        session_scope,
        keep=timedelta(hours=2),
        purge_every=timedelta(hours=1),
        clock=lambda: clock[0],
    )
    assert ledger.first_time("Ev1") is True

    clock[0] += timedelta(hours=3)
    assert ledger.first_time("Ev2") is True
    with session_scope() as session:
        left = session.exec(select(ProcessedEvent.event_id)).all()

    assert left == ["Ev2"]
    assert ledger.first_time("Ev2") is False
