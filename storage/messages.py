"""Messages of conversation threads, their edit history, and the conversation's unread state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.conversations import record_event
from storage.models import Contact, Conversation, Message, MessageRevision, utcnow
from storage.upsert import insert_ignoring_conflict

READ_EVENT = "read"

SIDES = ("contact", "team", "bot")


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
