"""Message recording in batches: many events stored in one transaction, end to end.

The writer of these bots waits WINDOW seconds after the first event of a batch, so every
event posted before the next settle (which flushes the writer) is stored in one batch.
"""

import copy
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import sqlalchemy as sa
from slack_bolt import BoltContext

from bot import serving
from bot.app import build_web_client
from bot.recording import MessageRecorder
from bot.slackdouble.payloads import (
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USER_ID,
    message_event,
    new_event_id,
    new_ts,
)
from storage.claims import set_autoclaim
from storage.conversations import list_events
from storage.models import Conversation, Message
from tests.e2e.test_recording import (
    CANDIDATE,
    add_contact,
    conversation_of,
    delete_event,
    edit_event,
    messages_of,
    reactions_on,
)
from tests.support import AGENT, CHANNEL, OTHER_AGENT, TEAM, RunningBot

WINDOW = 5.0


@pytest.fixture
def batching_bot(slack, db_url, monkeypatch):
    """caretbot over HTTP whose message writer waits WINDOW seconds for each batch to fill."""
    monkeypatch.setattr(serving, "MessageRecorder", partial(MessageRecorder, batch_window=WINDOW))
    running = RunningBot(slack, db_url).start()
    slack.reset()
    yield running
    running.stop()


@pytest.fixture
def batch_log(caplog):
    """The writer's "message batch stored" lines, one per committed batch."""
    caplog.set_level(logging.DEBUG, logger="bot.recording")

    def stored_batches():
        return [
            record.getMessage()
            for record in caplog.records
            if record.getMessage().startswith("message batch stored")
        ]

    return stored_batches


