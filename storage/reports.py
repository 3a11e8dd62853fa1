"""Queries behind /caret-report: outcome counts, the funnel and response-time figures.

Every query reads one workspace and one period [start, end), and every period filter runs on
an indexed timestamp, so the cost follows the rows of the period, not the size of the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.models import (
    Contact,
    Delivery,
    DeliveryRecipient,
    JobApplication,
    Message,
    Team,
    utcnow,
)

# The stored response-time columns in the order that list_response_figures returns them.
FIGURE_COLUMNS = (
    "contact_first_reply_work",
    "contact_first_reply_clock",
    "team_first_response_work",
    "team_first_response_clock",
    "contact_response_work",
    "contact_response_clock",
    "team_response_work",
    "team_response_clock",
)

GROUP_COLUMNS = ("status", "source", "medium", "campaign", "agent", "recipient", "reason", "job")


@dataclass(frozen=True)
class FunnelCounts:
    """The counts of the funnel's stages in one period; bot.reports defines each stage."""

    applications: int
    contacts: int
    started: int
    engaged: int
    delivered: int


@dataclass(frozen=True)
class PendingFigures:
    """A delivery whose response-time figures are not computed yet."""

    delivery_id: int
    conversation_id: int
    delivered_at: datetime


# Planner settings for the report's transaction on PostgreSQL. The queries read a few ten
# thousand rows of large tables through indexes. With the default random_page_cost of 4,
# which assumes spinning disks, PostgreSQL 15 hashed whole tables for them instead, and JIT
# compilation added about 150 ms per query (docs/benchmarks.md, reports section).
POSTGRES_REPORT_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL random_page_cost = 1.1")


def tune_report_session(session: Session) -> None:
    """Apply POSTGRES_REPORT_SETTINGS to the session's transaction; nothing on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for statement in POSTGRES_REPORT_SETTINGS:
        session.execute(sa.text(statement))


def _in_period(column: Any, start: datetime, end: datetime) -> Any:
    return sa.and_(column >= start, column < end)


def _group_key(group: str) -> Any:
    if group == "status":
        return Delivery.status
    if group == "agent":
        return Delivery.delivered_by
    if group == "reason":
        return Delivery.reason
    if group == "job":
        return JobApplication.job_title
    if group in ("source", "medium", "campaign"):
        return getattr(JobApplication, group)
    if group == "recipient":
        # One key per kind, so that a team called "ann@example.com" stays apart from the
        # address: "user:U…", "team:<name>" or "email:<address>".
        return sa.case(
            (DeliveryRecipient.kind == "user", "user:" + DeliveryRecipient.user_id),
            (DeliveryRecipient.kind == "team", "team:" + Team.name),
            (DeliveryRecipient.kind == "email", "email:" + DeliveryRecipient.email),
            else_=None,
        )
    raise ValueError(f"unknown group {group!r}: expected one of {', '.join(GROUP_COLUMNS)}")


def outcome_statement(*, workspace_id: str, start: datetime, end: datetime, group: str) -> Any:
    """Build the query of count_outcomes: group value, status and count per pair."""
    key = _group_key(group).label("group_value")
    statement = sa.select(key, Delivery.status, sa.func.count().label("deliveries")).where(
        Delivery.workspace_id == workspace_id, _in_period(Delivery.delivered_at, start, end)
    )
    if group in ("source", "medium", "campaign", "job"):
        statement = statement.outerjoin(
            JobApplication, JobApplication.id == Delivery.application_id
        )
    if group == "recipient":
        statement = statement.outerjoin(
            DeliveryRecipient, DeliveryRecipient.delivery_id == Delivery.id
        ).outerjoin(Team, Team.id == DeliveryRecipient.team_id)
    return statement.group_by(key, Delivery.status)


def count_outcomes(
    session: Session, *, workspace_id: str, start: datetime, end: datetime, group: str
) -> list[tuple[str | None, str, int]]:
    """Count the period's deliveries by group value and status.

    Grouped by recipient, a delivery counts once for each of its recipients, and a delivery
    without recipients has the group value None, as has a delivery without the grouped field.
    """
    statement = outcome_statement(workspace_id=workspace_id, start=start, end=end, group=group)
    return [(row[0], row[1], int(row[2])) for row in session.execute(statement)]


def funnel_statements(*, workspace_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Build the count query of each funnel stage, by the FunnelCounts field it fills."""
    applied = sa.or_(
        _in_period(JobApplication.applied_at, start, end),
        sa.and_(
            JobApplication.applied_at.is_(None),
            _in_period(JobApplication.created_at, start, end),
        ),
    )
    return {
        "applications": sa.select(sa.func.count())
        .select_from(JobApplication)
        .join(Contact, Contact.id == JobApplication.contact_id)
        .where(Contact.workspace_id == workspace_id, applied),
        "contacts": sa.select(sa.func.count())
        .select_from(Contact)
        .where(Contact.workspace_id == workspace_id, _in_period(Contact.created_at, start, end)),
        "started": _started_statement(workspace_id, start, end),
        "engaged": _engaged_statement(workspace_id, start, end),
        "delivered": sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.workspace_id == workspace_id, _in_period(Delivery.delivered_at, start, end)
        ),
    }


