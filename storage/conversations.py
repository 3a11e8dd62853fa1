"""Workspaces, conversations and their audit trail."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import Conversation, ConversationEvent, Workspace, utcnow
from storage.upsert import insert_ignoring_conflict

# A thread's key: (workspace_id, channel_id, thread_ts).
ThreadKey = tuple[str, str, str]


def ensure_workspace(session: Session, workspace_id: str, *, name: str | None = None) -> None:
    """Create the workspace row on first sight."""
    insert_ignoring_conflict(
        session, Workspace, {"id": workspace_id, "name": name}, conflict_on=["id"]
    )


def get_or_create_conversation(
    session: Session, *, workspace_id: str, channel_id: str, thread_ts: str
) -> Conversation:
    """Return the conversation of a thread, creating it (and its workspace) on first sight."""
    conversation = find_conversation(
        session, workspace_id=workspace_id, channel_id=channel_id, thread_ts=thread_ts
    )
    if conversation is not None:
        return conversation
    _insert_conversation(session, (workspace_id, channel_id, thread_ts))
    conversation = find_conversation(
        session, workspace_id=workspace_id, channel_id=channel_id, thread_ts=thread_ts
    )
    assert conversation is not None, "the row was just inserted or already there"
    return conversation


def get_or_create_conversation_ids(
    session: Session, keys: Collection[ThreadKey]
) -> dict[ThreadKey, int]:
    """Return the conversation id of each thread, creating missing ones (and their workspaces).

    Existing conversations cost one SELECT for all keys together.
    """
    ids = _find_conversation_ids(session, keys)
    missing = sorted(set(keys) - ids.keys())
    if not missing:
        return ids
    # Sorted, so that two processes creating the same conversations lock them in one order.
    for key in missing:
        _insert_conversation(session, key)
    ids.update(_find_conversation_ids(session, missing))
    assert len(ids) == len(set(keys)), "every row was just inserted or already there"
    return ids


def _find_conversation_ids(session: Session, keys: Collection[ThreadKey]) -> dict[ThreadKey, int]:
    if not keys:
        return {}
    key_columns = sa.tuple_(
        Conversation.workspace_id, Conversation.channel_id, Conversation.thread_ts
    )
    statement = sa.select(
        Conversation.workspace_id, Conversation.channel_id, Conversation.thread_ts, Conversation.id
    ).where(key_columns.in_(list(keys)))
    return {(row[0], row[1], row[2]): row[3] for row in session.execute(statement)}


def _insert_conversation(session: Session, key: ThreadKey) -> None:
    """Insert the thread's conversation, and its workspace, unless they exist."""
    workspace_id, channel_id, thread_ts = key
    ensure_workspace(session, workspace_id)
    insert_ignoring_conflict(
        session,
        Conversation,
        {
            "workspace_id": workspace_id,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
            "state": "open",
            "unread": False,
            "created_at": utcnow(),
        },
        conflict_on=["workspace_id", "channel_id", "thread_ts"],
    )


def find_conversation(
    session: Session, *, workspace_id: str, channel_id: str, thread_ts: str
) -> Conversation | None:
    statement = select(Conversation).where(
        Conversation.workspace_id == workspace_id,
        Conversation.channel_id == channel_id,
        Conversation.thread_ts == thread_ts,
    )
    return session.exec(statement).first()


def record_event(
    session: Session,
    conversation: Conversation,
    kind: str,
    *,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> ConversationEvent:
    """Append an audit record to the conversation's trail."""
    assert conversation.id is not None
    event = ConversationEvent(
        conversation_id=conversation.id, kind=kind, actor=actor, detail=detail or {}
    )
    session.add(event)
    session.flush()
    return event


def list_events(session: Session, conversation_id: int) -> list[ConversationEvent]:
    statement = (
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id)
        .order_by(ConversationEvent.at, ConversationEvent.id)
    )
    return list(session.exec(statement))
