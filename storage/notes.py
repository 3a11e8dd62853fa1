"""Internal notes that agents leave on a conversation."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.conversations import record_event
from storage.models import Conversation, ConversationEvent

NOTE_EVENT = "note"


def add_note(
    session: Session, conversation: Conversation, *, author: str, text: str, source: str
) -> ConversationEvent:
    """Store a note on the conversation's trail; `source` says how it was written."""
    return record_event(
        session, conversation, NOTE_EVENT, actor=author, detail={"text": text, "source": source}
    )


def list_notes(session: Session, conversation_id: int) -> list[ConversationEvent]:
    statement = (
        select(ConversationEvent)
        .where(
            ConversationEvent.conversation_id == conversation_id,
            ConversationEvent.kind == NOTE_EVENT,
        )
        .order_by(ConversationEvent.at, ConversationEvent.id)
    )
    return list(session.exec(statement))
