"""Backfill end to end: a thread caretbot joined late, read from Slack's history once."""

import time

from slack_sdk import WebClient

from bot.backfill import BACKFILLED_EVENT, MAX_RATE_LIMIT_RETRIES, PAGE_LIMIT, ensure_backfilled
from bot.commands.transcript import PREPARING_TEXT, SENT_TEXT
from bot.slackdouble.payloads import DEFAULT_BOT_ID, DEFAULT_BOT_USER_ID, message_event
from bot.threads import ThreadRef
from storage.conversations import find_conversation, list_events
from storage.messages import list_messages
from tests.e2e.test_recording import CANDIDATE, add_contact, conversation_of, messages_of
from tests.e2e.test_transcript import (
    ROOT_SECONDS,
    ephemeral_texts,
    send_transcript_command,
    uploaded_transcript,
)
from tests.support import AGENT, CHANNEL, TEAM


def ts_of(index):
    return f"{ROOT_SECONDS + index}.000100"


def seed_history(slack, count, *, channel=CHANNEL, **fields):
    """Seed a thread of `count` messages in the double only, as if caretbot had been away.

    caretbot writes every fifth reply, the candidate the root and every other third reply,
    and the agent the rest. Return the root ts.
    """
    root = ts_of(0)
    slack.add_message(channel, root, CANDIDATE, "message 0", **fields)
    for index in range(1, count):
        text = f"message {index}"
        if index % 5 == 0:
            slack.add_message(
                channel, ts_of(index), DEFAULT_BOT_USER_ID, text, root, bot_id=DEFAULT_BOT_ID
            )
        elif index % 3 == 0:
            slack.add_message(channel, ts_of(index), CANDIDATE, text, root, **fields)
        else:
            slack.add_message(channel, ts_of(index), AGENT, text, root)
    return root


def backfilled_events(bot, root):
    with bot.session_scope() as session:
        events = list_events(session, conversation_of(bot, root).id)
        return [event.detail for event in events if event.kind == BACKFILLED_EVENT]


def expected_side(index):
    if index % 5 == 0 and index != 0:
        return "bot"
    return "contact" if index % 3 == 0 else "team"


# Paging


def test_backfill_pages_through_thread(bot, slack):
    add_contact(bot)
    root = seed_history(slack, 450)

    command_ts = send_transcript_command(bot, slack, root)

    stored = messages_of(bot, root)
    assert len(stored) == 451
    assert len({message.ts for message in stored}) == 451
    assert [m.ts for m in stored if m.ts != command_ts] == [ts_of(i) for i in range(450)]
    sides = {message.ts: message.side for message in stored}
    assert [sides[ts_of(i)] for i in range(450)] == [expected_side(i) for i in range(450)]
    assert backfilled_events(bot, root) == [{"pages": 3, "messages_added": 450}]


def test_backfill_follows_cursor(bot, slack):
    root = seed_history(slack, 450)

    send_transcript_command(bot, slack, root)

    calls = slack.calls_to("conversations.replies")
    assert len(calls) == 3
    assert [call.ok for call in calls] == [True, True, True]
    assert "cursor" not in calls[0].args
    assert [len(call.response["messages"]) for call in calls] == [PAGE_LIMIT, PAGE_LIMIT, 51]
    for previous, call in zip(calls, calls[1:], strict=False):
        assert call.args["cursor"] == previous.response["response_metadata"]["next_cursor"]
        assert call.args["ts"] == root
        assert call.args["limit"] == str(PAGE_LIMIT)
    assert calls[-1].response["has_more"] is False


def test_backfilled_messages_in_transcript(bot, slack):
    root = seed_history(slack, 450)

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    lines = text.splitlines()
    body = lines[lines.index("") + 1 :]
    assert len(body) == 451
    assert body[0].endswith("U0CANDIDATE: message 0")
    assert body[5].endswith("caretbot (bot): message 5")
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_second_transcript_reads_no_history(bot, slack):
    root = seed_history(slack, 450)
    send_transcript_command(bot, slack, root)
    slack.reset()

    send_transcript_command(bot, slack, root)

    assert slack.calls_to("conversations.replies") == []
    assert slack.calls_to("conversations.info") == []
    assert len(messages_of(bot, root)) == 452
    assert len(backfilled_events(bot, root)) == 1
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_ensure_backfilled_returns_added_count(bot, slack):
    root = seed_history(slack, 30)
    client = WebClient(token=slack.bot_token, base_url=slack.base_url)
    thread = ThreadRef(team=TEAM, channel=CHANNEL, thread_ts=root)

    first = ensure_backfilled(
        bot.session_scope, client, thread, bot_user_id=DEFAULT_BOT_USER_ID, bot_id=DEFAULT_BOT_ID
    )
    second = ensure_backfilled(
        bot.session_scope, client, thread, bot_user_id=DEFAULT_BOT_USER_ID, bot_id=DEFAULT_BOT_ID
    )

    assert first == 30
    assert second == 0
    assert len(slack.calls_to("conversations.replies")) == 1


def test_backfill_adds_only_missing_messages(bot, slack):
    root = seed_history(slack, 5)
    bot.post_and_settle(message_event("message 0", user=CANDIDATE, channel=CHANNEL, ts=root))
    [live] = messages_of(bot, root)

    send_transcript_command(bot, slack, root)

    stored = messages_of(bot, root)
    assert len(stored) == 6
    assert stored[0].id == live.id
    assert stored[0].received_at == live.received_at
    assert backfilled_events(bot, root) == [{"pages": 1, "messages_added": 4}]


