"""Message recording end to end: every thread message stored, and the unread marker kept."""

import copy

from bot.slackdouble.payloads import (
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USER_ID,
    event_callback,
    message_event,
    new_event_id,
    new_ts,
)
from storage.conversations import ensure_workspace, find_conversation
from storage.messages import list_messages, list_revisions
from storage.models import Contact
from storage.settings import put_setting
from tests.support import AGENT, CHANNEL, OTHER_AGENT, TEAM

CANDIDATE = "U0CANDIDATE"


# Arrange helpers, shared with test_claim_read.


def add_contact(bot, slack_user_id=CANDIDATE):
    """Store a contact linked to a Slack user; return its id."""
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = Contact(workspace_id=TEAM, name="Cara Candidate", slack_user_id=slack_user_id)
        session.add(contact)
        session.flush()
        return contact.id


def start_thread(bot, slack, text, *, user):
    """Post a top-level message, seeded in the double so reactions can find it; return its ts."""
    ts = new_ts()
    slack.add_message(CHANNEL, ts, user, text)
    bot.post_and_settle(message_event(text, user=user, channel=CHANNEL, ts=ts))
    return ts


def reply(bot, root, text, *, user, **options):
    payload = message_event(text, user=user, channel=CHANNEL, thread_ts=root, **options)
    bot.post_and_settle(payload)
    return payload


def conversation_of(bot, root):
    with bot.session_scope() as session:
        return find_conversation(session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root)


def messages_of(bot, root):
    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root
        )
        return [] if conversation is None else list_messages(session, conversation.id)


def reactions_on(slack, ts):
    [message] = [m for m in slack.messages_in(CHANNEL) if m["ts"] == ts]
    return {reaction["name"]: reaction["users"] for reaction in message.get("reactions", [])}


def edit_event(ts, text, *, user, previous_text, thread_ts=None, edited_ts=None):
    """Build a message_changed event: the edited message, nested, as Slack sends it."""
    edited_ts = edited_ts or new_ts()
    message = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "edited": {"user": user, "ts": edited_ts},
    }
    previous = {"type": "message", "user": user, "text": previous_text, "ts": ts}
    if thread_ts is not None:
        message["thread_ts"] = previous["thread_ts"] = thread_ts
    event = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": CHANNEL,
        "channel_type": "channel",
        "ts": edited_ts,
        "event_ts": edited_ts,
        "message": message,
        "previous_message": previous,
    }
    return event_callback(event, team=TEAM)


def delete_event(ts, *, user, previous_text, thread_ts=None):
    """Build a message_deleted event for the message at ts."""
    event_ts = new_ts()
    previous = {"type": "message", "user": user, "text": previous_text, "ts": ts}
    if thread_ts is not None:
        previous["thread_ts"] = thread_ts
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": CHANNEL,
        "channel_type": "channel",
        "ts": event_ts,
        "event_ts": event_ts,
        "deleted_ts": ts,
        "previous_message": previous,
    }
    return event_callback(event, team=TEAM)


# Storing


def test_thread_messages_stored_with_sides(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "We have a role for you", user=AGENT)

    reply(bot, root, "Sounds good &lt;3", user=CANDIDATE)
    reply(bot, root, "Great", user=OTHER_AGENT)

    stored = [
        (m.ts == root, m.user_id, m.side, m.text, m.thread_ts) for m in messages_of(bot, root)
    ]
    assert stored == [
        (True, AGENT, "team", "We have a role for you", root),
        (False, CANDIDATE, "contact", "Sounds good &lt;3", root),
        (False, OTHER_AGENT, "team", "Great", root),
    ]


def test_files_stored_by_name(bot, slack):
    root = start_thread(bot, slack, "Send your CV", user=AGENT)

    reply(
        bot,
        root,
        "Here",
        user=AGENT,
        files=[{"id": "F1", "name": "cv.pdf"}, {"id": "F2", "file_access": "check_file_info"}],
    )

    [_, message] = messages_of(bot, root)
    assert message.subtype == "file_share"
    assert message.file_names == ["cv.pdf", "F2"]


def test_thread_broadcast_is_stored(bot, slack):
    root = start_thread(bot, slack, "Question", user=AGENT)

    reply(bot, root, "Also for the channel", user=AGENT, subtype="thread_broadcast")

    assert [m.subtype for m in messages_of(bot, root)] == [None, "thread_broadcast"]


def test_other_subtypes_are_not_stored(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "<@U0AGENT2> has joined the channel", user=OTHER_AGENT, subtype="channel_join")

    assert len(messages_of(bot, root)) == 1


def test_dm_with_caretbot_is_not_stored(bot, slack):
    ts = new_ts()

    bot.post_and_settle(message_event("hi bot", user=AGENT, channel="DU0AGENT", ts=ts))

    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id="DU0AGENT", thread_ts=ts
        )
    assert conversation is None


