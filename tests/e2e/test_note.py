"""^note end to end: inline notes, the modal from the button and from the shortcut."""

import json
import logging
import time

import pytest
from slack_sdk import WebClient

from bot import ids
from bot.commands.note import (
    DELETED_TEXT,
    NOT_DELETED_TEXT,
    SAVED_TEXT,
    UNCHECKED_TEXT,
    VISIBLE_TEXT,
    ChannelSharing,
    has_external_members,
)
from bot.slackdouble.payloads import (
    block_actions,
    message_event,
    message_shortcut,
    new_ts,
    submission_of,
)
from storage.conversations import find_conversation
from storage.notes import list_notes
from tests.support import AGENT, CHANNEL, OTHER_AGENT, TEAM, RunningBot


def notes_of(bot, thread_ts, channel=CHANNEL):
    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=channel, thread_ts=thread_ts
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


# ^note <text> in a channel shared with another organization (Slack Connect).

SHARED = "C0SHAREDACME"
SECRET = "Asks 95k, would take 85k"


@pytest.fixture
def shared_channel(slack):
    """A Slack Connect channel with both agents in it."""
    slack.add_channel(SHARED, "candidates-acme", members=[AGENT, OTHER_AGENT], is_ext_shared=True)
    return SHARED


@pytest.fixture
def admin_bot(slack, db_url):
    """caretbot as the `bot` fixture serves it, with SLACK_USER_TOKEN set."""
    running = RunningBot(slack, db_url, env={"SLACK_USER_TOKEN": slack.user_token})
    running.start()
    slack.reset()
    yield running
    running.stop()


def type_note(bot, slack, channel, root, text=SECRET):
    """Post `^note <text>` as the agent in the thread, and return the command message's ts."""
    ts = new_ts()
    slack.add_message(channel, ts, AGENT, f"^note {text}", thread_ts=root)
    bot.post_and_settle(
        message_event(f"^note {text}", user=AGENT, channel=channel, ts=ts, thread_ts=root)
    )
    return ts


def assert_never_posted(slack, text):
    for method in ("chat.postMessage", "chat.postEphemeral"):
        posted = json.dumps([call.args for call in slack.calls_to(method)])
        assert text not in posted, method


def ephemeral_texts(slack):
    return [call.args["text"] for call in slack.calls_to("chat.postEphemeral")]


@pytest.mark.parametrize("place", ["reply", "root"])
def test_shared_note_deleted_with_user_token(admin_bot, slack, shared_channel, place):
    root = new_ts()
    slack.add_message(shared_channel, root, "U0CASEY", "Hi, I applied last week")
    if place == "root":
        root = None

    ts = type_note(admin_bot, slack, shared_channel, root)

    assert notes_of(admin_bot, root or ts, shared_channel) == [(AGENT, SECRET)]
    [delete] = slack.calls_to("chat.delete")
    assert delete.args == {"channel": shared_channel, "ts": ts}
    assert delete.ok, delete.error
    assert ts not in [message["ts"] for message in slack.messages_in(shared_channel)]
    [confirmation] = slack.calls_to("chat.postEphemeral")
    assert confirmation.args["text"] == DELETED_TEXT
    assert confirmation.args["user"] == AGENT
    if place == "root":
        assert "thread_ts" not in confirmation.args
    assert_never_posted(slack, SECRET)


def test_shared_note_without_user_token_warns(bot, slack, shared_channel):
    root = new_ts()

    ts = type_note(bot, slack, shared_channel, root)

    assert notes_of(bot, root, shared_channel) == [(AGENT, SECRET)]
    [info] = slack.calls_to("conversations.info")
    assert info.args["channel"] == shared_channel
    assert slack.calls_to("chat.delete") == []
    assert ts in [message["ts"] for message in slack.messages_in(shared_channel)]
    [warning] = slack.calls_to("chat.postEphemeral")
    assert warning.args["text"] == VISIBLE_TEXT
    assert warning.args["user"] == AGENT
    assert warning.args["thread_ts"] == root
    assert "`^note` alone" in warning.args["text"]
    assert_never_posted(slack, SECRET)


@pytest.mark.parametrize("error", ["cant_delete_message", "message_not_found"])
def test_failed_delete_warns(admin_bot, slack, shared_channel, caplog, error):
    caplog.set_level(logging.DEBUG)
    root = new_ts()
    slack.fail_next("chat.delete", status=200, error=error)

    ts = type_note(admin_bot, slack, shared_channel, root)

    assert notes_of(admin_bot, root, shared_channel) == [(AGENT, SECRET)]
    [delete] = slack.calls_to("chat.delete")
    assert delete.args == {"channel": shared_channel, "ts": ts}
    assert delete.error == error
    assert ephemeral_texts(slack) == [NOT_DELETED_TEXT]
    assert_never_posted(slack, SECRET)
    assert f"note command not deleted team={TEAM} channel={shared_channel}" in caplog.text
    assert f"error={error}" in caplog.text
    assert slack.user_token not in caplog.text
    assert SECRET not in caplog.text


