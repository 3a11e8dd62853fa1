"""Workspaces, conversations and their audit trail."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from storage.models import Conversation, ConversationEvent, Workspace, utcnow
from storage.upsert import insert_ignoring_conflict


def ensure_workspace(session: Session, workspace_id: str, *, name: str | None = None) -> None:
    """Create the workspace row on first sight."""
    insert_ignoring_conflict(
        session, Workspace, {"id": workspace_id, "name": name}, conflict_on=["id"]
    )


def get_or_create_conversation(
    session: Session, *, workspace_id: str, channel_id: str, thread_ts: str
) -> Conversation:
    """Return the conversation of a thread, creating it (and its workspace) on first sight."""
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
    conversation = find_conversation(
        session, workspace_id=workspace_id, channel_id=channel_id, thread_ts=thread_ts
    )
    assert conversation is not None, "the row was just inserted or already there"
    return conversation


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
