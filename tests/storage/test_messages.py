from datetime import UTC, datetime, timedelta

import pytest

from storage.conversations import get_or_create_conversation, list_events
from storage.messages import (
    NewMessage,
    clear_unread,
    edit_message,
    find_message,
    list_messages,
    list_revisions,
    mark_message_deleted,
    mark_read,
    mark_unread,
    store_message,
)

ROOT = "1700000000.000100"
EDIT_TIME = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def a_conversation(session):
    return get_or_create_conversation(session, workspace_id="T1", channel_id="C1", thread_ts=ROOT)


def stored(session, ts=ROOT):
    return find_message(session, workspace_id="T1", channel_id="C1", ts=ts)


def edit(session, text, *, at=EDIT_TIME, ts=ROOT, files=()):
    return edit_message(
        session,
        workspace_id="T1",
        channel_id="C1",
        ts=ts,
        text=text,
        file_names=files,
        edited_at=at,
        edited_by="U1",
    )


def test_store_message_keeps_every_field(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        inserted = store_message(
            session,
            conversation,
            NewMessage(
                ts=ROOT,
                side="contact",
                text="Hi &lt;there&gt; <@U2>",
                user_id="U1",
                subtype="file_share",
                file_names=["cv.pdf", "photo.png"],
            ),
        )

    with session_scope() as session:
        message = stored(session)

    assert inserted is True
    assert message.conversation_id == conversation.id
    assert message.thread_ts == ROOT
    assert message.side == "contact"
    assert message.text == "Hi &lt;there&gt; <@U2>"
    assert message.user_id == "U1"
    assert message.bot_id is None
    assert message.subtype == "file_share"
    assert message.file_names == ["cv.pdf", "photo.png"]
    assert message.received_at.tzinfo is not None


def test_store_message_twice_stores_once(session_scope):
    with session_scope() as session:
        first = store_message(
            session, a_conversation(session), NewMessage(ts=ROOT, side="team", text="first")
        )
    with session_scope() as session:
        second = store_message(
            session, a_conversation(session), NewMessage(ts=ROOT, side="contact", text="again")
        )

    with session_scope() as session:
        messages = list_messages(session, a_conversation(session).id)

    assert (first, second) == (True, False)
    assert [(m.text, m.side) for m in messages] == [("first", "team")]


def test_store_message_rejects_unknown_side(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        with pytest.raises(ValueError, match="side 'agent'"):
            store_message(session, conversation, NewMessage(ts=ROOT, side="agent", text="x"))


def test_list_messages_in_ts_order(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        for ts in ("1700000002.000100", ROOT, "1700000001.000900"):
            store_message(session, conversation, NewMessage(ts=ts, side="team", text=ts))

    with session_scope() as session:
        messages = list_messages(session, conversation.id)

    assert [m.ts for m in messages] == [ROOT, "1700000001.000900", "1700000002.000100"]


def test_edit_keeps_previous_text_as_revision(session_scope):
    with session_scope() as session:
        store_message(
            session, a_conversation(session), NewMessage(ts=ROOT, side="contact", text="v1")
        )
    with session_scope() as session:
        first = edit(session, "v2", files=["cv.pdf"])
    with session_scope() as session:
        second = edit(session, "v3", at=EDIT_TIME + timedelta(minutes=1))

    with session_scope() as session:
        message = stored(session)
        revisions = list_revisions(session, message.id)

    assert first is not None
    assert second is not None
    assert message.text == "v3"
    assert message.edited_at == EDIT_TIME + timedelta(minutes=1)
    assert message.file_names == []
    assert [(r.text, r.edited_by, r.edited_at) for r in revisions] == [
        ("v1", "U1", EDIT_TIME),
        ("v2", "U1", EDIT_TIME + timedelta(minutes=1)),
    ]


def test_redelivered_edit_adds_no_revision(session_scope):
    with session_scope() as session:
        store_message(session, a_conversation(session), NewMessage(ts=ROOT, side="team", text="a"))
    with session_scope() as session:
        edit(session, "b")
    with session_scope() as session:
        again = edit(session, "b")

    with session_scope() as session:
        revisions = list_revisions(session, stored(session).id)

    assert again is None
    assert [r.text for r in revisions] == ["a"]


def test_older_edit_arriving_late_is_ignored(session_scope):
    with session_scope() as session:
        store_message(session, a_conversation(session), NewMessage(ts=ROOT, side="team", text="a"))
    with session_scope() as session:
        edit(session, "newest", at=EDIT_TIME + timedelta(minutes=5))
    with session_scope() as session:
        late = edit(session, "older", at=EDIT_TIME)

    with session_scope() as session:
        message = stored(session)
        revisions = list_revisions(session, message.id)

    assert late is None
    assert message.text == "newest"
    assert [r.text for r in revisions] == ["a"]


def test_edit_of_unknown_message_changes_nothing(session_scope):
    with session_scope() as session:
        revision = edit(session, "text", ts="1700000009.000100")
        message = stored(session, "1700000009.000100")

    assert revision is None
    assert message is None


def test_deleted_message_keeps_text_and_history(session_scope):
    deleted_at = EDIT_TIME + timedelta(hours=1)
    with session_scope() as session:
        store_message(session, a_conversation(session), NewMessage(ts=ROOT, side="team", text="a"))
    with session_scope() as session:
        edit(session, "b")
    with session_scope() as session:
        first = mark_message_deleted(
            session, workspace_id="T1", channel_id="C1", ts=ROOT, now=deleted_at
        )
    with session_scope() as session:
        second = mark_message_deleted(
            session, workspace_id="T1", channel_id="C1", ts=ROOT, now=deleted_at + timedelta(1)
        )

    with session_scope() as session:
        message = stored(session)
        revisions = list_revisions(session, message.id)

    assert (first, second) == (True, False)
    assert message.deleted_at == deleted_at
    assert message.text == "b"
    assert [r.text for r in revisions] == ["a"]


def test_mark_unread_keeps_first_unread_since(session_scope):
    since = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with session_scope() as session:
        conversation = a_conversation(session)
        first = mark_unread(session, conversation.id, now=since)
        second = mark_unread(session, conversation.id, now=since + timedelta(hours=1))

    with session_scope() as session:
        conversation = a_conversation(session)

    assert (first, second) == (True, False)
    assert conversation.unread is True
    assert conversation.unread_since == since


def test_clear_unread_reports_change(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        not_waiting = clear_unread(session, conversation.id)
        mark_unread(session, conversation.id)
        cleared = clear_unread(session, conversation.id)

    with session_scope() as session:
        conversation = a_conversation(session)

    assert (not_waiting, cleared) == (False, True)
    assert conversation.unread is False
    assert conversation.unread_since is None


def test_mark_read_records_reader_and_event(session_scope):
    read_at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    with session_scope() as session:
        conversation = a_conversation(session)
        mark_unread(session, conversation.id)
        was_unread = mark_read(session, conversation, user_id="U9", now=read_at)

    with session_scope() as session:
        conversation = a_conversation(session)
        events = list_events(session, conversation.id)

    assert was_unread is True
    assert conversation.unread is False
    assert conversation.read_by == "U9"
    assert conversation.read_at == read_at
    assert [(e.kind, e.actor, e.detail) for e in events] == [("read", "U9", {"was_unread": True})]
