"""The storage functions that the message writer uses for a whole batch at once."""

from datetime import UTC, datetime, timedelta

import pytest

from storage.contacts import upsert_contact
from storage.conversations import (
    ensure_workspace,
    find_conversation,
    get_or_create_conversation,
    get_or_create_conversation_ids,
)
from storage.messages import (
    NewMessage,
    ThreadMessage,
    UnreadState,
    find_contact_users,
    find_message,
    list_messages,
    lock_unread_states,
    set_unread_state,
    store_message,
    store_messages,
)
from storage.models import Contact

ROOT = "1700000000.000100"
RECEIVED = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)


def a_conversation(session, thread_ts=ROOT):
    return get_or_create_conversation(
        session, workspace_id="T1", channel_id="C1", thread_ts=thread_ts
    )


def entry(conversation, ts, *, side="team", text="", received_at=RECEIVED, **fields):
    return ThreadMessage(
        conversation_id=conversation.id,
        workspace_id=conversation.workspace_id,
        channel_id=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        message=NewMessage(ts=ts, side=side, text=text, **fields),
        received_at=received_at,
    )


def columns_of(message):
    return {
        name: getattr(message, name)
        for name in (
            "workspace_id",
            "conversation_id",
            "channel_id",
            "thread_ts",
            "user_id",
            "bot_id",
            "side",
            "subtype",
            "text",
            "file_names",
            "received_at",
            "edited_at",
            "deleted_at",
        )
    }


# store_messages


def test_store_messages_stores_as_store_message(session_scope):
    fields = {
        "side": "contact",
        "text": "Hi &lt;there&gt; <@U2> — ça va? 👋",
        "user_id": "U1",
        "subtype": "file_share",
        "file_names": ["cv.pdf", "résumé.docx"],
    }
    with session_scope() as session:
        conversation = a_conversation(session)
        store_message(session, conversation, NewMessage(ts="1.000100", **fields), now=RECEIVED)
        inserted = store_messages(session, [entry(conversation, "1.000200", **fields)])

    with session_scope() as session:
        one = find_message(session, workspace_id="T1", channel_id="C1", ts="1.000100")
        batched = find_message(session, workspace_id="T1", channel_id="C1", ts="1.000200")

    assert inserted == {("T1", "C1", "1.000200")}
    assert columns_of(batched) == columns_of(one)
    assert batched.received_at == RECEIVED
    assert batched.file_names == ["cv.pdf", "résumé.docx"]


