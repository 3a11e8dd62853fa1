"""What a delivery sends after its commit: the thread card, hand-offs, and card updates.

Each message is an outbox row written in the delivery's transaction. The senders here turn
a row into Web API calls when the outbox worker gets to it, reading the delivery afresh, so
a card always shows the stored state (an acceptance included).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.handoff_email import become_email_recipient
from bot.outbox import Landed, PermanentFailure, Sender
from bot.outcomes import Status
from bot.views.deliver import ApplicationChoice, ContactFacts
from bot.views.deliver_cards import (
    Acceptance,
    Card,
    DeliveryFacts,
    PreviousDelivery,
    Recipient,
    delivery_card,
    handoff_card,
)
from storage.db import SessionScope
from storage.deliveries import list_recipients, set_recipient_state
from storage.models import (
    Contact,
    Conversation,
    Delivery,
    DeliveryRecipient,
    JobApplication,
    OutboxMessage,
    Team,
)
from storage.outbox import FAILED, enqueue, list_messages, sent_cards
from storage.portal import is_portal_actor
from storage.teams import team_members

log = logging.getLogger(__name__)

THREAD_CARD = "thread_card"
HANDOFF_DM = "handoff_dm"
HANDOFF_CHANNEL = "handoff_channel"
EMAIL_LOOKUP = "email_lookup"
USERGROUP_LOOKUP = "usergroup_lookup"
CARD_UPDATE = "card_update"
AGENT_NOTICE = "agent_notice"

HANDOFF_KINDS = (HANDOFF_DM, HANDOFF_CHANNEL)

# Slack errors after which a user recipient cannot get a DM: tell the agent, do not retry.
_UNREACHABLE_USER_ERRORS = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "channel_not_found"}
)


# Slack errors after which a user group's members cannot be read: tell the agent, do not retry.
_UNREACHABLE_USERGROUP_ERRORS = frozenset(
    {"no_such_subteam", "missing_scope", "plan_upgrade_required", "invalid_auth"}
)


def enqueue_handoffs(session: Session, delivery: Delivery) -> None:
    """Queue the thread card and one hand-off per recipient, in the delivery's transaction."""
    assert delivery.id is not None
    enqueue(session, THREAD_CARD, {}, delivery_id=delivery.id)
    for recipient in list_recipients(session, delivery.id):
        if recipient.kind == "user":
            enqueue(
                session,
                HANDOFF_DM,
                {"user_id": recipient.user_id},
                delivery_id=delivery.id,
                recipient_id=recipient.id,
            )
        elif recipient.kind == "team":
            _enqueue_team(session, delivery, recipient)
        elif recipient.kind == "email":
            enqueue(
                session,
                EMAIL_LOOKUP,
                {"email": recipient.email},
                delivery_id=delivery.id,
                recipient_id=recipient.id,
            )


def _enqueue_team(session: Session, delivery: Delivery, recipient: DeliveryRecipient) -> None:
    team = session.get(Team, recipient.team_id)
    assert team is not None and team.id is not None
    if team.channel_id:
        enqueue(
            session,
            HANDOFF_CHANNEL,
            {"channel_id": team.channel_id},
            delivery_id=delivery.id,
            recipient_id=recipient.id,
        )
        return
    if team.usergroup_id:
        # The group's members are read when the message is sent, so they are current.
        enqueue(
            session,
            USERGROUP_LOOKUP,
            {"usergroup_id": team.usergroup_id},
            delivery_id=delivery.id,
            recipient_id=recipient.id,
        )
        return
    for member in team_members(session, team.id):
        enqueue(
            session,
            HANDOFF_DM,
            {"user_id": member},
            delivery_id=delivery.id,
            recipient_id=recipient.id,
        )


def enqueue_card_updates(session: Session, recipient: DeliveryRecipient) -> None:
    """Queue an update of every card that shows this recipient's hand-off."""
    enqueue(session, CARD_UPDATE, {}, delivery_id=recipient.delivery_id, recipient_id=recipient.id)


