"""Messages of conversation threads, their edit history, and the conversation's unread state."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.conversations import record_event
from storage.models import Contact, Conversation, Message, MessageRevision, utcnow
from storage.upsert import insert_ignoring_conflict

READ_EVENT = "read"

SIDES = ("contact", "team", "bot")

# A message's key, unique among stored messages: (workspace_id, channel_id, ts).
MessageKey = tuple[str, str, str]


@dataclass(frozen=True)
class NewMessage:
    """A message as it arrived, with the side it came from already decided."""

    ts: str
    side: str
    text: str
    user_id: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    file_names: Sequence[str] = ()


def store_message(
    session: Session,
    conversation: Conversation,
    message: NewMessage,
    *,
    now: datetime | None = None,
) -> bool:
    """Insert a message of the conversation's thread; return False when it was stored before.

    The key is (workspace, channel, ts), so a redelivered event inserts nothing, even when
    two processes receive it at once.
    """
    if message.side not in SIDES:
        raise ValueError(f"side {message.side!r} is not one of {', '.join(SIDES)}")
    assert conversation.id is not None
    return insert_ignoring_conflict(
        session,
        Message,
        {
            "workspace_id": conversation.workspace_id,
            "conversation_id": conversation.id,
            "channel_id": conversation.channel_id,
            "thread_ts": conversation.thread_ts,
            "ts": message.ts,
            "user_id": message.user_id,
            "bot_id": message.bot_id,
            "side": message.side,
            "subtype": message.subtype,
            "text": message.text,
            "file_names": list(message.file_names),
            "received_at": now or utcnow(),
        },
        conflict_on=["workspace_id", "channel_id", "ts"],
    )


@dataclass(frozen=True)
class ThreadMessage:
    """A new message with the conversation it belongs to, as store_messages takes it."""

    conversation_id: int
    workspace_id: str
    channel_id: str
    thread_ts: str
    message: NewMessage
    received_at: datetime

    @property
    def key(self) -> MessageKey:
        return (self.workspace_id, self.channel_id, self.message.ts)


def store_messages(session: Session, messages: Sequence[ThreadMessage]) -> set[MessageKey]:
    """Insert many messages with one statement; return the keys of those that went in.

    A message stored before, by this or another process, or twice in `messages`, is inserted
    once: the database skips a row whose (workspace, channel, ts) exists already.
    """
    for entry in messages:
        if entry.message.side not in SIDES:
            raise ValueError(f"side {entry.message.side!r} is not one of {', '.join(SIDES)}")
    if not messages:
        return set()
    # Sorted by key, so two batches that share messages lock them in the same order and do not
    # deadlock on each other.
    rows = [_message_row(entry) for entry in sorted(messages, key=lambda entry: entry.key)]
    dialect = session.get_bind().dialect
    columns = Message.__table__.c  # type: ignore[attr-defined]
    # The column types' own conversions, so the rows are stored exactly as the ORM stores them.
    to_timestamp = columns.received_at.type.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name == "postgresql":
        arrays = [list(values) for values in zip(*rows, strict=True)]
        arrays[_FILE_NAMES] = [json.dumps(names) for names in arrays[_FILE_NAMES]]
        arrays[_RECEIVED_AT] = [to_timestamp(value) for value in arrays[_RECEIVED_AT]]
        parameters = dict(zip(_INSERTED_COLUMNS, arrays, strict=True))
        result = session.execute(_INSERT_FROM_ARRAYS, parameters)
    elif dialect.name == "sqlite":
        to_json = columns.file_names.type.dialect_impl(dialect).bind_processor(dialect)
        encoded = [
            [*row[:_FILE_NAMES], to_json(row[_FILE_NAMES]), to_timestamp(row[_RECEIVED_AT])]
            for row in rows
        ]
        result = session.execute(_INSERT_FROM_JSON, {"rows": json.dumps(encoded)})
    else:
        raise NotImplementedError(f"database dialect {dialect.name!r} is not supported")
    return {(row[0], row[1], row[2]) for row in result}


# The rows travel as one parameter per column (PostgreSQL arrays) or as one JSON document
# (SQLite), so the statement text is the same for every batch size and short. psycopg 3.3
# caches its parse of a statement only up to 4096 characters and 50 parameters, and parsing
# a 50-row VALUES list took more CPU than the rest of the batch.
_INSERTED_COLUMNS = (
    "workspace_id",
    "conversation_id",
    "channel_id",
    "thread_ts",
    "ts",
    "user_id",
    "bot_id",
    "side",
    "subtype",
    "text",
    "file_names",
    "received_at",
)
_FILE_NAMES = _INSERTED_COLUMNS.index("file_names")
_RECEIVED_AT = _INSERTED_COLUMNS.index("received_at")
_POSTGRESQL_ARRAY_TYPES = (
    "varchar[]",
    "integer[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "json[]",
    "timestamp[]",
)
_ON_CONFLICT = (
    "ON CONFLICT (workspace_id, channel_id, ts) DO NOTHING RETURNING workspace_id, channel_id, ts"
)
_INSERT_FROM_ARRAYS = sa.text(
    f"INSERT INTO message ({', '.join(_INSERTED_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(
        f"CAST(:{name} AS {kind})"
        for name, kind in zip(_INSERTED_COLUMNS, _POSTGRESQL_ARRAY_TYPES, strict=True)
    )
    + f") {_ON_CONFLICT}"
)
# SQLite needs the WHERE clause: without one, it would read ON CONFLICT as part of the SELECT.
_INSERT_FROM_JSON = sa.text(
    f"INSERT INTO message ({', '.join(_INSERTED_COLUMNS)}) SELECT "
    + ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(_INSERTED_COLUMNS)))
    + f" FROM json_each(:rows) WHERE true {_ON_CONFLICT}"
)


def _message_row(entry: ThreadMessage) -> tuple[Any, ...]:
    """Return the entry's values in the order of _INSERTED_COLUMNS."""
    message = entry.message
    return (
        entry.workspace_id,
        entry.conversation_id,
        entry.channel_id,
        entry.thread_ts,
        message.ts,
        message.user_id,
        message.bot_id,
        message.side,
        message.subtype,
        message.text,
        list(message.file_names),
        entry.received_at,
    )