# Side rules


def test_backfill_side_from_metadata(bot, slack):
    contact_id = add_contact(bot, slack_user_id="U0UNLINKED")
    root = ts_of(0)
    slack.add_message(CHANNEL, root, AGENT, "Hello")
    slack.add_message(
        CHANNEL,
        ts_of(1),
        "U0FORMS",
        "Form answer",
        root,
        bot_id="B0FORMS",
        subtype="bot_message",
        metadata={"event_type": "form", "event_payload": {"contact_id": str(contact_id)}},
    )

    send_transcript_command(bot, slack, root)

    [call] = slack.calls_to("conversations.replies")
    assert call.args["include_all_metadata"] in ("1", "true", "True")
    sides = {message.ts: message.side for message in messages_of(bot, root)}
    assert sides[ts_of(1)] == "contact"
    assert sides[root] == "team"


def test_backfill_side_in_shared_channel(bot, slack):
    shared = "C0SHARED"
    slack.add_channel(shared, "shared-candidates", members=[AGENT], is_ext_shared=True)
    root = ts_of(0)
    slack.add_message(shared, root, "U0OUTSIDE", "Hi from outside", user_team="T0OTHER")
    slack.add_message(shared, ts_of(1), AGENT, "Welcome", root, user_team=TEAM)

    payload_ts = ts_of(2)
    slack.add_message(shared, payload_ts, AGENT, "^transcript", root)
    bot.post_and_settle(
        message_event("^transcript", user=AGENT, channel=shared, ts=payload_ts, thread_ts=root)
    )

    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=shared, thread_ts=root
        )
        sides = {m.ts: m.side for m in list_messages(session, conversation.id)}
    assert sides == {root: "contact", ts_of(1): "team", payload_ts: "team"}


def test_backfill_skips_joins(bot, slack):
    root = seed_history(slack, 3)
    slack.add_message(CHANNEL, ts_of(3), AGENT, "joined", root, subtype="channel_join")

    send_transcript_command(bot, slack, root)

    assert ts_of(3) not in {message.ts for message in messages_of(bot, root)}
    assert backfilled_events(bot, root) == [{"pages": 1, "messages_added": 3}]


# Rate limits and errors


def test_backfill_retries_after_429(bot, slack):
    root = seed_history(slack, 450)
    slack.fail_next("conversations.replies", status=429, retry_after=1)

    started = time.monotonic()
    send_transcript_command(bot, slack, root)
    elapsed = time.monotonic() - started

    calls = slack.calls_to("conversations.replies")
    assert [call.status for call in calls] == [429, 200, 200, 200]
    assert "cursor" not in calls[1].args
    assert elapsed >= 1
    assert len(messages_of(bot, root)) == 451
    assert backfilled_events(bot, root) == [{"pages": 3, "messages_added": 450}]
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_backfill_gives_up_on_rate_limit(bot, slack):
    root = seed_history(slack, 10)
    slack.fail_next(
        "conversations.replies", status=429, retry_after=0, times=MAX_RATE_LIMIT_RETRIES + 1
    )

    send_transcript_command(bot, slack, root)

    calls = slack.calls_to("conversations.replies")
    assert [call.status for call in calls] == [429] * (MAX_RATE_LIMIT_RETRIES + 1)
    assert backfilled_events(bot, root) == []
    texts = ephemeral_texts(slack)
    assert texts[0] == PREPARING_TEXT
    assert texts[1].startswith(f"{SENT_TEXT}. It may lack messages")
    assert "rate-limiting" in texts[1]
    _, text = uploaded_transcript(slack)
    lines = text.splitlines()
    [only] = lines[lines.index("") + 1 :]
    assert only.endswith("^transcript")


def test_backfill_retried_after_giving_up(bot, slack):
    root = seed_history(slack, 10)
    slack.fail_next(
        "conversations.replies", status=429, retry_after=0, times=MAX_RATE_LIMIT_RETRIES + 1
    )
    send_transcript_command(bot, slack, root)
    slack.reset()

    send_transcript_command(bot, slack, root)

    assert [call.status for call in slack.calls_to("conversations.replies")] == [200]
    assert backfilled_events(bot, root) == [{"pages": 1, "messages_added": 10}]
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_backfill_error_named_to_user(bot, slack):
    root = seed_history(slack, 3)
    slack.fail_next("conversations.replies", status=200, error="not_in_channel")

    send_transcript_command(bot, slack, root)

    texts = ephemeral_texts(slack)
    assert "(not_in_channel)" in texts[1]
    assert "Invite caretbot to the channel" in texts[1]
    assert backfilled_events(bot, root) == []


def test_backfill_of_unknown_thread_runs_once(bot, slack):
    root = ts_of(0)

    send_transcript_command(bot, slack, root, seed=False)
    send_transcript_command(bot, slack, root, seed=False)

    assert len(slack.calls_to("conversations.replies")) == 1
    assert backfilled_events(bot, root) == [
        {"pages": 0, "messages_added": 0, "outcome": "thread_not_found"}
    ]
    assert ephemeral_texts(slack).count(SENT_TEXT) == 2