def test_redelivered_event_stored_once(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    payload = message_event("Hi!", user=CANDIDATE, channel=CHANNEL, thread_ts=root)
    # Socket Mode redelivers with the same event id; the Events API may resend after a timeout.
    redelivered = copy.deepcopy(payload)
    redelivered["event_id"] = new_event_id()

    bot.post_and_settle(payload)
    bot.post_and_settle(payload, retry_num=1, retry_reason="http_timeout")
    bot.post_and_settle(redelivered)

    assert [m.text for m in messages_of(bot, root)] == ["Hello", "Hi!"]
    assert len(slack.calls_to("reactions.add")) == 1


def test_edits_stored_with_history(bot, slack):
    root = start_thread(bot, slack, "Interview on Monday", user=AGENT)
    first_edit = new_ts()
    second_edit = new_ts()

    bot.post_and_settle(
        edit_event(
            root,
            "Interview on Tuesday",
            user=AGENT,
            previous_text="Interview on Monday",
            edited_ts=first_edit,
        )
    )
    bot.post_and_settle(
        edit_event(
            root,
            "Interview on Wednesday",
            user=AGENT,
            previous_text="Interview on Tuesday",
            edited_ts=second_edit,
        )
    )

    [message] = messages_of(bot, root)
    with bot.session_scope() as session:
        revisions = list_revisions(session, message.id)
    assert message.text == "Interview on Wednesday"
    assert message.edited_at.timestamp() == float(second_edit)
    assert [(r.text, r.edited_by) for r in revisions] == [
        ("Interview on Monday", AGENT),
        ("Interview on Tuesday", AGENT),
    ]
    assert slack.calls == []


def test_deletion_keeps_text_and_history(bot, slack):
    root = start_thread(bot, slack, "Question", user=AGENT)
    payload = reply(bot, root, "Salary is 50k", user=AGENT)
    ts = payload["event"]["ts"]
    bot.post_and_settle(
        edit_event(ts, "Salary is 55k", user=AGENT, previous_text="Salary is 50k", thread_ts=root)
    )

    bot.post_and_settle(delete_event(ts, user=AGENT, previous_text="Salary is 55k", thread_ts=root))

    [_, message] = messages_of(bot, root)
    with bot.session_scope() as session:
        revisions = list_revisions(session, message.id)
    assert message.deleted_at is not None
    assert message.text == "Salary is 55k"
    assert [r.text for r in revisions] == ["Salary is 50k"]


# Which side a message is from


def test_metadata_naming_contact_is_contact_side(bot, slack):
    contact_id = add_contact(bot, slack_user_id=None)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    payload = message_event(
        "Relayed SMS: yes", user=None, channel=CHANNEL, thread_ts=root, bot_id="B0SMS"
    )
    payload["event"]["subtype"] = "bot_message"
    payload["event"]["metadata"] = {
        "event_type": "contact_message",
        "event_payload": {"contact_id": str(contact_id)},
    }

    bot.post_and_settle(payload)

    [_, message] = messages_of(bot, root)
    assert message.side == "contact"
    assert message.bot_id == "B0SMS"
    assert conversation_of(bot, root).unread is True


def test_metadata_naming_unknown_contact_is_team(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    payload = message_event("Relayed", user=None, channel=CHANNEL, thread_ts=root, bot_id="B0SMS")
    payload["event"]["metadata"] = {"event_type": "x", "event_payload": {"contact_id": 999}}

    bot.post_and_settle(payload)

    [_, message] = messages_of(bot, root)
    assert message.side == "team"
    assert conversation_of(bot, root).unread is False


def test_configured_bot_is_contact_side(bot, slack):
    with bot.session_scope() as session:
        put_setting(session, TEAM, "contact_bot_ids", ["B0SMS"], updated_by=AGENT)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    payload = message_event(
        "Yes, Monday works", user=None, channel=CHANNEL, thread_ts=root, bot_id="B0SMS"
    )
    payload["event"]["subtype"] = "bot_message"

    bot.post_and_settle(payload)

    [_, message] = messages_of(bot, root)
    assert message.side == "contact"
    [added] = slack.calls_to("reactions.add")
    assert added.args["timestamp"] == root


def test_slack_connect_external_user_is_contact(bot, slack):
    root = start_thread(bot, slack, "Welcome", user=AGENT)
    payload = message_event("Hi from Partner Co", user="U0PARTNER", channel=CHANNEL, thread_ts=root)
    payload["is_ext_shared_channel"] = True
    payload["event"]["user_team"] = "T0PARTNER"
    payload["event"]["source_team"] = "T0PARTNER"

    bot.post_and_settle(payload)

    [_, message] = messages_of(bot, root)
    assert message.side == "contact"
    assert conversation_of(bot, root).unread is True


def test_own_team_in_shared_channel_is_team(bot, slack):
    root = start_thread(bot, slack, "Welcome", user=AGENT)
    payload = message_event("Internal note", user=OTHER_AGENT, channel=CHANNEL, thread_ts=root)
    payload["is_ext_shared_channel"] = True
    payload["event"]["user_team"] = TEAM

    bot.post_and_settle(payload)

    [_, message] = messages_of(bot, root)
    assert message.side == "team"


# The unread marker


def test_contact_message_sets_marker_on_root(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "We have a role for you", user=AGENT)

    reply(bot, root, "Tell me more", user=CANDIDATE)

    conversation = conversation_of(bot, root)
    assert conversation.unread is True
    assert conversation.unread_since is not None
    [added] = slack.calls_to("reactions.add")
    assert added.ok, added.error
    assert added.args["channel"] == CHANNEL
    assert added.args["timestamp"] == root
    assert added.args["name"] == "red_circle"
    assert reactions_on(slack, root) == {"red_circle": [DEFAULT_BOT_USER_ID]}


def test_top_level_contact_message_marks_itself(bot, slack):
    add_contact(bot)

    root = start_thread(bot, slack, "Is the job still open?", user=CANDIDATE)

    assert conversation_of(bot, root).unread is True
    [added] = slack.calls_to("reactions.add")
    assert added.args["timestamp"] == root


def test_waiting_conversation_is_marked_once(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)
    since = conversation_of(bot, root).unread_since

    reply(bot, root, "Are you there?", user=CANDIDATE)

    assert len(slack.calls_to("reactions.add")) == 1
    assert conversation_of(bot, root).unread_since == since


def test_marker_from_workspace_setting(bot, slack):
    add_contact(bot)
    with bot.session_scope() as session:
        put_setting(session, TEAM, "unread_reaction", ":eyes:", updated_by=AGENT)
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "Hi", user=CANDIDATE)

    [added] = slack.calls_to("reactions.add")
    assert added.ok, added.error
    assert added.args["name"] == "eyes"


def test_marker_already_there_is_harmless(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    slack.fail_next("reactions.add", status=200, error="already_reacted")

    reply(bot, root, "Hi", user=CANDIDATE)

    [added] = slack.calls_to("reactions.add")
    assert added.error == "already_reacted"
    assert conversation_of(bot, root).unread is True
    assert slack.calls_to("chat.postEphemeral") == []


def test_team_reply_clears_marker(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)

    reply(bot, root, "Hi Cara, how about Monday?", user=OTHER_AGENT)

    conversation = conversation_of(bot, root)
    assert conversation.unread is False
    assert conversation.unread_since is None
    [removed] = slack.calls_to("reactions.remove")
    assert removed.ok, removed.error
    assert removed.args["timestamp"] == root
    assert removed.args["name"] == "red_circle"
    assert reactions_on(slack, root) == {}


def test_team_reply_without_marker_removes_nothing(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "Anyone?", user=OTHER_AGENT)

    assert slack.calls_to("reactions.remove") == []


def test_caret_command_leaves_conversation_waiting(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)

    reply(bot, root, "^note Prefers mornings", user=AGENT)

    assert conversation_of(bot, root).unread is True
    assert slack.calls_to("reactions.remove") == []


def test_other_bot_leaves_conversation_waiting(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)

    reply(bot, root, "JIRA-12 created", user=None, bot_id="B0JIRA", subtype="bot_message")

    [*_, message] = messages_of(bot, root)
    assert message.side == "team"
    assert message.bot_id == "B0JIRA"
    assert conversation_of(bot, root).unread is True
    assert slack.calls_to("reactions.remove") == []


def test_caretbot_event_leaves_conversation_waiting(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)
    slack.reset()

    reply(bot, root, "Claimed by <@U0AGENT>", user=DEFAULT_BOT_USER_ID, bot_id=DEFAULT_BOT_ID)

    assert conversation_of(bot, root).unread is True
    assert slack.calls == []


def test_caretbot_message_is_stored_as_bot(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)
    slack.reset()
    payload = message_event(
        "Marked read by <@U0AGENT>",
        user=DEFAULT_BOT_USER_ID,
        bot_id=DEFAULT_BOT_ID,
        channel=CHANNEL,
        thread_ts=root,
    )

    bot.post_and_settle(payload)

    [*_, message] = messages_of(bot, root)
    assert message.side == "bot"
    assert message.user_id == DEFAULT_BOT_USER_ID
    assert conversation_of(bot, root).unread is True
    assert slack.calls == []


def test_ordinary_messages_get_no_reply(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "Hi", user=CANDIDATE)
    reply(bot, root, "Welcome!", user=AGENT)

    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("chat.postEphemeral") == []
    assert slack.messages_in(CHANNEL, thread_ts=root) == []
