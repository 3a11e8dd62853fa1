"""Builders of the delivery card that portal pages show, from stored records without I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.outcomes import Status, stars
from storage.models import Contact, Delivery, DeliveryRecipient, JobApplication

_DATE_TIME = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class DeliveryCard:
    """The delivery card of one delivery to a restricted user, as plain text for a template."""

    delivery_id: int
    contact: str | None
    status: str
    rating: int | None
    stars: str
    application: str | None
    fields: tuple[tuple[str, str], ...]
    reason_text: str
    notes: str
    delivered_by: str
    delivered_at: str
    accepted_at: str | None


def show_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_DATE_TIME)


def status_label(status: str) -> str:
    try:
        return Status(status).label
    except ValueError:
        return status


def application_label(application: JobApplication | None) -> str | None:
    if application is None:
        return None
    parts = [application.job_title, application.job_location]
    return ", ".join(part for part in parts if part)


def delivery_card(
    delivery: Delivery,
    recipient: DeliveryRecipient,
    *,
    contact: Contact | None,
    application: JobApplication | None,
    user_name: Callable[[str], str],
) -> DeliveryCard:
    """Build the card of a delivery; `user_name` turns a Slack user id into a name."""
    assert delivery.id is not None
    fields: list[tuple[str, str]] = []
    if contact is not None:
        fields += [("Email", contact.email or ""), ("Phone", contact.phone or "")]
    if application is not None:
        fields += [
            ("Application", application.job_title),
            ("Location", application.job_location or ""),
            ("Source", application.source or ""),
        ]
    reason = delivery.reason
    if reason:
        fields.insert(0, ("Reason", reason))
    return DeliveryCard(
        delivery_id=delivery.id,
        contact=contact.name if contact is not None else None,
        status=status_label(delivery.status),
        rating=delivery.rating,
        stars=stars(delivery.rating) if delivery.rating else "",
        application=application_label(application),
        fields=tuple((label, value) for label, value in fields if value),
        reason_text=delivery.reason_text or "",
        notes=delivery.notes or "",
        delivered_by=user_name(delivery.delivered_by),
        delivered_at=show_time(delivery.delivered_at),
        accepted_at=show_time(recipient.accepted_at) if recipient.accepted_at else None,
    )
