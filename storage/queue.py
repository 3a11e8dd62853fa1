"""The App Home queries: conversations waiting for the team, hand-offs to a user, home viewers."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.conversations import ensure_workspace
from storage.models import (
    Contact,
    Conversation,
    Delivery,
    DeliveryRecipient,
    Team,
    TeamMember,
    UserSetting,
    utcnow,
)

# The user setting that records when a user last opened the App Home; its value is the ISO
# time, and its updated_at column is what recent_home_viewers filters on.
HOME_OPENED_SETTING = "home_opened_at"


@dataclass(frozen=True)
class WaitingRow:
    """A conversation whose contact wrote last, with the time of the first unanswered message."""

    conversation_id: int
    channel_id: str
    thread_ts: str
    contact_name: str | None
    claimed_by: str | None
    waiting_since: datetime


@dataclass(frozen=True)
class WaitingQueue:
    """The waiting conversations that one user sees, oldest first, cut at a row limit.

    The totals count every row, shown or not. Conversations claimed by someone else are
    counted in `claimed_by_others` only.
    """

    mine: list[WaitingRow]
    mine_total: int
    unclaimed: list[WaitingRow]
    unclaimed_total: int
    claimed_by_others: int


@dataclass(frozen=True)
class HandoffRow:
    """One delivery handed to a user, directly, by email address or through a team."""

    delivery_id: int
    channel_id: str
    thread_ts: str
    contact_name: str | None
    status: str
    rating: int | None
    delivered_by: str
    delivered_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    team_name: str | None  # set when the hand-off reached the user through a team


@dataclass(frozen=True)
class HandoffList:
    """A user's hand-offs, unaccepted first and then newest first, cut at a row limit."""

    rows: list[HandoffRow]
    total: int
    unaccepted_total: int


def waiting_queue(session: Session, *, workspace_id: str, user_id: str, limit: int) -> WaitingQueue:
    """Read the conversations waiting for the team: claimed by the user, and unclaimed.

    Each group holds at most `limit` rows, the longest waiting first.
    """
    waiting = sa.and_(Conversation.workspace_id == workspace_id, Conversation.unread.is_(True))
    mine = Conversation.claimed_by == user_id
    unclaimed = Conversation.claimed_by.is_(None)
    others = sa.and_(Conversation.claimed_by.is_not(None), Conversation.claimed_by != user_id)
    return WaitingQueue(
        mine=_waiting_rows(session, sa.and_(waiting, mine), limit),
        mine_total=_count(session, sa.and_(waiting, mine)),
        unclaimed=_waiting_rows(session, sa.and_(waiting, unclaimed), limit),
        unclaimed_total=_count(session, sa.and_(waiting, unclaimed)),
        claimed_by_others=_count(session, sa.and_(waiting, others)),
    )


def _waiting_rows(session: Session, condition: sa.ColumnElement[bool], limit: int) -> list:
    statement = (
        sa.select(
            Conversation.id,
            Conversation.channel_id,
            Conversation.thread_ts,
            Contact.name,
            Conversation.claimed_by,
            Conversation.unread_since,
            Conversation.created_at,
        )
        .outerjoin(Contact, Contact.id == Conversation.contact_id)
        .where(condition)
        .order_by(Conversation.unread_since, Conversation.id)
        .limit(limit)
    )
    return [
        WaitingRow(
            conversation_id=row[0],
            channel_id=row[1],
            thread_ts=row[2],
            contact_name=row[3],
            claimed_by=row[4],
            # unread_since is set together with unread; created_at only covers a row that an
            # older release or a manual edit left without it.
            waiting_since=row[5] or row[6],
        )
        for row in session.execute(statement)
    ]


def _count(session: Session, condition: sa.ColumnElement[bool]) -> int:
    statement = sa.select(sa.func.count()).select_from(Conversation).where(condition)
    return int(session.execute(statement).scalar_one())


