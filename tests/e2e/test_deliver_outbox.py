"""^deliver end to end: double submissions, delivering again, outbox retries and restarts."""

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import ids
from bot.slackdouble.payloads import new_ts, submission_of
from storage.deliveries import load_draft
from storage.models import OutboxMessage, utcnow
from storage.outbox import enqueue, list_messages
from tests.support import (
    AGENT,
    DeliverDriver,
    RunningBot,
    deliver_through,
    seed_contact,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
)

RECRUITER = "U0RECRUIT"


@pytest.fixture
def recruiter(slack):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
    return RECRUITER


def qualified_step1(application_id, notes="Strong SQL"):
    return step1_state("qualified", application=f"app:{application_id}", notes=notes, rating=4)


def reach_step2(driver, root, step1):
    """Go through step 1 and return step 2 as pushed, ready for Deliver."""
    view = driver.open(root)
    status_only = {ids.DELIVER_STATUS_BLOCK: step1[ids.DELIVER_STATUS_BLOCK]}
    view = driver.change(view, ids.DELIVER_STATUS_INPUT, status_only)
    status, response = driver.submit(view, step1)
    assert status == 200
    return driver.pushed(response)


def thread_cards(slack, root):
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == root]


def dms_to(slack, user):
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def outbox_of(bot, delivery_id):
    with bot.session_scope() as session:
        return {m.kind: m for m in list_messages(session, delivery_id)}


def post_concurrently(bot, payload, copies=2):
    """POST the same signed payload from several threads at once; return (status, body) pairs."""
    start = threading.Barrier(copies)
    results = []

    def post():
        start.wait(timeout=5)
        status, _headers, body = bot.post(payload)
        results.append((status, json.loads(body) if body else None))

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    bot.executor.wait_idle()
    return results