def count_funnel(
    session: Session, *, workspace_id: str, start: datetime, end: datetime
) -> FunnelCounts:
    """Count each stage of the funnel in the period."""
    statements = funnel_statements(workspace_id=workspace_id, start=start, end=end)
    counts = {name: int(session.execute(query).scalar_one()) for name, query in statements.items()}
    return FunnelCounts(**counts)


def _earlier_of_side(message: Any, side: Any) -> Any:
    """Build an EXISTS over the conversation's messages of `side` stored before `message`.

    Two messages stored in the same microsecond are ordered by id.
    """
    earlier = aliased(Message)
    return (
        sa.select(earlier.id)
        .where(
            earlier.conversation_id == message.conversation_id,
            earlier.side == side,
            sa.or_(
                earlier.received_at < message.received_at,
                sa.and_(earlier.received_at == message.received_at, earlier.id < message.id),
            ),
        )
        .exists()
    )


def _started_statement(workspace_id: str, start: datetime, end: datetime) -> Any:
    # The conversations whose first team message is in the period: each has exactly one
    # team message of the period with no team message before it.
    message = aliased(Message)
    statement = (
        sa.select(sa.func.count())
        .select_from(message)
        .where(
            message.workspace_id == workspace_id,
            _in_period(message.received_at, start, end),
            message.side == "team",
            ~_earlier_of_side(message, "team"),
        )
    )
    return statement


def _engaged_statement(workspace_id: str, start: datetime, end: datetime) -> Any:
    # The conversations where the second side wrote for the first time in the period: a
    # side's first message of the period with the other side's first message before it.
    # One branch per side, so that each EXISTS names a constant side, which PostgreSQL
    # answers from the (conversation_id, side, received_at) index.
    branches = []
    for side, other_side in (("team", "contact"), ("contact", "team")):
        message = aliased(Message)
        branches.append(
            sa.select(message.id).where(
                message.workspace_id == workspace_id,
                _in_period(message.received_at, start, end),
                message.side == side,
                ~_earlier_of_side(message, side),
                _earlier_of_side(message, other_side),
            )
        )
    engaged = sa.union_all(*branches).subquery()
    return sa.select(sa.func.count()).select_from(engaged)


def list_response_figures(
    session: Session, *, workspace_id: str, start: datetime, end: datetime
) -> list[tuple[float | None, ...]]:
    """Return the stored figures of the period's deliveries, in FIGURE_COLUMNS order.

    Deliveries whose figures are not computed yet are left out.
    """
    statement = figures_statement(workspace_id=workspace_id, start=start, end=end)
    return [tuple(row) for row in session.execute(statement)]


def figures_statement(*, workspace_id: str, start: datetime, end: datetime) -> Any:
    """Build the query of list_response_figures."""
    columns = [getattr(Delivery, name) for name in FIGURE_COLUMNS]
    return sa.select(*columns).where(
        Delivery.workspace_id == workspace_id,
        _in_period(Delivery.delivered_at, start, end),
        Delivery.figures_at.is_not(None),
    )


def list_pending_figures(
    session: Session, *, workspace_id: str, start: datetime, end: datetime
) -> list[PendingFigures]:
    """Return the period's deliveries whose figures are not computed yet, oldest first."""
    statement = pending_statement(workspace_id=workspace_id, start=start, end=end)
    return [PendingFigures(*row) for row in session.execute(statement)]


def pending_statement(*, workspace_id: str, start: datetime, end: datetime) -> Any:
    """Build the query of list_pending_figures, which reads a partial index of pending rows."""
    return (
        sa.select(Delivery.id, Delivery.conversation_id, Delivery.delivered_at)
        .where(
            Delivery.workspace_id == workspace_id,
            _in_period(Delivery.delivered_at, start, end),
            Delivery.figures_at.is_(None),
        )
        .order_by(Delivery.delivered_at, Delivery.id)
    )


def store_figures(session: Session, figures: Sequence[tuple[int, dict[str, float | None]]]) -> None:
    """Store computed figures: (delivery id, {column: seconds or None}) for each delivery."""
    now = utcnow()
    for delivery_id, values in figures:
        unknown = set(values) - set(FIGURE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown figure columns {sorted(unknown)}")
        session.execute(
            sa.update(Delivery).where(Delivery.id == delivery_id).values(**values, figures_at=now)
        )
