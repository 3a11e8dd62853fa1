"""Delivery drafts, deliveries, their recipients, and acceptance of hand-offs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.conversations import record_event
from storage.models import (
    Conversation,
    Delivery,
    DeliveryDraft,
    DeliveryRecipient,
    JobApplication,
    OutboxMessage,
    Team,
    TeamMember,
    utcnow,
)
from storage.upsert import insert_ignoring_conflict

DELIVERED = "delivered"


def save_draft(
    session: Session,
    *,
    view_id: str,
    workspace_id: str,
    conversation_id: int,
    user_id: str,
    data: dict[str, Any],
) -> None:
    """Store step 1 of a delivery modal, replacing what an earlier Next stored.

    The insert ignores a conflict, so two Next submissions of the same view that race each
    other both succeed, and the later one replaces the data instead of failing on the key.
    """
    inserted = insert_ignoring_conflict(
        session,
        DeliveryDraft,
        {
            "view_id": view_id,
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "user_id": user_id,
            "data": data,
            "created_at": utcnow(),
        },
        conflict_on=["view_id"],
    )
    if inserted:
        return
    draft = session.get(DeliveryDraft, view_id)
    assert draft is not None, "a conflict means the draft exists and this transaction sees it"
    draft.data = data
    session.add(draft)
    session.flush()


def load_draft(session: Session, view_id: str) -> DeliveryDraft | None:
    return session.get(DeliveryDraft, view_id)


def purge_drafts(session: Session, *, older_than: datetime) -> int:
    """Delete drafts of modals abandoned before the given time."""
    result = session.execute(sa.delete(DeliveryDraft).where(DeliveryDraft.created_at < older_than))
    return result.rowcount


@dataclass(frozen=True)
class NewRecipient:
    kind: str  # "user", "team" or "email"
    user_id: str | None = None
    team_id: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    submission_key: str
    conversation: Conversation
    application_id: int | None
    contact_id: int | None
    status: str
    reason: str | None
    reason_text: str | None
    notes: str | None
    rating: int | None
    delivered_by: str
    recipients: list[NewRecipient]


def create_delivery(
    session: Session, new: NewDelivery, *, now: datetime | None = None
) -> tuple[Delivery, bool]:
    """Store a delivery with its recipients; return it and whether this call created it.

    A second call with the same submission_key returns the first delivery unchanged, so a
    double click or a retried request stores one delivery, even across processes.
    """
    now = now or utcnow()
    conversation = new.conversation
    assert conversation.id is not None
    previous = latest_delivery(session, conversation.id)
    inserted = insert_ignoring_conflict(
        session,
        Delivery,
        {
            "workspace_id": conversation.workspace_id,
            "conversation_id": conversation.id,
            "contact_id": new.contact_id,
            "application_id": new.application_id,
            "previous_delivery_id": previous.id if previous else None,
            "submission_key": new.submission_key,
            "status": new.status,
            "reason": new.reason,
            "reason_text": new.reason_text,
            "notes": new.notes,
            "rating": new.rating,
            "delivered_by": new.delivered_by,
            "delivered_at": now,
        },
        conflict_on=["submission_key"],
    )
    delivery = session.exec(
        select(Delivery).where(Delivery.submission_key == new.submission_key)
    ).one()
    if not inserted:
        return delivery, False

    for recipient in new.recipients:
        session.add(
            DeliveryRecipient(
                delivery_id=delivery.id,
                kind=recipient.kind,
                user_id=recipient.user_id,
                team_id=recipient.team_id,
                email=recipient.email,
            )
        )
    conversation.state = DELIVERED
    session.add(conversation)
    if new.application_id is not None:
        application = session.get(JobApplication, new.application_id)
        if application is not None:
            application.state = DELIVERED
            session.add(application)
    record_event(
        session,
        conversation,
        "delivered",
        actor=new.delivered_by,
        detail={"delivery_id": delivery.id, "status": new.status},
    )
    session.flush()
    return delivery, True


def latest_delivery(session: Session, conversation_id: int) -> Delivery | None:
    statement = (
        select(Delivery)
        .where(Delivery.conversation_id == conversation_id)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc())
    )
    return session.exec(statement).first()


def list_deliveries(session: Session, conversation_id: int) -> list[Delivery]:
    """Return the conversation's deliveries, oldest first."""
    statement = (
        select(Delivery)
        .where(Delivery.conversation_id == conversation_id)
        .order_by(Delivery.delivered_at, Delivery.id)
    )
    return list(session.exec(statement))


