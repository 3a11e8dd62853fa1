"""Reports on restricted users for `caretbot access`: who may read what, with which secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import AccessGrant, AccessToken, Conversation, RestrictedUser


@dataclass(frozen=True)
class AccessSummary:
    """One restricted user with what is still open to them."""

    email: str
    created_at: datetime
    grants: int  # conversations not revoked
    links: int  # sign-in links neither revoked nor expired
    sessions: int  # portal sessions neither revoked nor expired


@dataclass(frozen=True)
class GrantRow:
    grant: AccessGrant
    channel_id: str
    thread_ts: str


def access_summaries(session: Session, *, now: datetime) -> list[AccessSummary]:
    """Return every restricted user, ordered by address, with counts of their live access."""
    grants = dict(
        session.execute(
            select(AccessGrant.restricted_user_id, sa.func.count())
            .where(AccessGrant.revoked_at.is_(None))  # type: ignore[union-attr]
            .group_by(AccessGrant.restricted_user_id)
        ).all()
    )
    tokens: dict[tuple[int, str], int] = {}
    for user_id, purpose, count in session.execute(
        select(AccessToken.restricted_user_id, AccessToken.purpose, sa.func.count())
        .where(AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)  # type: ignore[union-attr]
        .group_by(AccessToken.restricted_user_id, AccessToken.purpose)
    ).all():
        tokens[(user_id, purpose)] = count
    users = session.exec(select(RestrictedUser).order_by(RestrictedUser.email)).all()
    return [
        AccessSummary(
            email=user.email,
            created_at=user.created_at,
            grants=grants.get(user.id, 0),
            links=tokens.get((user.id, "link"), 0),
            sessions=tokens.get((user.id, "session"), 0),
        )
        for user in users
        if user.id is not None
    ]


def grant_rows(session: Session, restricted_user_id: int) -> list[GrantRow]:
    """Return every grant of a restricted user, revoked ones included, newest first."""
    statement = (
        select(AccessGrant, Conversation.channel_id, Conversation.thread_ts)
        .join(Conversation, Conversation.id == AccessGrant.conversation_id)
        .where(AccessGrant.restricted_user_id == restricted_user_id)
        .order_by(AccessGrant.granted_at.desc(), AccessGrant.id.desc())  # type: ignore[union-attr]
    )
    return [
        GrantRow(grant=grant, channel_id=channel_id, thread_ts=thread_ts)
        for grant, channel_id, thread_ts in session.execute(statement).all()
    ]


def tokens_of(session: Session, restricted_user_id: int) -> list[AccessToken]:
    """Return every link and session of a restricted user, newest first."""
    statement = (
        select(AccessToken)
        .where(AccessToken.restricted_user_id == restricted_user_id)
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())  # type: ignore[union-attr]
    )
    return list(session.exec(statement))
