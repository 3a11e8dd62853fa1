"""Delivery recipients reached by email: the ones waiting for email to be set up."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import DeliveryRecipient

# No Slack user has the address, and no email is queued for it: email was not set up.
WAITING = "pending_email"
# The hand-off email is in the outbox.
QUEUED = "email_queued"
EMAILED = "emailed"


def waiting_recipient_ids(session: Session) -> list[int]:
    """Return the email recipients still waiting for email to be set up, oldest first."""
    statement = (
        select(DeliveryRecipient.id)
        .where(
            DeliveryRecipient.kind == "email",
            DeliveryRecipient.state == WAITING,
            DeliveryRecipient.user_id.is_(None),  # type: ignore[union-attr]
        )
        .order_by(DeliveryRecipient.id)
    )
    return [recipient_id for recipient_id in session.exec(statement) if recipient_id is not None]


def move_recipient_state(session: Session, recipient_id: int, *, old: str, new: str) -> bool:
    """Set a recipient's state to `new` if it is `old`; return whether this call changed it.

    One conditional update, so when two processes try at once exactly one of them wins.
    """
    statement = (
        sa.update(DeliveryRecipient)
        .where(DeliveryRecipient.id == recipient_id, DeliveryRecipient.state == old)
        .values(state=new, error=None)
        .returning(DeliveryRecipient.id)
    )
    return session.execute(statement).first() is not None
