import threading
from datetime import UTC, datetime, timedelta

import pytest

from storage.conversations import get_or_create_conversation, list_events
from storage.deliveries import (
    NewDelivery,
    NewRecipient,
    accept_recipient,
    create_delivery,
    deliveries_between,
    list_deliveries,
    list_recipients,
)
from storage.outbox import claim_due, enqueue, mark_retry, mark_sent
from storage.teams import TeamExists, add_team, find_team, list_teams, remove_team


def a_conversation(session, thread_ts="1700000000.000100"):
    return get_or_create_conversation(
        session, workspace_id="T1", channel_id="C1", thread_ts=thread_ts
    )


def new_delivery(conversation, key="V1", **changes):
    fields = dict(
        submission_key=key,
        conversation=conversation,
        application_id=None,
        contact_id=None,
        status="qualified",
        reason=None,
        reason_text=None,
        notes="Strong SQL",
        rating=4,
        delivered_by="U1",
        recipients=[
            NewRecipient(kind="user", user_id="U2"),
            NewRecipient(kind="email", email="a@b.co"),
        ],
    )
    fields.update(changes)
    return NewDelivery(**fields)


def test_create_delivery_stores_everything(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        delivery, created = create_delivery(session, new_delivery(conversation))

    with session_scope() as session:
        recipients = list_recipients(session, delivery.id)
        events = list_events(session, conversation.id)
        stored = list_deliveries(session, conversation.id)
        conversation = a_conversation(session)

    assert created is True
    assert [(r.kind, r.user_id, r.email) for r in recipients] == [
        ("user", "U2", None),
        ("email", None, "a@b.co"),
    ]
    assert [e.kind for e in events] == ["delivered"]
    assert [d.id for d in stored] == [delivery.id]
    assert conversation.state == "delivered"


def test_same_submission_stores_one_delivery(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        first, created_first = create_delivery(session, new_delivery(conversation))
    with session_scope() as session:
        conversation = a_conversation(session)
        second, created_second = create_delivery(session, new_delivery(conversation, notes="x"))

    with session_scope() as session:
        stored = list_deliveries(session, conversation.id)
        recipients = list_recipients(session, first.id)

    assert (created_first, created_second) == (True, False)
    assert second.id == first.id
    assert len(stored) == 1
    assert stored[0].notes == "Strong SQL"
    assert len(recipients) == 2


def test_second_delivery_chains_to_first(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        first, _ = create_delivery(session, new_delivery(conversation, key="V1"))
    with session_scope() as session:
        conversation = a_conversation(session)
        second, _ = create_delivery(session, new_delivery(conversation, key="V2"))

    assert first.previous_delivery_id is None
    assert second.previous_delivery_id == first.id


def test_accept_race_has_one_winner(session_scope):
    with session_scope() as session:
        delivery, _ = create_delivery(session, new_delivery(a_conversation(session)))
        recipient_id = list_recipients(session, delivery.id)[0].id
    results = {}
    barrier = threading.Barrier(2)

    def accept(user_id):
        barrier.wait()
        with session_scope() as session:
            _recipient, won = accept_recipient(session, recipient_id, user_id=user_id)
        results[user_id] = won

    threads = [threading.Thread(target=accept, args=(user,)) for user in ("UA", "UB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope() as session:
        recipient = list_recipients(session, delivery.id)[0]

    assert sorted(results.values()) == [False, True]
    winner = next(user for user, won in results.items() if won)
    assert recipient.accepted_by == winner
    assert recipient.accepted_at is not None


def test_claim_due_leases_each_row_once(session_scope):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with session_scope() as session:
        for number in range(3):
            enqueue(session, "thread_card", {"n": number}, now=now)

    with session_scope() as session:
        first = claim_due(session, now=now, lease=timedelta(seconds=30))
    with session_scope() as session:
        second = claim_due(session, now=now, lease=timedelta(seconds=30))
    with session_scope() as session:
        after_lease = claim_due(
            session, now=now + timedelta(seconds=31), lease=timedelta(seconds=30)
        )

    assert [m.payload["n"] for m in first] == [0, 1, 2]
    assert second == []
    assert len(after_lease) == 3


def test_retry_waits_and_sent_is_done(session_scope):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with session_scope() as session:
        message = enqueue(session, "handoff_dm", {}, now=now)
    with session_scope() as session:
        mark_retry(
            session, message.id, error="ratelimited", next_attempt_at=now + timedelta(seconds=5)
        )
    with session_scope() as session:
        early = claim_due(session, now=now + timedelta(seconds=4), lease=timedelta(seconds=30))
    with session_scope() as session:
        [due] = claim_due(session, now=now + timedelta(seconds=5), lease=timedelta(seconds=30))
        attempts_before, error_before = due.attempts, due.last_error
        mark_sent(session, due.id, channel_id="D1", message_ts="1.2")
    with session_scope() as session:
        later = claim_due(session, now=now + timedelta(hours=1), lease=timedelta(seconds=30))

    assert early == []
    assert (attempts_before, error_before) == (1, "ratelimited")
    assert due.attempts == 2
    assert due.state == "sent"
    assert later == []


def test_deliveries_between_bounds(session_scope):
    base = datetime(2026, 11, 1, tzinfo=UTC)
    with session_scope() as session:
        conversation = a_conversation(session)
        for day in range(3):
            create_delivery(
                session, new_delivery(conversation, key=f"V{day}"), now=base + timedelta(days=day)
            )

    with session_scope() as session:
        found = deliveries_between(
            session, since=base + timedelta(days=1), until=base + timedelta(days=2)
        )

    assert [d.submission_key for d in found] == ["V1"]


def test_teams_add_list_remove(session_scope):
    with session_scope() as session:
        add_team(
            session, workspace_id="T1", name="Sales", members=["U1", "U2", "U1"], channel_id="C9"
        )
    with session_scope() as session:
        with pytest.raises(TeamExists):
            add_team(session, workspace_id="T1", name="Sales", members=[])
    with session_scope() as session:
        removed = remove_team(session, workspace_id="T1", name="Sales")
        missing = remove_team(session, workspace_id="T1", name="Nope")
    with session_scope() as session:
        add_team(session, workspace_id="T1", name="Sales", members=["U3"])
        teams = list_teams(session, "T1")
        again = find_team(session, workspace_id="T1", name="Sales")

    assert (removed, missing) == (True, False)
    assert [t.name for t in teams] == ["Sales"]
    assert again.channel_id is None
