"""The outbox senders that email people outside Slack: hand-offs and sign-in links.

A recipient whose address belongs to nobody in the workspace becomes a restricted user with a
grant for the delivered conversation. Each email carries a sign-in link with a fresh token,
stored in the transaction that marks the email sent once the SMTP server has accepted it. So
the outbox payload contains no secret, a retried send makes a new token, and no token exists
for an email that never went out.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.mail import HANDOFF_EMAIL, SIGNIN_EMAIL, Mailer
from bot.outbox import Landed, PermanentFailure, Sender
from bot.portal.links import PREFIX, delivery_path, signin_url
from bot.views.email import Envelope, handoff_email, signin_email
from storage.access import (
    LINK,
    active_grants,
    find_restricted_user,
    grant_delivery,
    issue_token,
    new_secret,
)
from storage.db import SessionScope
from storage.deliveries import set_recipient_state
from storage.email_recipients import (
    EMAILED,
    QUEUED,
    WAITING,
    move_recipient_state,
    waiting_recipient_ids,
)
from storage.models import Delivery, DeliveryRecipient, OutboxMessage, RestrictedUser
from storage.outbox import enqueue, mark_sent

if TYPE_CHECKING:
    from bot.handoff import HandoffSenders

log = logging.getLogger(__name__)

# The outbox error of an email that found no SMTP settings. Its recipient waits for email to be
# set up again instead of counting as unreachable.
NOT_SET_UP = "email is not set up: SMTP_URL is not set"


def become_email_recipient(
    session: Session, recipient: DeliveryRecipient, *, email_enabled: bool
) -> str | None:
    """Grant the address the delivered conversation and queue its email, or keep it waiting.

    Return the notice for the agent who delivered, or None when there is nothing to tell.
    """
    delivery = session.get(Delivery, recipient.delivery_id)
    assert delivery is not None and recipient.id is not None
    grant_delivery(
        session,
        recipient,
        workspace_id=delivery.workspace_id,
        conversation_id=delivery.conversation_id,
    )
    if email_enabled:
        set_recipient_state(session, recipient.id, QUEUED)
        enqueue(session, HANDOFF_EMAIL, {}, delivery_id=delivery.id, recipient_id=recipient.id)
        return None
    set_recipient_state(session, recipient.id, WAITING)
    return (
        f"{recipient.email} is not in this Slack workspace, and email is not set up, so "
        f"caretbot stored the hand-off without sending it. caretbot emails it once an admin "
        f"sets SMTP_URL and restarts caretbot."
    )


class EmailSenders:
    """Send hand-off and sign-in email through `mailer`; None means email is not set up."""

    def __init__(
        self,
        session_scope: SessionScope,
        handoffs: HandoffSenders,
        mailer: Mailer | None,
        *,
        public_url: str | None,
        link_days: int,
    ) -> None:
        if mailer is not None and public_url is None:
            raise ValueError("email needs public_url: every email links into the portal")
        self.session_scope = session_scope
        self.handoffs = handoffs
        self.mailer = mailer
        self.public_url = public_url
        self.link_lifetime = timedelta(days=link_days)

    def senders(self) -> dict[str, Sender]:
        return {HANDOFF_EMAIL: self.send_handoff_email, SIGNIN_EMAIL: self.send_signin_email}

    def queue_waiting(self) -> int:
        """Queue the email of every recipient kept while email was not set up; return how many.

        Each recipient moves out of the waiting state in one conditional update, so when
        several processes start at once each email is queued once.
        """
        if self.mailer is None:
            return 0
        with self.session_scope() as session:
            waiting = waiting_recipient_ids(session)
        queued = 0
        for recipient_id in waiting:
            with self.session_scope() as session:
                if not move_recipient_state(session, recipient_id, old=WAITING, new=QUEUED):
                    continue
                recipient = session.get(DeliveryRecipient, recipient_id)
                assert recipient is not None
                become_email_recipient(session, recipient, email_enabled=True)
                queued += 1
        if queued:
            log.info("queued email for waiting recipients count=%s", queued)
        return queued

    def send_handoff_email(self, message: OutboxMessage, client: WebClient) -> Landed:
        """Email the hand-off with a link that signs the recipient in to the delivery."""
        mailer, public_url = self._mailer(message)
        facts, _conversation, delivery = self.handoffs.delivery_facts(message.delivery_id)
        delivered_by = _display_name(client, facts.delivered_by)
        with self.session_scope() as session:
            recipient = session.get(DeliveryRecipient, message.recipient_id)
            if recipient is None or not recipient.email:
                raise PermanentFailure(f"email recipient {message.recipient_id} not found")
            user = _granted_user(session, recipient, delivery)
            assert user.id is not None and delivery.id is not None
            # The email goes out before this transaction writes anything, so no lock is held
            # while the SMTP server replies. The token is stored only once the email is sent.
            raw_token = new_secret()
            email = handoff_email(
                facts,
                Envelope(mail_from=mailer.mail_from, to=recipient.email),
                delivered_by_name=delivered_by,
                link=signin_url(public_url, raw_token, next_path=delivery_path(delivery.id)),
                link_days=self.link_lifetime.days,
                portal_url=f"{public_url}{PREFIX}",
            )
            mailer.send(email)
            issue_token(session, user.id, LINK, self.link_lifetime, raw=raw_token)
            set_recipient_state(session, recipient.id, EMAILED)
            mark_sent(session, message.id)
        return Landed(recorded=True)

    def send_signin_email(self, message: OutboxMessage, client: WebClient) -> Landed:
        """Email a restricted user a fresh sign-in link that opens the requested page."""
        mailer, public_url = self._mailer(message)
        next_path = message.payload.get("next_path")
        with self.session_scope() as session:
            user = session.get(RestrictedUser, message.payload["restricted_user_id"])
            if user is None or user.id is None:
                raise PermanentFailure(
                    f"restricted user {message.payload['restricted_user_id']} not found"
                )
            raw_token = new_secret()
            try:
                link = signin_url(public_url, raw_token, next_path=next_path)
            except ValueError as failure:
                raise PermanentFailure(str(failure)) from failure
            email = signin_email(
                Envelope(mail_from=mailer.mail_from, to=user.email),
                link=link,
                link_days=self.link_lifetime.days,
            )
            mailer.send(email)
            issue_token(session, user.id, LINK, self.link_lifetime, raw=raw_token)
            mark_sent(session, message.id)
        return Landed(recorded=True)

    def on_failure(self, message: OutboxMessage, error: str) -> None:
        """Record a recipient that email cannot reach and tell the agent who delivered."""
        if message.kind != HANDOFF_EMAIL or message.recipient_id is None:
            return
        with self.session_scope() as session:
            recipient = session.get(DeliveryRecipient, message.recipient_id)
            if recipient is None:
                return
            if error == NOT_SET_UP:
                # SMTP_URL was removed after this email was queued; the next start with email
                # set up queues it again.
                set_recipient_state(session, recipient.id, WAITING)
                return
            set_recipient_state(session, recipient.id, "unreachable", error=error)
            self.handoffs.notify_agent(
                session,
                message.delivery_id,
                f"caretbot could not email the hand-off to {recipient.email} ({error}). The "
                f"delivery is stored; deliver again to someone else if needed.",
            )

    def _mailer(self, message: OutboxMessage) -> tuple[Mailer, str]:
        if self.mailer is None or self.public_url is None:
            raise PermanentFailure(NOT_SET_UP)
        return self.mailer, self.public_url


def _granted_user(
    session: Session, recipient: DeliveryRecipient, delivery: Delivery
) -> RestrictedUser:
    """Return the restricted user of the recipient, if the delivery is still granted to them."""
    assert recipient.email is not None
    user = find_restricted_user(session, recipient.email)
    granted = (
        user is not None
        and user.id is not None
        and any(grant.delivery_id == delivery.id for grant in active_grants(session, user.id))
    )
    if not granted:
        raise PermanentFailure(
            f"access of {recipient.email} to delivery {delivery.id} was revoked before the "
            f"email went out"
        )
    assert user is not None
    return user


def _display_name(client: WebClient, user_id: str) -> str:
    """Return the name of a Slack user for readers outside Slack, or the id if Slack has none."""
    try:
        profile = client.users_info(user=user_id)["user"]
    except SlackApiError as failure:
        if failure.response.status_code == 429 or failure.response.status_code >= 500:
            raise
        log.warning(
            "user name unavailable user=%s error=%s", user_id, failure.response.get("error")
        )
        return user_id
    names = (profile.get("profile") or {}).get("real_name"), profile.get("real_name")
    return next((name for name in (*names, profile.get("name")) if name), user_id)