def test_unshared_note_with_user_token_unchanged(admin_bot, slack):
    root = new_ts()

    type_note(admin_bot, slack, CHANNEL, root)

    assert notes_of(admin_bot, root) == [(AGENT, SECRET)]
    assert slack.calls_to("chat.delete") == []
    assert ephemeral_texts(slack) == [SAVED_TEXT]
    assert_never_posted(slack, SECRET)


def test_sharing_looked_up_once_per_channel(bot, slack, shared_channel):
    root = new_ts()

    type_note(bot, slack, shared_channel, root, text="First note")
    type_note(bot, slack, shared_channel, root, text="Second note")
    type_note(bot, slack, CHANNEL, new_ts(), text="Third note")

    infos = slack.calls_to("conversations.info")
    assert [call.args["channel"] for call in infos] == [shared_channel, CHANNEL]
    assert ephemeral_texts(slack) == [VISIBLE_TEXT, VISIBLE_TEXT, SAVED_TEXT]


def test_failed_sharing_lookup_warns_uncached(admin_bot, slack, shared_channel):
    root = new_ts()
    slack.fail_next("conversations.info", status=200, error="missing_scope")

    type_note(admin_bot, slack, shared_channel, root, text="First note")
    first_infos = len(slack.calls_to("conversations.info"))
    first_deletes = len(slack.calls_to("chat.delete"))
    first_replies = ephemeral_texts(slack)
    type_note(admin_bot, slack, shared_channel, root, text="Second note")

    assert notes_of(admin_bot, root, shared_channel) == [
        (AGENT, "First note"),
        (AGENT, "Second note"),
    ]
    assert first_infos == 1
    assert first_deletes == 0
    assert first_replies == [UNCHECKED_TEXT]
    assert len(slack.calls_to("conversations.info")) == 2
    assert len(slack.calls_to("chat.delete")) == 1


def test_note_alone_in_shared_channel_unchanged(admin_bot, slack, shared_channel):
    root = new_ts()

    admin_bot.post_and_settle(
        message_event("^note", user=AGENT, channel=shared_channel, thread_ts=root)
    )
    [offer] = slack.calls_to("chat.postEphemeral")
    button = offer.args["blocks"][1]["elements"][0]
    admin_bot.post_and_settle(
        block_actions(
            ids.OPEN_NOTE_MODAL,
            user=AGENT,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
            channel=shared_channel,
        )
    )
    [opened] = slack.calls_to("views.open")
    status, _headers, _body = admin_bot.post(
        submission_of(
            opened.response["view"], user=AGENT, values=note_values(SECRET), trigger_id="t"
        )
    )
    admin_bot.executor.wait_idle()

    assert status == 200
    assert notes_of(admin_bot, root, shared_channel) == [(AGENT, SECRET)]
    assert slack.calls_to("conversations.info") == []
    assert slack.calls_to("chat.delete") == []
    assert ephemeral_texts(slack)[-1] == SAVED_TEXT
    assert_never_posted(slack, SECRET)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"is_shared": True, "is_ext_shared": True}, True),
        ({"is_pending_ext_shared": True}, True),
        # Shared between workspaces of one Enterprise Grid organization: colleagues only.
        ({"is_shared": True, "is_org_shared": True, "is_ext_shared": False}, False),
        ({"is_shared": False, "is_ext_shared": False, "is_pending_ext_shared": False}, False),
        ({"is_im": True}, False),
    ],
)
def test_external_members_read_from_info(fields, expected):
    assert has_external_members({"id": SHARED, **fields}) is expected


def test_sharing_cache_expires_and_is_bounded(slack, shared_channel):
    client = WebClient(token=slack.bot_token, base_url=slack.base_url)
    now = [1000.0]
    sharing = ChannelSharing(max_age=300, max_channels=2, clock=lambda: now[0])

    def looked_up():
        return [call.args["channel"] for call in slack.calls_to("conversations.info")]

    assert sharing.is_shared_externally(client, shared_channel) is True
    now[0] += 299
    assert sharing.is_shared_externally(client, shared_channel) is True
    assert looked_up() == [shared_channel]

    now[0] += 2
    assert sharing.is_shared_externally(client, shared_channel) is True
    assert looked_up() == [shared_channel, shared_channel]

    slack.add_channel("C0THIRD", "third", members=[AGENT])
    assert sharing.is_shared_externally(client, CHANNEL) is False
    assert sharing.is_shared_externally(client, "C0THIRD") is False
    assert sharing.is_shared_externally(client, shared_channel) is True
    assert looked_up()[2:] == [CHANNEL, "C0THIRD", shared_channel]
