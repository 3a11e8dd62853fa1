"""Conversation claims: the holder, takeovers, and the per-user autoclaim preference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.conversations import ensure_workspace, record_event
from storage.models import Conversation, UserSetting, utcnow

CLAIMED_EVENT = "claimed"
TAKEN_OVER_EVENT = "claim_taken_over"

AUTOCLAIM_SETTING = "autoclaim"


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of one claim attempt: the conversation's holder afterwards, and since when.

    `won` is True only for the attempt that changed the holder. `previous_holder` is the
    agent a takeover took the conversation from.
    """

    won: bool
    holder: str | None
    claimed_at: datetime | None
    previous_holder: str | None = None


def claim_conversation(
    session: Session,
    conversation_id: int,
    *,
    user_id: str,
    source: str,
    now: datetime | None = None,
) -> ClaimOutcome:
    """Make the user the conversation's holder unless it has a holder already.

    The update is conditional on claimed_by being NULL, so when two agents claim at the same
    moment exactly one of them wins. The holder's own repeat changes nothing (claimed_at
    stays) and returns won=False with the user as holder. `source` says what claimed it
    ("command", "autoclaim") and goes into the conversation's trail.
    """
    now = now or utcnow()
    statement = (
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.claimed_by.is_(None))
        .values(claimed_by=user_id, claimed_at=now)
        .returning(Conversation.id)
    )
    won = session.execute(statement).first() is not None
    conversation = _reload(session, conversation_id)
    if won:
        record_event(session, conversation, CLAIMED_EVENT, actor=user_id, detail={"source": source})
    return ClaimOutcome(won=won, holder=conversation.claimed_by, claimed_at=conversation.claimed_at)


def take_over_conversation(
    session: Session,
    conversation_id: int,
    *,
    user_id: str,
    previous_holder: str,
    now: datetime | None = None,
) -> ClaimOutcome:
    """Move the conversation from `previous_holder` to the user, if that agent still holds it.

    When the holder changed since the user saw `previous_holder`, nothing changes and the
    outcome names the current holder. A conversation that has no holder any more is claimed.
    """
    now = now or utcnow()
    statement = (
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.claimed_by == previous_holder)
        .values(claimed_by=user_id, claimed_at=now)
        .returning(Conversation.id)
    )
    won = session.execute(statement).first() is not None
    conversation = _reload(session, conversation_id)
    if not won:
        if conversation.claimed_by is None:
            return claim_conversation(
                session, conversation_id, user_id=user_id, source="takeover", now=now
            )
        return ClaimOutcome(
            won=False, holder=conversation.claimed_by, claimed_at=conversation.claimed_at
        )

    record_event(
        session,
        conversation,
        TAKEN_OVER_EVENT,
        actor=user_id,
        detail={"previous_holder": previous_holder},
    )
    return ClaimOutcome(
        won=True,
        holder=user_id,
        claimed_at=conversation.claimed_at,
        previous_holder=previous_holder,
    )


def _reload(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise LookupError(f"conversation {conversation_id} not found")
    # The session may hold the row from before the UPDATE, which bypassed it.
    session.refresh(conversation)
    return conversation


def get_user_setting(session: Session, workspace_id: str, user_id: str, key: str) -> Any | None:
    """Return the user's stored value, or None when the user keeps the default."""
    statement = select(UserSetting.value).where(
        UserSetting.workspace_id == workspace_id,
        UserSetting.user_id == user_id,
        UserSetting.key == key,
    )
    return session.exec(statement).first()


def put_user_setting(
    session: Session,
    workspace_id: str,
    user_id: str,
    key: str,
    value: Any,
    *,
    updated_by: str | None,
) -> None:
    """Store the user's value for `key`, replacing an earlier one."""
    ensure_workspace(session, workspace_id)
    setting = session.get(UserSetting, (workspace_id, user_id, key))
    if setting is None:
        setting = UserSetting(workspace_id=workspace_id, user_id=user_id, key=key, value=value)
    setting.value = value
    setting.updated_by = updated_by
    setting.updated_at = utcnow()
    session.add(setting)
    session.flush()


def set_autoclaim(
    session: Session, workspace_id: str, user_id: str, enabled: bool, *, updated_by: str | None
) -> None:
    """Turn autoclaim on or off for a user.

    With it on, the user's reply in a thread claims the conversation if it has no holder.
    """
    put_user_setting(
        session, workspace_id, user_id, AUTOCLAIM_SETTING, enabled, updated_by=updated_by
    )


def autoclaim_enabled(session: Session, workspace_id: str, user_id: str) -> bool:
    """Tell whether the user turned autoclaim on; it is off by default."""
    return get_user_setting(session, workspace_id, user_id, AUTOCLAIM_SETTING) is True


def list_autoclaim_users(session: Session, workspace_id: str) -> list[str]:
    """Return the users of the workspace who have autoclaim on, sorted."""
    statement = select(UserSetting.user_id, UserSetting.value).where(
        UserSetting.workspace_id == workspace_id, UserSetting.key == AUTOCLAIM_SETTING
    )
    # The value is JSON, which SQLite and PostgreSQL compare differently, so it is read here.
    return sorted(user_id for user_id, value in session.exec(statement) if value is True)