def list_recipients(session: Session, delivery_id: int) -> list[DeliveryRecipient]:
    statement = (
        select(DeliveryRecipient)
        .where(DeliveryRecipient.delivery_id == delivery_id)
        .order_by(DeliveryRecipient.id)
    )
    return list(session.exec(statement))


def accept_recipient(
    session: Session, recipient_id: int, *, user_id: str, now: datetime | None = None
) -> tuple[DeliveryRecipient | None, bool]:
    """Record that a user accepted a hand-off; return the recipient and whether they won.

    The update is conditional, so when two members of a team click Accept at once, exactly
    one of them owns the hand-off.
    """
    now = now or utcnow()
    statement = (
        sa.update(DeliveryRecipient)
        .where(DeliveryRecipient.id == recipient_id, DeliveryRecipient.accepted_by.is_(None))
        .values(accepted_by=user_id, accepted_at=now)
        .returning(DeliveryRecipient.id)
    )
    won = session.execute(statement).first() is not None
    recipient = session.get(DeliveryRecipient, recipient_id)
    if recipient is not None:
        session.refresh(recipient)
    if won and recipient is not None:
        delivery = session.get(Delivery, recipient.delivery_id)
        conversation = session.get(Conversation, delivery.conversation_id) if delivery else None
        if conversation is not None:
            record_event(
                session,
                conversation,
                "handoff_accepted",
                actor=user_id,
                detail={"delivery_id": recipient.delivery_id, "recipient_id": recipient_id},
            )
    return recipient, won


def set_recipient_state(
    session: Session,
    recipient_id: int,
    state: str,
    *,
    error: str | None = None,
    user_id: str | None = None,
) -> None:
    recipient = session.get(DeliveryRecipient, recipient_id)
    if recipient is None:
        return
    recipient.state = state
    recipient.error = error
    if user_id is not None:
        recipient.user_id = user_id
    session.add(recipient)
    session.flush()


def deliveries_between(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workspace_id: str | None = None,
) -> list[Delivery]:
    """Return deliveries with since <= delivered_at < until, oldest first."""
    statement = select(Delivery)
    if workspace_id is not None:
        statement = statement.where(Delivery.workspace_id == workspace_id)
    if since is not None:
        statement = statement.where(Delivery.delivered_at >= since)
    if until is not None:
        statement = statement.where(Delivery.delivered_at < until)
    return list(session.exec(statement.order_by(Delivery.delivered_at, Delivery.id)))


def allowed_acceptors(
    session: Session, recipient_id: int, *, workspace_id: str | None
) -> set[str] | None:
    """Return who may accept a hand-off, or None when it is unknown in the workspace.

    A user recipient (an email address resolved to a Slack user included) may accept their
    own hand-off, and a team's members may accept the team's. For a team linked to a Slack
    user group, those are the group members who were sent the hand-off. An empty set means
    anyone who sees the card, as for a team that has a hand-off channel and no members.
    """
    recipient = session.get(DeliveryRecipient, recipient_id)
    if recipient is None:
        return None
    delivery = session.get(Delivery, recipient.delivery_id)
    if delivery is None or (workspace_id is not None and delivery.workspace_id != workspace_id):
        return None
    if recipient.kind == "team" and recipient.team_id is not None:
        team = session.get(Team, recipient.team_id)
        if team is not None and team.usergroup_id and not team.channel_id:
            # The members of a linked user group are read when the hand-off is sent, and
            # each gets a DM: those are the members who may accept.
            return {
                message.payload.get("user_id")
                for message in session.exec(
                    select(OutboxMessage).where(OutboxMessage.recipient_id == recipient.id)
                )
                if message.payload.get("user_id")
            }
        members = session.exec(
            select(TeamMember.user_id).where(TeamMember.team_id == recipient.team_id)
        )
        return set(members)
    return {recipient.user_id} if recipient.user_id else set()