def handoffs_for(session: Session, *, workspace_id: str, user_id: str, limit: int) -> HandoffList:
    """Read the deliveries handed to the user, at most `limit` of them.

    A delivery reaches the user through a recipient of kind "user", an email address that
    resolved to the user, or a team the user is a member of. A delivery that reaches the
    user in several ways is one row; it counts as accepted once any of those recipients is.
    """
    teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    reaches_user = sa.or_(
        sa.and_(
            DeliveryRecipient.kind.in_(("user", "email")), DeliveryRecipient.user_id == user_id
        ),
        sa.and_(DeliveryRecipient.kind == "team", DeliveryRecipient.team_id.in_(teams)),
    )
    condition = sa.and_(Delivery.workspace_id == workspace_id, reaches_user)
    # 0 while no recipient of the delivery that reaches the user is accepted, 1 after.
    accepted = sa.func.max(sa.case((DeliveryRecipient.accepted_by.is_(None), 0), else_=1))
    statement = (
        sa.select(
            Delivery.id,
            Conversation.channel_id,
            Conversation.thread_ts,
            Contact.name,
            Delivery.status,
            Delivery.rating,
            Delivery.delivered_by,
            Delivery.delivered_at,
            sa.func.max(DeliveryRecipient.accepted_by),
            sa.func.min(DeliveryRecipient.accepted_at),
            sa.func.max(Team.name),
        )
        .join(DeliveryRecipient, DeliveryRecipient.delivery_id == Delivery.id)
        .outerjoin(Team, Team.id == DeliveryRecipient.team_id)
        .join(Conversation, Conversation.id == Delivery.conversation_id)
        .outerjoin(Contact, Contact.id == Delivery.contact_id)
        .where(condition)
        .group_by(
            Delivery.id,
            Conversation.channel_id,
            Conversation.thread_ts,
            Contact.name,
            Delivery.status,
            Delivery.rating,
            Delivery.delivered_by,
            Delivery.delivered_at,
        )
        .order_by(accepted, Delivery.delivered_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    rows = [
        HandoffRow(
            delivery_id=row[0],
            channel_id=row[1],
            thread_ts=row[2],
            contact_name=row[3],
            status=row[4],
            rating=row[5],
            delivered_by=row[6],
            delivered_at=row[7],
            accepted_by=row[8],
            accepted_at=row[9],
            team_name=row[10],
        )
        for row in session.execute(statement)
    ]
    per_delivery = (
        sa.select(Delivery.id, accepted.label("accepted"))
        .join(DeliveryRecipient, DeliveryRecipient.delivery_id == Delivery.id)
        .where(condition)
        .group_by(Delivery.id)
        .subquery()
    )
    total, unaccepted = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((per_delivery.c.accepted == 0, 1), else_=0)), 0),
        ).select_from(per_delivery)
    ).one()
    return HandoffList(rows=rows, total=int(total), unaccepted_total=int(unaccepted))


def handoff_users(session: Session, delivery_id: int) -> set[str]:
    """Return the Slack users whose hand-off list shows the delivery."""
    users: set[str] = set()
    recipients = session.exec(
        select(DeliveryRecipient).where(DeliveryRecipient.delivery_id == delivery_id)
    )
    team_ids = set()
    for recipient in recipients:
        if recipient.kind == "team" and recipient.team_id is not None:
            team_ids.add(recipient.team_id)
        elif recipient.user_id is not None:
            users.add(recipient.user_id)
    if team_ids:
        members = select(TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
        users.update(session.exec(members))
    return users


def record_home_opened(
    session: Session, *, workspace_id: str, user_id: str, now: datetime | None = None
) -> None:
    """Store the time the user opened the App Home."""
    now = now or utcnow()
    ensure_workspace(session, workspace_id)
    setting = session.get(UserSetting, (workspace_id, user_id, HOME_OPENED_SETTING))
    if setting is None:
        setting = UserSetting(workspace_id=workspace_id, user_id=user_id, key=HOME_OPENED_SETTING)
    setting.value = now.isoformat()
    setting.updated_by = user_id
    setting.updated_at = now
    session.add(setting)
    session.flush()


def recent_home_viewers(
    session: Session,
    *,
    workspace_id: str,
    since: datetime,
    among: Collection[str] | None = None,
) -> set[str]:
    """Return the users who opened the App Home at `since` or later, optionally among some."""
    statement = select(UserSetting.user_id).where(
        UserSetting.workspace_id == workspace_id,
        UserSetting.key == HOME_OPENED_SETTING,
        UserSetting.updated_at >= since,
    )
    if among is not None:
        if not among:
            return set()
        statement = statement.where(UserSetting.user_id.in_(sorted(among)))
    return set(session.exec(statement))


def find_thread_conversation(
    session: Session, *, workspace_id: str, channel_id: str, thread_ts: str
) -> tuple[str | None, bool] | None:
    """Return the holder and the waiting flag of a thread's conversation, or None if unknown."""
    statement = sa.select(Conversation.claimed_by, Conversation.unread).where(
        Conversation.workspace_id == workspace_id,
        Conversation.channel_id == channel_id,
        Conversation.thread_ts == thread_ts,
    )
    row = session.execute(statement).first()
    return None if row is None else (row[0], bool(row[1]))


def delivery_workspace(session: Session, delivery_id: int) -> str | None:
    delivery = session.get(Delivery, delivery_id)
    return None if delivery is None else delivery.workspace_id