def test_store_messages_keeps_nulls_and_bot_fields(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        store_messages(
            session,
            [entry(conversation, ROOT, side="bot", user_id=None, bot_id="B1", subtype=None)],
        )

    with session_scope() as session:
        message = find_message(session, workspace_id="T1", channel_id="C1", ts=ROOT)

    assert message.user_id is None
    assert message.bot_id == "B1"
    assert message.subtype is None
    assert message.file_names == []
    assert message.text == ""


def test_store_messages_skips_stored_and_repeated(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        store_message(session, conversation, NewMessage(ts="1.000100", side="team", text="old"))
        inserted = store_messages(
            session,
            [
                entry(conversation, "1.000100", text="redelivered"),
                entry(conversation, "1.000200", text="new"),
                entry(conversation, "1.000200", text="new again"),
                entry(conversation, "1.000300", text="newer"),
            ],
        )

    with session_scope() as session:
        messages = list_messages(session, a_conversation(session).id)

    assert inserted == {("T1", "C1", "1.000200"), ("T1", "C1", "1.000300")}
    assert [(m.ts, m.text) for m in messages] == [
        ("1.000100", "old"),
        ("1.000200", "new"),
        ("1.000300", "newer"),
    ]


def test_store_messages_of_several_conversations(session_scope):
    with session_scope() as session:
        first = a_conversation(session, "1.000100")
        second = a_conversation(session, "2.000100")
        inserted = store_messages(
            session,
            [entry(second, "2.000200"), entry(first, "1.000200"), entry(second, "2.000100")],
        )

    with session_scope() as session:
        first_messages = list_messages(session, first.id)
        second_messages = list_messages(session, second.id)

    assert len(inserted) == 3
    assert [m.ts for m in first_messages] == ["1.000200"]
    assert [m.ts for m in second_messages] == ["2.000100", "2.000200"]


def test_store_messages_of_nothing(session_scope):
    with session_scope() as session:
        assert store_messages(session, []) == set()


def test_store_messages_rejects_unknown_side(session_scope):
    with session_scope() as session:
        conversation = a_conversation(session)
        with pytest.raises(ValueError, match="side 'agent'"):
            store_messages(session, [entry(conversation, ROOT, side="agent")])


# Conversations by thread key


def test_conversation_ids_created_once(session_scope):
    keys = {("T1", "C1", "1.000100"), ("T1", "C1", "2.000100"), ("T2", "C9", "1.000100")}
    with session_scope() as session:
        existing = a_conversation(session, "1.000100")
        first = get_or_create_conversation_ids(session, keys)
    with session_scope() as session:
        second = get_or_create_conversation_ids(session, keys)
        created = find_conversation(
            session, workspace_id="T2", channel_id="C9", thread_ts="1.000100"
        )

    assert first == second
    assert first[("T1", "C1", "1.000100")] == existing.id
    assert len(set(first.values())) == 3
    assert created is not None
    assert created.state == "open"
    assert created.unread is False


def test_conversation_ids_of_nothing(session_scope):
    with session_scope() as session:
        assert get_or_create_conversation_ids(session, set()) == {}


def test_get_or_create_conversation_returns_existing(session_scope):
    with session_scope() as session:
        created = a_conversation(session)
    with session_scope() as session:
        found = a_conversation(session)

    assert found.id == created.id


# Unread state and contacts


def test_unread_state_read_and_written(session_scope):
    since = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with session_scope() as session:
        waiting = a_conversation(session, "1.000100")
        quiet = a_conversation(session, "2.000100")
        set_unread_state(session, waiting.id, unread=True, unread_since=since)
        states = lock_unread_states(session, [quiet.id, waiting.id])

    assert states == {
        waiting.id: UnreadState(unread=True, unread_since=since, claimed_by=None),
        quiet.id: UnreadState(unread=False, unread_since=None, claimed_by=None),
    }
    with session_scope() as session:
        set_unread_state(session, waiting.id, unread=False, unread_since=None)
        after = lock_unread_states(session, [waiting.id])
    assert after[waiting.id].unread is False
    assert after[waiting.id].unread_since is None


def test_unread_state_of_nothing(session_scope):
    with session_scope() as session:
        assert lock_unread_states(session, []) == {}


def test_contact_users_of_workspace_only(session_scope):
    with session_scope() as session:
        ensure_workspace(session, "T1")
        ensure_workspace(session, "T2")
        session.add(Contact(workspace_id="T1", name="Cara", slack_user_id="U1"))
        session.add(Contact(workspace_id="T1", name="Cara again", slack_user_id="U1"))
        session.add(Contact(workspace_id="T2", name="Dan", slack_user_id="U2"))
        upsert_contact(session, workspace_id="T1", name="No Slack", email="x@example.com")
        session.flush()
        found = find_contact_users(session, workspace_id="T1", user_ids={"U1", "U2", "U3"})
        none = find_contact_users(session, workspace_id="T1", user_ids=set())

    assert found == {"U1"}
    assert none == set()


def test_received_at_kept_to_the_microsecond(session_scope):
    received = RECEIVED + timedelta(microseconds=1)
    with session_scope() as session:
        conversation = a_conversation(session)
        store_messages(session, [entry(conversation, ROOT, received_at=received)])

    with session_scope() as session:
        message = find_message(session, workspace_id="T1", channel_id="C1", ts=ROOT)

    assert message.received_at == received
