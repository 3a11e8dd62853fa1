"""Caret routing end to end: signed events in over HTTP, Web API calls out to the double."""

import pytest

from bot.router import COMMAND_NAMES
from bot.slackdouble.payloads import message_event, new_ts
from storage.conversations import find_conversation
from storage.notes import list_notes
from tests.e2e.test_recording import CANDIDATE, add_contact
from tests.support import AGENT, CHANNEL, TEAM, RunningBot


def command_in_thread(text, *, thread_ts=None, user=AGENT, **options):
    return message_event(
        text, user=user, channel=CHANNEL, thread_ts=thread_ts or new_ts(), **options
    )


def test_help_lists_each_command_ephemerally(bot, slack):
    root = new_ts()

    status = bot.post_and_settle(command_in_thread("^help", thread_ts=root))

    assert status == 200
    [call] = slack.calls_to("chat.postEphemeral")
    assert call.ok, call.error
    assert call.args["user"] == AGENT
    assert call.args["channel"] == CHANNEL
    assert call.args["thread_ts"] == root
    listing = call.args["blocks"][0]["text"]["text"]
    for name in COMMAND_NAMES:
        assert f"`^{name}" in listing
    assert len(listing.splitlines()) == len(COMMAND_NAMES)
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("text", ["^HELP", "^Help", "^help me please"])
def test_help_in_any_letter_case(bot, slack, text):
    bot.post_and_settle(command_in_thread(text))

    [call] = slack.calls_to("chat.postEphemeral")
    assert call.ok, call.error
    assert call.args["text"] == "caretbot commands"


@pytest.mark.parametrize(
    ("word", "suggestion"), [("delivr", "deliver"), ("deliverable", "deliver"), ("clam", "claim")]
)
def test_unknown_command_suggests_closest(bot, slack, word, suggestion):
    bot.post_and_settle(command_in_thread(f"^{word}"))

    [call] = slack.calls_to("chat.postEphemeral")
    assert call.ok, call.error
    heading = call.args["blocks"][0]["text"]["text"]
    assert f"`^{word}` is not a caretbot command" in heading
    assert f"Did you mean `^{suggestion}`?" in heading
    assert "`^help`" in call.args["blocks"][1]["text"]["text"]


def test_top_level_command_answers_in_its_own_thread(bot, slack):
    ts = new_ts()

    bot.post_and_settle(message_event("^help", user=AGENT, channel=CHANNEL, ts=ts))

    [call] = slack.calls_to("chat.postEphemeral")
    assert call.args["thread_ts"] == ts


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_each_command_answers_in_thread(bot, slack, name):
    root = new_ts()
    slack.add_message(CHANNEL, root, AGENT, "New applicant")

    bot.post_and_settle(command_in_thread(f"^{name.upper()} some argument", thread_ts=root))

    answers = slack.calls_to("chat.postEphemeral") + slack.calls_to("chat.postMessage")
    in_thread = [call for call in answers if call.args.get("channel") == CHANNEL]
    assert in_thread, f"^{name} got no answer in the channel"
    for call in in_thread:
        assert call.ok, call.error
        assert call.args["thread_ts"] == root
    assert "is not a caretbot command" not in str([call.args for call in in_thread])


@pytest.mark.parametrize(
    "text",
    [
        "hello, can we talk about the job?",
        "see ^deliver later",
        "^ deliver",
        "^^",
        "^_^",
        "`^deliver`",
        "```^help```",
    ],
)
def test_ordinary_chat_gets_no_answer(bot, slack, text):
    status = bot.post_and_settle(command_in_thread(text))

    assert status == 200
    assert slack.calls == []


@pytest.mark.parametrize(
    "options",
    [
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "bot_message", "bot_id": "B0OTHER", "user": None},
        {"bot_id": "B0OTHER"},
        {"user": None},
        {"user": "UBOTDOUBLE"},
        {"subtype": "channel_join"},
    ],
)
def test_ignored_events_get_no_answer(bot, slack, options):
    status = bot.post_and_settle(command_in_thread("^help", **options))

    assert status == 200
    assert slack.calls == []


def test_retried_event_is_handled_once(bot, slack):
    event = command_in_thread("^help")

    first = bot.post_and_settle(event)
    second = bot.post_and_settle(event, retry_num=1, retry_reason="http_timeout")

    assert (first, second) == (200, 200)
    assert len(slack.calls_to("chat.postEphemeral")) == 1


def test_redelivery_without_retry_header_is_handled_once(bot, slack):
    event = command_in_thread("^help")

    bot.post_and_settle(event)
    bot.post_and_settle(event)

    assert len(slack.calls_to("chat.postEphemeral")) == 1


def test_event_handled_once_across_restart(bot, slack, db_url):
    event = command_in_thread("^help")
    bot.post_and_settle(event)
    bot.stop()

    restarted = RunningBot(slack, db_url).start()
    try:
        restarted.post_and_settle(event)
    finally:
        restarted.stop()

    assert len(slack.calls_to("chat.postEphemeral")) == 1


@pytest.mark.parametrize("text", ["^transcript", "^note hello", "^help", "^stat"])
def test_contact_command_gets_no_answer(bot, slack, text):
    add_contact(bot)
    slack.add_user(CANDIDATE, "cara", real_name="Cara Candidate")
    root = new_ts()

    bot.post_and_settle(command_in_thread(text, thread_ts=root, user=CANDIDATE))
    bot.post_and_settle(command_in_thread("^help", thread_ts=root))

    # Only the agent's ^help is answered; the candidate's command leaves no trace.
    [answer] = slack.calls_to("chat.postEphemeral")
    assert answer.args["user"] == AGENT
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("files.getUploadURLExternal") == []
    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root
        )
        assert list_notes(session, conversation.id) == []