def post_all(bot, payloads):
    """Post the payloads from several threads at once; wait only for the responses."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda payload: bot.post(payload)[0], payloads))
    assert statuses == [200] * len(payloads)


def seed_thread(bot, slack, text, *, user):
    """Post a top-level message and wait until it is stored; return its ts."""
    ts = new_ts()
    slack.add_message(CHANNEL, ts, user, text)
    bot.post_and_settle(message_event(text, user=user, channel=CHANNEL, ts=ts))
    return ts


def in_thread(root, text, *, user, **options):
    return message_event(text, user=user, channel=CHANNEL, thread_ts=root, **options)


def count_rows(bot, model):
    with bot.session_scope() as session:
        return session.exec(sa.select(sa.func.count()).select_from(model)).one()[0]


# Many events in one batch


def test_threads_stored_in_one_batch(batching_bot, slack, batch_log):
    roots = [new_ts() for _ in range(3)]
    payloads = [
        message_event(f"Opening {index}", user=AGENT, channel=CHANNEL, ts=root)
        for index, root in enumerate(roots)
    ]
    for turn in range(10):
        for root in roots:
            payloads.append(in_thread(root, f"reply {turn}", user=OTHER_AGENT))

    post_all(batching_bot, payloads)
    batching_bot.executor.wait_idle()

    [batch] = batch_log()
    assert batch.startswith("message batch stored events=33 inserted=33 changes=0 ")
    assert count_rows(batching_bot, Conversation) == 3
    for index, root in enumerate(roots):
        stored = messages_of(batching_bot, root)
        assert [m.text for m in stored] == [f"Opening {index}"] + [
            f"reply {turn}" for turn in range(10)
        ]
        assert {m.side for m in stored} == {"team"}
        assert {m.thread_ts for m in stored} == {root}


def test_batch_keeps_sides(batching_bot, slack, batch_log):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "We have a role for you", user=AGENT)
    payloads = [
        in_thread(root, "Sounds good", user=CANDIDATE),
        in_thread(root, "JIRA-7 created", user=None, bot_id="B0JIRA", subtype="bot_message"),
        in_thread(root, "Noted", user=DEFAULT_BOT_USER_ID, bot_id=DEFAULT_BOT_ID),
    ]
    for payload in payloads:
        batching_bot.post(payload)

    batching_bot.executor.wait_idle()

    assert len(batch_log()) == 2
    sides = {m.text: m.side for m in messages_of(batching_bot, root)}
    assert sides == {
        "We have a role for you": "team",
        "Sounds good": "contact",
        "JIRA-7 created": "team",
        "Noted": "bot",
    }
    assert conversation_of(batching_bot, root).unread is True
    assert len(slack.calls_to("reactions.add")) == 1


def test_edit_and_deletion_in_batch_of_message(batching_bot, slack, batch_log):
    root = seed_thread(batching_bot, slack, "Question", user=AGENT)
    edited = in_thread(root, "Salary is 50k", user=AGENT)
    deleted = in_thread(root, "Wrong thread", user=AGENT)
    edited_ts = edited["event"]["ts"]
    deleted_ts = deleted["event"]["ts"]

    for payload in (
        edited,
        deleted,
        edit_event(
            edited_ts, "Salary is 55k", user=AGENT, previous_text="Salary is 50k", thread_ts=root
        ),
        delete_event(deleted_ts, user=AGENT, previous_text="Wrong thread", thread_ts=root),
    ):
        batching_bot.post(payload)
    batching_bot.executor.wait_idle()

    assert len(batch_log()) == 2
    stored = {m.ts: m for m in messages_of(batching_bot, root)}
    assert stored[edited_ts].text == "Salary is 55k"
    assert stored[edited_ts].edited_at is not None
    assert stored[deleted_ts].deleted_at is not None
    assert stored[deleted_ts].text == "Wrong thread"


# Redeliveries


def test_redelivery_in_same_batch_stored_once(batching_bot, slack, batch_log):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    payload = in_thread(root, "Hi!", user=CANDIDATE)
    redelivered = copy.deepcopy(payload)
    redelivered["event_id"] = new_event_id()

    batching_bot.post(payload)
    batching_bot.post(payload, retry_num=1, retry_reason="http_timeout")
    batching_bot.post(redelivered)
    batching_bot.executor.wait_idle()

    [_, batch] = batch_log()
    assert batch.startswith("message batch stored events=3 inserted=1 ")
    assert [m.text for m in messages_of(batching_bot, root)] == ["Hello", "Hi!"]
    assert len(slack.calls_to("reactions.add")) == 1


def test_redelivery_of_stored_message_changes_nothing(batching_bot, slack):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    contact_message = in_thread(root, "Hi!", user=CANDIDATE)
    batching_bot.post_and_settle(contact_message)
    batching_bot.post_and_settle(in_thread(root, "Hi Cara", user=OTHER_AGENT))
    slack.reset()

    # Slack resends the contact's message after the team replied, and the thread stays read.
    batching_bot.post_and_settle(contact_message, retry_num=1, retry_reason="http_timeout")

    assert conversation_of(batching_bot, root).unread is False
    assert len(messages_of(batching_bot, root)) == 3
    assert slack.calls == []


# The unread state of a batch


def test_contact_then_team_reply_in_one_batch(batching_bot, slack, batch_log):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)

    batching_bot.post(in_thread(root, "Is the job open?", user=CANDIDATE))
    batching_bot.post(in_thread(root, "Yes, it is", user=OTHER_AGENT))
    batching_bot.executor.wait_idle()

    assert len(batch_log()) == 2
    conversation = conversation_of(batching_bot, root)
    assert conversation.unread is False
    assert conversation.unread_since is None
    # The marker that the contact's message would add, the reply would take off again.
    assert slack.calls_to("reactions.add") == []
    assert slack.calls_to("reactions.remove") == []
    assert reactions_on(slack, root) == {}


def test_team_reply_then_contact_in_one_batch(batching_bot, slack, batch_log):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    before = time.time()

    batching_bot.post(in_thread(root, "Any questions?", user=OTHER_AGENT))
    batching_bot.post(in_thread(root, "Yes, one", user=CANDIDATE))
    batching_bot.executor.wait_idle()

    assert len(batch_log()) == 2
    conversation = conversation_of(batching_bot, root)
    assert conversation.unread is True
    assert conversation.unread_since.timestamp() >= before
    [added] = slack.calls_to("reactions.add")
    assert added.ok, added.error
    assert added.args["timestamp"] == root
    assert reactions_on(slack, root) == {"red_circle": [DEFAULT_BOT_USER_ID]}


def test_waiting_thread_answered_then_asked_again(batching_bot, slack):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    batching_bot.post_and_settle(in_thread(root, "First question", user=CANDIDATE))
    first_since = conversation_of(batching_bot, root).unread_since
    slack.reset()

    batching_bot.post(in_thread(root, "Answer", user=OTHER_AGENT))
    batching_bot.post(in_thread(root, "Second question", user=CANDIDATE))
    batching_bot.executor.wait_idle()

    conversation = conversation_of(batching_bot, root)
    assert conversation.unread is True
    # The wait now starts at the second question, as when the messages came one by one.
    assert conversation.unread_since > first_since
    # The marker was on and stays on, so Slack needs no call.
    assert slack.calls == []


def test_autoclaim_once_per_batch(batching_bot, slack):
    add_contact(batching_bot)
    with batching_bot.session_scope() as session:
        set_autoclaim(session, TEAM, OTHER_AGENT, True, updated_by=OTHER_AGENT)
    root = seed_thread(batching_bot, slack, "Is the job still open?", user=CANDIDATE)
    slack.reset()

    batching_bot.post(in_thread(root, "Yes it is!", user=OTHER_AGENT))
    batching_bot.post(in_thread(root, "Shall we talk on Monday?", user=OTHER_AGENT))
    batching_bot.executor.wait_idle()

    conversation = conversation_of(batching_bot, root)
    assert conversation.claimed_by == OTHER_AGENT
    assert conversation.unread is False
    claims = [call.args["text"] for call in slack.calls_to("chat.postMessage")]
    assert claims == ["Claimed by <@U0AGENT2>"]
    with batching_bot.session_scope() as session:
        events = [(e.kind, e.actor) for e in list_events(session, conversation.id)]
    assert events == [("claimed", OTHER_AGENT)]
    [removed] = slack.calls_to("reactions.remove")
    assert removed.args["timestamp"] == root


# Commands wait for the writer


def test_command_sees_messages_queued_before_it(batching_bot, slack):
    add_contact(batching_bot)
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    started = time.monotonic()

    batching_bot.post(in_thread(root, "Hi", user=CANDIDATE))
    batching_bot.post(in_thread(root, "^read", user=OTHER_AGENT))
    batching_bot.executor.wait_idle()

    # The command's message ends the writer's wait, so nothing waited for WINDOW seconds.
    assert time.monotonic() - started < WINDOW
    conversation = conversation_of(batching_bot, root)
    assert conversation.unread is False
    assert conversation.read_by == OTHER_AGENT
    with batching_bot.session_scope() as session:
        details = [e.detail for e in list_events(session, conversation.id)]
    assert details == [{"was_unread": True}]
    # reactions.add went out before the command's reactions.remove.
    assert [call.method for call in slack.calls if call.method.startswith("reactions.")] == [
        "reactions.add",
        "reactions.remove",
    ]
    assert reactions_on(slack, root) == {}


# Shutdown


def test_stop_stores_queued_messages(batching_bot, slack):
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    payloads = [in_thread(root, f"reply {index}", user=OTHER_AGENT) for index in range(20)]
    post_all(batching_bot, payloads)
    started = time.monotonic()

    batching_bot.stop()

    assert time.monotonic() - started < WINDOW
    assert count_rows(batching_bot, Message) == 21
    assert [m.text for m in messages_of(batching_bot, root)][1:] == [
        f"reply {index}" for index in range(20)
    ]


def test_event_after_stop_stored_at_once(batching_bot, slack):
    root = seed_thread(batching_bot, slack, "Hello", user=AGENT)
    batching_bot.stop()
    context = BoltContext(bot_user_id=DEFAULT_BOT_USER_ID, bot_id=DEFAULT_BOT_ID)
    client = build_web_client(batching_bot.settings)

    batching_bot.recorder.enqueue(in_thread(root, "Late", user=OTHER_AGENT), context, client)

    assert [m.text for m in messages_of(batching_bot, root)] == ["Hello", "Late"]
