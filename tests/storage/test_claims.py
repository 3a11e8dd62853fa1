import threading
from datetime import UTC, datetime, timedelta

from storage.claims import (
    autoclaim_enabled,
    claim_conversation,
    get_user_setting,
    put_user_setting,
    set_autoclaim,
    take_over_conversation,
)
from storage.conversations import get_or_create_conversation, list_events

CLAIM_TIME = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def a_conversation(session):
    return get_or_create_conversation(
        session, workspace_id="T1", channel_id="C1", thread_ts="1700000000.000100"
    )


def conversation_id(session_scope):
    with session_scope() as session:
        return a_conversation(session).id


def claim(session_scope, user_id, *, at=CLAIM_TIME):
    with session_scope() as session:
        return claim_conversation(
            session, conversation_id(session_scope), user_id=user_id, source="command", now=at
        )


def run_at_once(function, users):
    """Call function(user) on one thread per user, released together by a barrier."""
    barrier = threading.Barrier(len(users))
    results = {}
    failures = []

    def run(user_id):
        barrier.wait()
        try:
            results[user_id] = function(user_id)
        except Exception as error:  # noqa: BLE001 (reported by the assert below)
            failures.append(error)

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return results


def test_claim_free_conversation(session_scope):
    outcome = claim(session_scope, "UA")

    with session_scope() as session:
        conversation = a_conversation(session)
        events = list_events(session, conversation.id)

    assert outcome.won is True
    assert outcome.holder == "UA"
    assert conversation.claimed_by == "UA"
    assert conversation.claimed_at == CLAIM_TIME
    assert [(e.kind, e.actor, e.detail) for e in events] == [
        ("claimed", "UA", {"source": "command"})
    ]


def test_holder_repeat_keeps_claimed_at(session_scope):
    claim(session_scope, "UA")

    repeat = claim(session_scope, "UA", at=CLAIM_TIME + timedelta(hours=1))

    with session_scope() as session:
        events = list_events(session, a_conversation(session).id)
    assert repeat.won is False
    assert repeat.holder == "UA"
    assert repeat.claimed_at == CLAIM_TIME
    assert len(events) == 1


def test_claim_held_conversation_names_holder(session_scope):
    claim(session_scope, "UA")

    outcome = claim(session_scope, "UB", at=CLAIM_TIME + timedelta(hours=1))

    assert outcome.won is False
    assert outcome.holder == "UA"
    assert outcome.claimed_at == CLAIM_TIME


def test_simultaneous_claims_have_one_winner(session_scope):
    target = conversation_id(session_scope)

    def attempt(user_id):
        with session_scope() as session:
            return claim_conversation(session, target, user_id=user_id, source="command")

    results = run_at_once(attempt, ["UA", "UB"])

    with session_scope() as session:
        conversation = a_conversation(session)
        events = list_events(session, conversation.id)
    winners = [user for user, outcome in results.items() if outcome.won]
    assert len(winners) == 1
    assert conversation.claimed_by == winners[0]
    assert {outcome.holder for outcome in results.values()} == {winners[0]}
    assert [e.actor for e in events] == winners


def test_take_over_records_previous_holder(session_scope):
    claim(session_scope, "UA")
    later = CLAIM_TIME + timedelta(hours=2)

    with session_scope() as session:
        outcome = take_over_conversation(
            session, conversation_id(session_scope), user_id="UB", previous_holder="UA", now=later
        )

    with session_scope() as session:
        conversation = a_conversation(session)
        events = list_events(session, conversation.id)
    assert outcome.won is True
    assert outcome.holder == "UB"
    assert outcome.previous_holder == "UA"
    assert conversation.claimed_by == "UB"
    assert conversation.claimed_at == later
    assert [(e.kind, e.actor, e.detail) for e in events][-1] == (
        "claim_taken_over",
        "UB",
        {"previous_holder": "UA"},
    )


def test_take_over_from_stale_holder_changes_nothing(session_scope):
    claim(session_scope, "UA")
    with session_scope() as session:
        take_over_conversation(
            session, conversation_id(session_scope), user_id="UC", previous_holder="UA"
        )

    with session_scope() as session:
        outcome = take_over_conversation(
            session, conversation_id(session_scope), user_id="UB", previous_holder="UA"
        )

    with session_scope() as session:
        conversation = a_conversation(session)
    assert outcome.won is False
    assert outcome.holder == "UC"
    assert conversation.claimed_by == "UC"


def test_take_over_of_free_conversation_claims_it(session_scope):
    with session_scope() as session:
        outcome = take_over_conversation(
            session, conversation_id(session_scope), user_id="UB", previous_holder="UA"
        )

    with session_scope() as session:
        events = list_events(session, a_conversation(session).id)
    assert outcome.won is True
    assert outcome.holder == "UB"
    assert outcome.previous_holder is None
    assert [(e.kind, e.detail) for e in events] == [("claimed", {"source": "takeover"})]


def test_simultaneous_takeovers_have_one_winner(session_scope):
    claim(session_scope, "UA")
    target = conversation_id(session_scope)

    def attempt(user_id):
        with session_scope() as session:
            return take_over_conversation(session, target, user_id=user_id, previous_holder="UA")

    results = run_at_once(attempt, ["UB", "UC"])

    with session_scope() as session:
        conversation = a_conversation(session)
    winners = [user for user, outcome in results.items() if outcome.won]
    assert len(winners) == 1
    assert conversation.claimed_by == winners[0]


def test_autoclaim_is_off_by_default(session_scope):
    with session_scope() as session:
        a_conversation(session)
        enabled = autoclaim_enabled(session, "T1", "UA")

    assert enabled is False


def test_set_autoclaim_on_and_off(session_scope):
    with session_scope() as session:
        set_autoclaim(session, "T1", "UA", True, updated_by="UADMIN")
    with session_scope() as session:
        on = autoclaim_enabled(session, "T1", "UA")
        other_user = autoclaim_enabled(session, "T1", "UB")
    with session_scope() as session:
        set_autoclaim(session, "T1", "UA", False, updated_by="UA")
    with session_scope() as session:
        off = autoclaim_enabled(session, "T1", "UA")

    assert (on, other_user, off) == (True, False, False)


def test_user_setting_stores_json_value(session_scope):
    value = {"hours": [9, 17], "zone": "Europe/Berlin"}
    with session_scope() as session:
        put_user_setting(session, "T1", "UA", "quiet_hours", value, updated_by="UA")

    with session_scope() as session:
        stored = get_user_setting(session, "T1", "UA", "quiet_hours")
        missing = get_user_setting(session, "T1", "UA", "other")

    assert stored == value
    assert missing is None