def find_message(
    session: Session, *, workspace_id: str, channel_id: str, ts: str
) -> Message | None:
    statement = select(Message).where(
        Message.workspace_id == workspace_id, Message.channel_id == channel_id, Message.ts == ts
    )
    return session.exec(statement).first()


def edit_message(
    session: Session,
    *,
    workspace_id: str,
    channel_id: str,
    ts: str,
    text: str,
    file_names: Sequence[str],
    edited_at: datetime,
    edited_by: str | None,
) -> MessageRevision | None:
    """Replace a stored message's text, keeping the old text as a revision; return it.

    Returns None when nothing changed: the message is unknown, the text is the same (a
    redelivered edit, or a change to attachments only), or a later edit is stored already.
    """
    statement = (
        select(Message)
        .where(
            Message.workspace_id == workspace_id,
            Message.channel_id == channel_id,
            Message.ts == ts,
        )
        # Two edits of one message in flight at once must not both read the same old text.
        .with_for_update()
    )
    message = session.exec(statement).first()
    if message is None:
        return None
    message.file_names = list(file_names)
    if message.text == text or (message.edited_at is not None and message.edited_at >= edited_at):
        session.add(message)
        session.flush()
        return None

    assert message.id is not None
    revision = MessageRevision(
        message_id=message.id, text=message.text, edited_by=edited_by, edited_at=edited_at
    )
    message.text = text
    message.edited_at = edited_at
    session.add(revision)
    session.add(message)
    session.flush()
    return revision


def mark_message_deleted(
    session: Session, *, workspace_id: str, channel_id: str, ts: str, now: datetime | None = None
) -> bool:
    """Mark a stored message deleted, keeping its text and revisions; return whether it was."""
    statement = (
        sa.update(Message)
        .where(
            Message.workspace_id == workspace_id,
            Message.channel_id == channel_id,
            Message.ts == ts,
            Message.deleted_at.is_(None),
        )
        .values(deleted_at=now or utcnow())
        .returning(Message.id)
    )
    return session.execute(statement).first() is not None


def list_messages(session: Session, conversation_id: int) -> list[Message]:
    """Return the conversation's messages in Slack's order, deleted ones included."""
    # Slack ts values have ten digits before the point until the year 2286, so they sort as text.
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.ts, Message.id)
    )
    return list(session.exec(statement))


