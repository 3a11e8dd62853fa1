"""^note end to end: inline notes, the modal from the button and from the shortcut."""

import json
import time

import pytest

from bot import ids
from bot.slackdouble.payloads import (
    block_actions,
    message_event,
    message_shortcut,
    new_ts,
    submission_of,
)
from storage.conversations import find_conversation
from storage.notes import list_notes
from tests.support import AGENT, CHANNEL, TEAM


def notes_of(bot, thread_ts):
    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=thread_ts
        )
        if conversation is None:
            return []
        return [(note.actor, note.detail["text"]) for note in list_notes(session, conversation.id)]


def test_inline_note_is_stored_and_not_repeated(bot, slack):
    root = new_ts()
    text = "Prefers calls after 4pm &lt;@U0BOSS&gt;"

    bot.post_and_settle(message_event(f"^note {text}", user=AGENT, channel=CHANNEL, thread_ts=root))

    assert notes_of(bot, root) == [(AGENT, text)]
    [call] = slack.calls_to("chat.postEphemeral")
    assert call.args["text"] == "Note saved. Only your team can see it."
    assert "4pm" not in json.dumps([c.args for c in slack.calls])
    assert slack.calls_to("chat.postMessage") == []


def test_note_too_long_is_rejected_with_limit(bot, slack):
    root = new_ts()

    bot.post_and_settle(
        message_event("^note " + "x" * 3001, user=AGENT, channel=CHANNEL, thread_ts=root)
    )

    assert notes_of(bot, root) == []
    [call] = slack.calls_to("chat.postEphemeral")
    assert "3001 characters; the limit is 3000" in call.args["text"]


def open_note_modal_from_button(bot, slack, root):
    bot.post_and_settle(message_event("^note", user=AGENT, channel=CHANNEL, thread_ts=root))
    [offer] = slack.calls_to("chat.postEphemeral")
    button = offer.args["blocks"][1]["elements"][0]
    assert button["action_id"] == ids.OPEN_NOTE_MODAL

    status = bot.post_and_settle(
        block_actions(
            ids.OPEN_NOTE_MODAL,
            user=AGENT,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
            channel=CHANNEL,
        )
    )
    assert status == 200
    [opened] = slack.calls_to("views.open")
    assert opened.ok, opened.error
    return opened.response["view"]


def note_values(text):
    return {ids.NOTE_BLOCK: {ids.NOTE_INPUT: {"type": "plain_text_input", "value": text}}}


def test_note_modal_from_button_stores_note(bot, slack):
    root = new_ts()
    view = open_note_modal_from_button(bot, slack, root)
    slack.reset()

    status, _headers, body = bot.post(
        submission_of(view, user=AGENT, values=note_values("  Strong SQL.  "), trigger_id="t")
    )
    bot.executor.wait_idle()

    assert status == 200
    assert body == b""
    assert notes_of(bot, root) == [(AGENT, "Strong SQL.")]
    [confirmation] = slack.calls_to("chat.postEphemeral")
    assert confirmation.args["thread_ts"] == root


def test_blank_note_comes_back_inline(bot, slack):
    root = new_ts()
    view = open_note_modal_from_button(bot, slack, root)

    status, _headers, body = bot.post(
        submission_of(view, user=AGENT, values=note_values("   "), trigger_id="t")
    )
    bot.executor.wait_idle()

    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {ids.NOTE_BLOCK: "Write the note before saving."},
    }
    assert notes_of(bot, root) == []


def test_note_shortcut_opens_modal_for_thread(bot, slack):
    root = new_ts()

    bot.post_and_settle(
        message_shortcut(
            ids.SHORTCUT_NOTE,
            user=AGENT,
            channel=CHANNEL,
            message_ts=new_ts(),
            thread_ts=root,
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
        )
    )

    [opened] = slack.calls_to("views.open")
    assert opened.ok, opened.error
    assert json.loads(opened.response["view"]["private_metadata"])["thread_ts"] == root


@pytest.mark.parametrize("stale", ["expired", "reused"])
def test_stale_trigger_tells_user_to_retry(bot, slack, stale):
    root = new_ts()
    bot.post_and_settle(message_event("^note", user=AGENT, channel=CHANNEL, thread_ts=root))
    [offer] = slack.calls_to("chat.postEphemeral")
    value = offer.args["blocks"][1]["elements"][0]["value"]
    trigger_id = slack.issue_trigger_id(user_id=AGENT)
    if stale == "expired":
        slack.trigger_ttl = 0.05
        time.sleep(0.1)
    else:
        slack.reset()
        bot.post_and_settle(
            block_actions(
                ids.OPEN_NOTE_MODAL, user=AGENT, value=value, trigger_id=trigger_id, channel=CHANNEL
            )
        )
    slack.reset()

    bot.post_and_settle(
        block_actions(
            ids.OPEN_NOTE_MODAL, user=AGENT, value=value, trigger_id=trigger_id, channel=CHANNEL
        )
    )

    [attempt] = slack.calls_to("views.open")
    assert attempt.ok is False
    [told] = slack.calls_to("chat.postEphemeral")
    assert told.args["user"] == AGENT
    assert "click the button again" in told.args["text"]
    assert notes_of(bot, root) == []