class HandoffSenders:
    """The outbox senders of deliveries, reading what they send from the database."""

    def __init__(self, session_scope: SessionScope, *, email_enabled: bool = False) -> None:
        self.session_scope = session_scope
        # Whether an address that belongs to nobody in Slack gets the hand-off by email now.
        self.email_enabled = email_enabled

    def senders(self) -> dict[str, Sender]:
        return {
            THREAD_CARD: self.send_thread_card,
            HANDOFF_DM: self.send_handoff_dm,
            HANDOFF_CHANNEL: self.send_handoff_channel,
            EMAIL_LOOKUP: self.send_email_lookup,
            USERGROUP_LOOKUP: self.send_usergroup_lookup,
            CARD_UPDATE: self.send_card_update,
            AGENT_NOTICE: self.send_agent_notice,
        }

    def send_thread_card(self, message: OutboxMessage, client: WebClient) -> Landed:
        facts, conversation, _delivery = self._facts(message.delivery_id)
        card = delivery_card(facts)
        response = client.chat_postMessage(
            channel=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            text=card.text,
            blocks=card.blocks,
        )
        return Landed(channel_id=response["channel"], message_ts=response["ts"])

    def send_handoff_dm(self, message: OutboxMessage, client: WebClient) -> Landed:
        user_id = message.payload["user_id"]
        try:
            profile = client.users_info(user=user_id)["user"]
        except SlackApiError as failure:
            if failure.response.get("error") in _UNREACHABLE_USER_ERRORS:
                raise PermanentFailure(f"{failure.response.get('error')}") from failure
            raise
        if profile.get("deleted"):
            # Slack accepts a DM to a deactivated account, but nobody would ever read it.
            raise PermanentFailure("account_inactive")
        card = self._handoff_card(message, client)
        # Posting to a user id delivers into the app's DM with that user.
        response = client.chat_postMessage(channel=user_id, text=card.text, blocks=card.blocks)
        self._mark_recipient(message, "notified")
        return Landed(channel_id=response["channel"], message_ts=response["ts"])

    def send_handoff_channel(self, message: OutboxMessage, client: WebClient) -> Landed:
        card = self._handoff_card(message, client)
        response = client.chat_postMessage(
            channel=message.payload["channel_id"], text=card.text, blocks=card.blocks
        )
        self._mark_recipient(message, "notified")
        return Landed(channel_id=response["channel"], message_ts=response["ts"])

    def send_email_lookup(self, message: OutboxMessage, client: WebClient) -> Landed:
        """Hand off to the Slack user with that address, or keep it for email."""
        email = message.payload["email"]
        try:
            user = client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as failure:
            if failure.response.get("error") != "users_not_found":
                raise
            user = None
        with self.session_scope() as session:
            if user is None or user.get("deleted"):
                recipient = session.get(DeliveryRecipient, message.recipient_id)
                if recipient is None:
                    raise PermanentFailure(f"recipient {message.recipient_id} not found")
                notice = become_email_recipient(
                    session, recipient, email_enabled=self.email_enabled
                )
                if notice is not None:
                    self.notify_agent(session, message.delivery_id, notice)
            else:
                set_recipient_state(session, message.recipient_id, "pending", user_id=user["id"])
                enqueue(
                    session,
                    HANDOFF_DM,
                    {"user_id": user["id"]},
                    delivery_id=message.delivery_id,
                    recipient_id=message.recipient_id,
                )
        return Landed()

    def send_usergroup_lookup(self, message: OutboxMessage, client: WebClient) -> Landed:
        """Hand off to each current member of a team's linked Slack user group."""
        usergroup_id = message.payload["usergroup_id"]
        try:
            members = client.usergroups_users_list(usergroup=usergroup_id)["users"]
        except SlackApiError as failure:
            if failure.response.get("error") in _UNREACHABLE_USERGROUP_ERRORS:
                raise PermanentFailure(f"{failure.response.get('error')}") from failure
            raise
        if not members:
            raise PermanentFailure("usergroup_has_no_members")
        with self.session_scope() as session:
            for member in dict.fromkeys(members):
                enqueue(
                    session,
                    HANDOFF_DM,
                    {"user_id": member},
                    delivery_id=message.delivery_id,
                    recipient_id=message.recipient_id,
                )
        return Landed()

    def send_card_update(self, message: OutboxMessage, client: WebClient) -> Landed:
        """Show an acceptance on every copy of the recipient's hand-off card."""
        with self.session_scope() as session:
            copies = [
                (card.channel_id, card.message_ts)
                for card in sent_cards(session, message.delivery_id, HANDOFF_KINDS)
                if card.recipient_id == message.recipient_id
            ]
            recipient = session.get(DeliveryRecipient, message.recipient_id)
            # A restricted user accepts in the portal and has no hand-off card in Slack, so
            # the agent's card in the thread shows the acceptance instead.
            thread_copies = []
            if recipient is not None and is_portal_actor(recipient.accepted_by):
                thread_copies = [
                    (card.channel_id, card.message_ts)
                    for card in sent_cards(session, message.delivery_id, (THREAD_CARD,))
                ]
        if copies:
            card = self._card_for(message.delivery_id, message.recipient_id, client)
        for channel_id, ts in copies:
            client.chat_update(channel=channel_id, ts=ts, text=card.text, blocks=card.blocks)
        if thread_copies:
            facts, _conversation, _delivery = self._facts(message.delivery_id)
            thread_card = delivery_card(facts)
            for channel_id, ts in thread_copies:
                client.chat_update(
                    channel=channel_id, ts=ts, text=thread_card.text, blocks=thread_card.blocks
                )
        return Landed()

    def send_agent_notice(self, message: OutboxMessage, client: WebClient) -> Landed:
        with self.session_scope() as session:
            delivery = session.get(Delivery, message.delivery_id)
            conversation = session.get(Conversation, delivery.conversation_id)
        client.chat_postEphemeral(
            channel=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            user=delivery.delivered_by,
            text=message.payload["text"],
        )
        return Landed()

    def on_failure(self, message: OutboxMessage, error: str) -> None:
        """Record an unreachable recipient and tell the agent who delivered."""
        kinds = (HANDOFF_DM, HANDOFF_CHANNEL, USERGROUP_LOOKUP)
        if message.kind not in kinds or message.recipient_id is None:
            return
        if message.kind == USERGROUP_LOOKUP:
            # The id, not a mention: a mention of a group notifies its members.
            shown = f"the user group {message.payload['usergroup_id']}"
        elif message.kind == HANDOFF_DM:
            shown = f"<@{message.payload['user_id']}>"
        else:
            shown = f"<#{message.payload['channel_id']}>"
        with self.session_scope() as session:
            # A team without a channel gets one DM per member, so one member's failure leaves
            # the team reachable while another member's DM was sent or may still be.
            if not _has_other_live_handoff(session, message):
                set_recipient_state(session, message.recipient_id, "unreachable", error=error)
            self.notify_agent(
                session,
                message.delivery_id,
                f"caretbot could not send the hand-off to {shown} ({error}). The delivery is "
                f"stored; deliver again to someone else if needed.",
            )

    # Reading a delivery for its cards

    def notify_agent(self, session: Session, delivery_id: int | None, text: str) -> None:
        """Queue an ephemeral notice in the thread to the agent who made the delivery."""
        enqueue(session, AGENT_NOTICE, {"text": text}, delivery_id=delivery_id)

    def _mark_recipient(self, message: OutboxMessage, state: str) -> None:
        if message.recipient_id is None:
            return
        with self.session_scope() as session:
            set_recipient_state(session, message.recipient_id, state)

    def _handoff_card(self, message: OutboxMessage, client: WebClient) -> Card:
        return self._card_for(message.delivery_id, message.recipient_id, client)

    def _card_for(
        self, delivery_id: int | None, recipient_id: int | None, client: WebClient
    ) -> Card:
        facts, conversation, _delivery = self._facts(delivery_id)
        with self.session_scope() as session:
            recipient = session.get(DeliveryRecipient, recipient_id)
            team = session.get(Team, recipient.team_id) if recipient and recipient.team_id else None
            accepted_by = recipient.accepted_by if recipient else None
            if recipient is not None and is_portal_actor(accepted_by):
                accepted_by = recipient.email
            accepted_at = recipient.accepted_at if recipient else None
            team_name = team.name if team else None
        try:
            permalink = client.chat_getPermalink(
                channel=conversation.channel_id, message_ts=conversation.thread_ts
            )["permalink"]
        except SlackApiError as failure:
            if failure.response.status_code == 429 or failure.response.status_code >= 500:
                raise
            # The card is still worth sending without its link, for example when the thread's
            # root message was deleted.
            log.warning(
                "permalink unavailable delivery=%s error=%s",
                delivery_id,
                failure.response.get("error"),
            )
            permalink = None
        return handoff_card(
            facts,
            recipient_id=recipient_id,
            permalink=permalink,
            accepted_by=accepted_by,
            accepted_at=accepted_at,
            team_name=team_name,
        )

    def delivery_facts(
        self, delivery_id: int | None
    ) -> tuple[DeliveryFacts, Conversation, Delivery]:
        """Read a delivery as its cards and emails show it."""
        return self._facts(delivery_id)

    def _facts(self, delivery_id: int | None) -> tuple[DeliveryFacts, Conversation, Delivery]:
        with self.session_scope() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                raise PermanentFailure(f"delivery {delivery_id} not found")
            conversation = session.get(Conversation, delivery.conversation_id)
            contact = session.get(Contact, delivery.contact_id) if delivery.contact_id else None
            application = (
                session.get(JobApplication, delivery.application_id)
                if delivery.application_id
                else None
            )
            previous = (
                session.get(Delivery, delivery.previous_delivery_id)
                if delivery.previous_delivery_id
                else None
            )
            stored_recipients = list_recipients(session, delivery.id)
            recipients = [_recipient_part(session, recipient) for recipient in stored_recipients]
            acceptances = tuple(
                Acceptance(by=recipient.email or "", at=recipient.accepted_at)
                for recipient in stored_recipients
                if is_portal_actor(recipient.accepted_by) and recipient.accepted_at is not None
            )
            facts = DeliveryFacts(
                status=Status(delivery.status),
                delivered_by=delivery.delivered_by,
                delivered_at=delivery.delivered_at,
                rating=delivery.rating,
                reason=delivery.reason,
                reason_text=delivery.reason_text or "",
                notes=delivery.notes or "",
                recipients=tuple(recipients),
                acceptances=acceptances,
                contact=ContactFacts(name=contact.name, email=contact.email, phone=contact.phone)
                if contact
                else None,
                application=_application_choice(application) if application else None,
                previous=PreviousDelivery(
                    status=Status(previous.status),
                    delivered_by=previous.delivered_by,
                    delivered_at=previous.delivered_at,
                )
                if previous
                else None,
            )
            return facts, conversation, delivery


def _has_other_live_handoff(session: Session, message: OutboxMessage) -> bool:
    """Return whether another hand-off of the message's recipient is sent or still pending."""
    assert message.delivery_id is not None
    return any(
        other.id != message.id
        and other.recipient_id == message.recipient_id
        and other.kind in HANDOFF_KINDS
        and other.state != FAILED
        for other in list_messages(session, message.delivery_id)
    )


def _recipient_part(session: Session, recipient: DeliveryRecipient) -> Recipient:
    if recipient.kind == "team":
        team = session.get(Team, recipient.team_id)
        return Recipient(kind="team", value=team.name if team else "removed")
    if recipient.kind == "email" and recipient.user_id is None:
        return Recipient(kind="email", value=recipient.email or "")
    return Recipient(kind="user", value=recipient.user_id or "")


def _application_choice(application: JobApplication) -> ApplicationChoice:
    assert application.id is not None
    return ApplicationChoice(
        id=application.id,
        job_title=application.job_title,
        job_location=application.job_location,
        source=application.source,
        applied_at=application.applied_at,
        active=application.active,
    )
