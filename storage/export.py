"""Rows for `caretbot export deliveries`: one per delivery and recipient, every stored field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from storage.models import (
    Contact,
    Conversation,
    Delivery,
    DeliveryRecipient,
    JobApplication,
    Team,
)

EXPORT_COLUMNS = (
    "delivery_id",
    "workspace_id",
    "channel_id",
    "thread_ts",
    "conversation_id",
    "previous_delivery_id",
    "delivered_at",
    "delivered_by",
    "status",
    "reason",
    "reason_text",
    "notes",
    "rating",
    "contact_id",
    "contact_name",
    "contact_email",
    "contact_phone",
    "application_id",
    "job_title",
    "job_location",
    "requisition_id",
    "source",
    "medium",
    "campaign",
    "referrer",
    "applied_at",
    "recipient_id",
    "recipient_kind",
    "recipient_user_id",
    "recipient_team",
    "recipient_email",
    "recipient_state",
    "recipient_error",
    "accepted_by",
    "accepted_at",
)


def export_rows(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workspace_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield export rows, oldest delivery first; a delivery without recipients gets one row.

    Without `workspace_id`, the rows of every workspace.
    """
    statement = (
        select(Delivery, Conversation, Contact, JobApplication, DeliveryRecipient, Team)
        .join(Conversation, Conversation.id == Delivery.conversation_id)
        .join(Contact, Contact.id == Delivery.contact_id, isouter=True)
        .join(JobApplication, JobApplication.id == Delivery.application_id, isouter=True)
        .join(DeliveryRecipient, DeliveryRecipient.delivery_id == Delivery.id, isouter=True)
        .join(Team, Team.id == DeliveryRecipient.team_id, isouter=True)
        .order_by(Delivery.delivered_at, Delivery.id, DeliveryRecipient.id)
    )
    if since is not None:
        statement = statement.where(Delivery.delivered_at >= since)
    if until is not None:
        statement = statement.where(Delivery.delivered_at < until)
    if workspace_id is not None:
        statement = statement.where(Delivery.workspace_id == workspace_id)

    for delivery, conversation, contact, application, recipient, team in session.exec(statement):
        yield {
            "delivery_id": delivery.id,
            "workspace_id": delivery.workspace_id,
            "channel_id": conversation.channel_id,
            "thread_ts": conversation.thread_ts,
            "conversation_id": conversation.id,
            "previous_delivery_id": delivery.previous_delivery_id,
            "delivered_at": delivery.delivered_at,
            "delivered_by": delivery.delivered_by,
            "status": delivery.status,
            "reason": delivery.reason,
            "reason_text": delivery.reason_text,
            "notes": delivery.notes,
            "rating": delivery.rating,
            "contact_id": contact.id if contact else None,
            "contact_name": contact.name if contact else None,
            "contact_email": contact.email if contact else None,
            "contact_phone": contact.phone if contact else None,
            "application_id": application.id if application else None,
            "job_title": application.job_title if application else None,
            "job_location": application.job_location if application else None,
            "requisition_id": application.requisition_id if application else None,
            "source": application.source if application else None,
            "medium": application.medium if application else None,
            "campaign": application.campaign if application else None,
            "referrer": application.referrer if application else None,
            "applied_at": application.applied_at if application else None,
            "recipient_id": recipient.id if recipient else None,
            "recipient_kind": recipient.kind if recipient else None,
            "recipient_user_id": recipient.user_id if recipient else None,
            "recipient_team": team.name if team else None,
            "recipient_email": recipient.email if recipient else None,
            "recipient_state": recipient.state if recipient else None,
            "recipient_error": recipient.error if recipient else None,
            "accepted_by": recipient.accepted_by if recipient else None,
            "accepted_at": recipient.accepted_at if recipient else None,
        }