def list_revisions(session: Session, message_id: int) -> list[MessageRevision]:
    """Return a message's earlier texts, oldest first."""
    statement = (
        select(MessageRevision)
        .where(MessageRevision.message_id == message_id)
        .order_by(MessageRevision.edited_at, MessageRevision.id)
    )
    return list(session.exec(statement))


def find_contact_by_slack_user(session: Session, *, workspace_id: str, user_id: str) -> int | None:
    """Return the id of a workspace contact linked to this Slack user, if any."""
    statement = (
        select(Contact.id)
        .where(Contact.workspace_id == workspace_id, Contact.slack_user_id == user_id)
        .order_by(Contact.id)
        .limit(1)
    )
    return session.exec(statement).first()


def contact_exists(session: Session, *, workspace_id: str, contact_id: int) -> bool:
    statement = select(Contact.id).where(
        Contact.workspace_id == workspace_id, Contact.id == contact_id
    )
    return session.exec(statement).first() is not None


def find_contact_users(
    session: Session, *, workspace_id: str, user_ids: Collection[str]
) -> set[str]:
    """Return the Slack users among `user_ids` that are linked to a contact of the workspace."""
    if not user_ids:
        return set()
    # Table columns, not ORM attributes: a Core statement skips the ORM's compile step.
    contact = Contact.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(contact.slack_user_id)
        .where(contact.workspace_id == workspace_id, contact.slack_user_id.in_(list(user_ids)))
        .distinct()
    )
    return {user_id for (user_id,) in session.execute(statement) if user_id is not None}


@dataclass(frozen=True)
class UnreadState:
    """The columns of a conversation that recording a message may change."""

    unread: bool
    unread_since: datetime | None
    claimed_by: str | None


def lock_unread_states(
    session: Session, conversation_ids: Collection[int]
) -> dict[int, UnreadState]:
    """Read the conversations' unread state and holder, locking their rows until the commit.

    PostgreSQL takes row locks (SELECT ... FOR UPDATE) in id order, so two callers lock shared
    rows in the same order. SQLite has no row locks, so there the caller must have written in
    this transaction already. SQLite then holds its one write lock until the commit.
    """
    if not conversation_ids:
        return {}
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    statement = (
        sa.select(
            conversation.id,
            conversation.unread,
            conversation.unread_since,
            conversation.claimed_by,
        )
        .where(conversation.id.in_(sorted(conversation_ids)))
        .order_by(conversation.id)
        .with_for_update()
    )
    return {
        row.id: UnreadState(
            unread=row.unread, unread_since=row.unread_since, claimed_by=row.claimed_by
        )
        for row in session.execute(statement)
    }


def set_unread_state(
    session: Session, conversation_id: int, *, unread: bool, unread_since: datetime | None
) -> None:
    """Overwrite the conversation's unread state, which lock_unread_states locked."""
    session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(unread=unread, unread_since=unread_since)
    )


def mark_unread(session: Session, conversation_id: int, *, now: datetime | None = None) -> bool:
    """Make the conversation wait for the team; return False when it was waiting already.

    A conversation that waits keeps the unread_since of the contact's first unanswered message.
    """
    statement = (
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.unread.is_(False))
        .values(unread=True, unread_since=now or utcnow())
        .returning(Conversation.id)
    )
    return session.execute(statement).first() is not None


def clear_unread(session: Session, conversation_id: int) -> bool:
    """Stop the conversation waiting; return False when it was not waiting."""
    statement = (
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.unread.is_(True))
        .values(unread=False, unread_since=None)
        .returning(Conversation.id)
    )
    return session.execute(statement).first() is not None


def mark_read(
    session: Session, conversation: Conversation, *, user_id: str, now: datetime | None = None
) -> bool:
    """Record that a team member read the conversation; return whether it was waiting."""
    assert conversation.id is not None
    now = now or utcnow()
    was_unread = clear_unread(session, conversation.id)
    session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(read_by=user_id, read_at=now)
    )
    record_event(
        session, conversation, READ_EVENT, actor=user_id, detail={"was_unread": was_unread}
    )
    session.refresh(conversation)
    return was_unread