def test_deliver_submitted_twice_stores_once(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    step2 = reach_step2(driver, root, qualified_step1(application_id))

    first = driver.submit(step2, step2_state(recruiter))
    second = driver.submit(step2, step2_state(recruiter))
    slack.wait_for("chat.postMessage", 2)
    settle_outbox(bot)

    assert first == (200, {"response_action": "clear"})
    assert second == (200, {"response_action": "clear"})
    [(delivery, recipients)], _conversation = stored_deliveries(bot, root)
    assert [r.user_id for r in recipients] == [recruiter]
    assert sorted(outbox_of(bot, delivery.id)) == ["handoff_dm", "thread_card"]
    assert len(thread_cards(slack, root)) == 1
    assert len(dms_to(slack, recruiter)) == 1


def test_deliver_submitted_concurrently_stores_once(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    step2 = reach_step2(driver, root, qualified_step1(application_id))
    payload = submission_of(step2, user=AGENT, values=step2_state(recruiter), trigger_id="1.2.3")

    results = post_concurrently(bot, payload)
    slack.wait_for("chat.postMessage", 2)
    settle_outbox(bot)

    assert results == [(200, {"response_action": "clear"})] * 2
    [(delivery, recipients)], _conversation = stored_deliveries(bot, root)
    assert [r.user_id for r in recipients] == [recruiter]
    assert sorted(outbox_of(bot, delivery.id)) == ["handoff_dm", "thread_card"]
    assert len(thread_cards(slack, root)) == 1
    assert len(dms_to(slack, recruiter)) == 1


def test_second_delivery_chains_to_first(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    deliver_through(driver, root, qualified_step1(application_id), step2_state(recruiter))
    slack.wait_for("chat.postMessage", 2)
    settle_outbox(bot)
    second_step1 = step1_state(
        "not_interested",
        application=f"app:{application_id}",
        reason="Accepted another offer",
        reason_text="Took the other offer after all",
    )

    _step2, response = deliver_through(driver, root, second_step1, step2_state())
    slack.wait_for("chat.postMessage", 2, where=lambda c: c.args.get("thread_ts") == root)
    settle_outbox(bot)

    assert response == {"response_action": "clear"}
    [(first, _), (second, second_recipients)], _conversation = stored_deliveries(bot, root)
    assert first.previous_delivery_id is None
    assert second.previous_delivery_id == first.id
    assert second.status == "not_interested"
    assert second_recipients == []
    first_card, second_card = thread_cards(slack, root)
    assert "Delivered again" not in json.dumps(first_card.args["blocks"])
    again = json.dumps(second_card.args["blocks"])
    assert f"Delivered again. Before: Qualified by <@{AGENT}> on" in again
    assert len(dms_to(slack, recruiter)) == 1


def test_ratelimited_dm_retried_after_retry_after(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    # The thread card goes out first, so the second post is the hand-off DM. Retry-After is
    # longer than the first backoff (2 seconds at most), so only the header explains the wait.
    slack.fail_next("chat.postMessage", status=429, retry_after=3, times=2)

    deliver_through(
        DeliverDriver(bot, slack), root, qualified_step1(application_id), step2_state(recruiter)
    )
    rejected, sent = slack.wait_for(
        "chat.postMessage", 2, timeout=6, where=lambda c: c.args["channel"] == recruiter
    )
    slack.wait_for(
        "chat.postMessage", 2, timeout=6, where=lambda c: c.args.get("thread_ts") == root
    )
    settle_outbox(bot)

    assert (rejected.status, rejected.error) == (429, "ratelimited")
    assert sent.ok, sent.error
    assert sent.at - rejected.at >= 2.9, "the retry came before Retry-After"
    [(delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    messages = outbox_of(bot, delivery.id)
    for kind in ("thread_card", "handoff_dm"):
        assert messages[kind].state == "sent"
        assert messages[kind].attempts == 2
        assert messages[kind].last_error is None
        assert messages[kind].message_ts is not None
    assert recipient.state == "notified"
    assert len(thread_cards(slack, root)) == 2


def test_server_error_dm_retried(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    slack.fail_next("chat.postMessage", status=500, times=2)

    deliver_through(
        DeliverDriver(bot, slack), root, qualified_step1(application_id), step2_state(recruiter)
    )
    # The backoff after a 5xx is 1 to 2 seconds, so either message may go out first.
    rejected, sent = slack.wait_for(
        "chat.postMessage", 2, timeout=8, where=lambda c: c.args["channel"] == recruiter
    )
    slack.wait_for(
        "chat.postMessage", 2, timeout=8, where=lambda c: c.args.get("thread_ts") == root
    )
    settle_outbox(bot)

    assert (rejected.status, rejected.error) == (500, "internal_error")
    assert sent.ok, sent.error
    [(delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    messages = outbox_of(bot, delivery.id)
    assert messages["handoff_dm"].state == "sent"
    assert messages["handoff_dm"].attempts == 2
    assert messages["thread_card"].state == "sent"
    assert recipient.state == "notified"
    assert [c.ok for c in thread_cards(slack, root)] == [False, True]


def test_pending_handoffs_sent_after_restart(slack, db_url, recruiter):
    root = new_ts()
    first = RunningBot(slack, db_url).start(outbox=False)
    try:
        slack.reset()
        _contact_id, [application_id] = seed_contact(first, root)
        _step2, response = deliver_through(
            DeliverDriver(first, slack),
            root,
            qualified_step1(application_id),
            step2_state(recruiter),
        )
        [(delivery, _recipients)], _conversation = stored_deliveries(first, root)
        before_restart = {kind: m.state for kind, m in outbox_of(first, delivery.id).items()}
    finally:
        first.stop()
    assert response == {"response_action": "clear"}
    assert before_restart == {"thread_card": "pending", "handoff_dm": "pending"}
    assert slack.calls_to("chat.postMessage") == []

    second = RunningBot(slack, db_url).start()
    try:
        [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == recruiter)
        [card] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == root)
        settle_outbox(second)
        [(delivery, [recipient])], _conversation = stored_deliveries(second, root)
        messages = outbox_of(second, delivery.id)
    finally:
        second.stop()

    assert dm.ok, dm.error
    assert card.ok, card.error
    assert recipient.state == "notified"
    assert {kind: m.state for kind, m in messages.items()} == {
        "thread_card": "sent",
        "handoff_dm": "sent",
    }
    assert messages["handoff_dm"].attempts == 1


def test_next_submitted_concurrently_keeps_one_draft(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    step1 = qualified_step1(application_id)
    view = driver.open(root)
    status_only = {ids.DELIVER_STATUS_BLOCK: step1[ids.DELIVER_STATUS_BLOCK]}
    view = driver.change(view, ids.DELIVER_STATUS_INPUT, status_only)
    payload = submission_of(view, user=AGENT, values=step1, trigger_id="1.2.3")

    results = post_concurrently(bot, payload)

    assert [status for status, _body in results] == [200, 200]
    assert [body["response_action"] for _status, body in results] == ["push", "push"]
    with bot.session_scope() as session:
        draft = load_draft(session, view["id"])
    assert draft is not None
    assert draft.data["values"]["notes"] == "Strong SQL"


def test_broken_message_does_not_hold_up_others(slack, db_url, recruiter):
    root = new_ts()
    running = RunningBot(slack, db_url).start(outbox=False)
    try:
        _contact_id, [application_id] = seed_contact(running, root)
        deliver_through(
            DeliverDriver(running, slack),
            root,
            qualified_step1(application_id),
            step2_state(recruiter),
        )
        [(delivery, [recipient])], _conversation = stored_deliveries(running, root)
        with running.session_scope() as session:
            # A hand-off row without its user id, which its sender cannot read.
            broken = enqueue(
                session, "handoff_dm", {}, delivery_id=delivery.id, recipient_id=recipient.id
            )
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == broken.id)
                .values(next_attempt_at=utcnow() - timedelta(minutes=1))
            )

        tried = running.outbox.run_once()
        with running.session_scope() as session:
            messages = list_messages(session, delivery.id)
    finally:
        running.stop()

    assert tried == 3
    by_id = {m.id: m for m in messages}
    assert by_id[broken.id].state == "pending"
    assert by_id[broken.id].attempts == 1
    assert "KeyError" in by_id[broken.id].last_error
    assert by_id[broken.id].next_attempt_at > utcnow()
    others = [m for m in messages if m.id != broken.id]
    assert [(m.kind, m.state) for m in others] == [("thread_card", "sent"), ("handoff_dm", "sent")]
    assert len(dms_to(slack, recruiter)) == 1
