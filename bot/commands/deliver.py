"""^deliver: the two-step hand-off modal, the stored delivery, and Accept on hand-off cards."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock
from sqlmodel import Session

from bot import ids
from bot.addresses import normalize_email, normalize_phone
from bot.errors import UserError, reporting
from bot.handoff import enqueue_card_updates, enqueue_handoffs
from bot.modals import open_modal
from bot.outbox import OutboxWorker
from bot.router import CommandHandlers, CommandRequest
from bot.threads import ThreadRef
from bot.views.deliver import (
    ApplicationChoice,
    ContactFacts,
    DeliverContext,
    Step1Values,
    Step2Values,
    TeamChoice,
    parse_email_list,
    read_step1,
    read_step2,
    validate_step1,
    validate_step2,
)
from bot.views.deliver_modal import (
    application_options,
    loading_view,
    step1_view,
    step2_view,
    summarize_step1,
)
from storage.contacts import (
    link_conversation,
    list_applications,
    set_active_application,
    upsert_application,
    upsert_contact,
)
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.deliveries import (
    NewDelivery,
    NewRecipient,
    accept_recipient,
    allowed_acceptors,
    create_delivery,
    load_draft,
    save_draft,
)
from storage.models import Contact, Conversation, Delivery
from storage.settings import get_setting
from storage.teams import list_teams

if TYPE_CHECKING:
    from bot.home_refresh import HomeRefresher

log = logging.getLogger(__name__)

REASONS_SETTING = "reasons"
RECIPIENT_RULE_SETTING = "recipient_required"


class DeliverFlow:
    """The listeners of ^deliver, sharing the session factory and the outbox."""

    def __init__(
        self, session_scope: SessionScope, outbox: OutboxWorker, home: HomeRefresher | None = None
    ) -> None:
        self.session_scope = session_scope
        self.outbox = outbox
        self.home = home

    # ^deliver and the ways to open the modal

    def handle_deliver_command(self, request: CommandRequest) -> None:
        """Offer the modal: a message event has no trigger_id to open it with."""
        request.reply_ephemeral("Deliver this conversation", _open_button_blocks(request.thread))

    def handle_open_deliver_modal_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient
    ) -> None:
        """Open the modal from the button in the answer to ^deliver."""
        ack()

        thread = ThreadRef.from_metadata(body["actions"][0]["value"])
        if thread is None:
            raise UserError("This button is from an unknown thread. Type `^deliver` again.")
        self._open(client, body["trigger_id"], thread)

    def handle_deliver_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the modal from the "Deliver conversation" message shortcut."""
        ack()

        message = {**body["message"], "channel": body["channel"]["id"]}
        thread = ThreadRef.of_message(body["team"]["id"], message)
        self._open(client, body["trigger_id"], thread)

    def _open(self, client: WebClient, trigger_id: str, thread: ThreadRef) -> None:
        # The loading view goes out before any query, because the trigger dies 3 seconds
        # after the click. The real step 1 replaces it once the data is read.
        view_id = open_modal(client, trigger_id, loading_view(thread))

        context = self._context(thread)
        values = Step1Values(application=_active_application_value(context))
        client.views_update(
            view_id=view_id,
            view=step1_view(context, values, metadata=thread.to_metadata()),
        )

    # Step 1 changes in place

    def handle_deliver_step1_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient
    ) -> None:
        """Rebuild step 1 when the status or the application choice changes."""
        ack()

        view = body["view"]
        thread = _thread_of(view)
        values = read_step1(view["state"]["values"])
        context = self._context(thread)
        try:
            client.views_update(
                view_id=view["id"],
                hash=view["hash"],
                view=step1_view(context, values, metadata=view["private_metadata"]),
            )
        except SlackApiError as failure:
            if failure.response.get("error") != "hash_conflict":
                raise
            # A later change rebuilt the view first; its update already shows the newest state.
            log.info("deliver step 1 update skipped: hash_conflict view=%s", view["id"])

    def handle_application_options(self, ack: Ack, body: dict[str, Any]) -> None:
        """Return the applications that match what the agent typed in the picker."""
        thread = _thread_of(body["view"])
        context = self._context(thread)
        ack(
            options=[
                option.to_dict()
                for option in application_options(context.applications, body.get("value", ""))
            ]
        )

    # Next and Done

    def handle_deliver_step1_submission(self, ack: Ack, body: dict[str, Any], view: dict) -> None:
        """Check step 1, keep it as a draft, and push step 2 on top."""
        thread = _thread_of(view)
        values = read_step1(view["state"]["values"])
        context = self._context(thread)
        errors = validate_step1(values, context)
        if errors:
            ack(response_action="errors", errors=errors)
            return

        with self.session_scope() as session:
            conversation = _conversation(session, thread)
            save_draft(
                session,
                view_id=view["id"],
                workspace_id=thread.team,
                conversation_id=conversation.id,
                user_id=body["user"]["id"],
                data={"thread": thread.to_metadata(), "values": values.to_data()},
            )
            teams = [
                TeamChoice(id=team.id, name=team.name) for team in list_teams(session, thread.team)
            ]

        metadata = json.dumps({"draft": view["id"]})
        ack(
            response_action="push",
            view=step2_view(summarize_step1(context, values), teams, metadata=metadata),
        )

    def handle_deliver_step2_submission(
        self, ack: Ack, body: dict[str, Any], view: dict, client: WebClient
    ) -> None:
        """Store the delivery in one transaction, close the modal, then send the hand-offs."""
        draft_id = json.loads(view["private_metadata"])["draft"]
        recipients = read_step2(view["state"]["values"])
        with self.session_scope() as session:
            draft = load_draft(session, draft_id)
        if draft is None:
            ack(
                response_action="errors",
                errors={
                    ids.DELIVER_USERS_BLOCK: "This form expired. Close it and type ^deliver again."
                },
            )
            return
        thread = ThreadRef.from_metadata(draft.data["thread"])
        assert thread is not None
        values = Step1Values.from_data(draft.data["values"])
        assert values.status is not None

        with self.session_scope() as session:
            rule = get_setting(session, thread.team, RECIPIENT_RULE_SETTING)
        errors = validate_step2(recipients, status=values.status, required_override=rule)
        if errors:
            ack(response_action="errors", errors=errors)
            return

        user_id = body["user"]["id"]
        # Stored before the acknowledgement, so a database failure leaves the modal open with
        # everything typed instead of losing the delivery; the insert takes milliseconds.
        with self.session_scope() as session:
            delivery, created = self._store(session, thread, values, recipients, draft_id, user_id)
        ack(response_action="clear")

        log.info(
            "delivery stored delivery=%s created=%s team=%s channel=%s user=%s status=%s",
            delivery.id,
            created,
            thread.team,
            thread.channel,
            user_id,
            values.status.value,
        )
        self.outbox.wake()
        if created and self.home is not None:
            self.home.delivery_changed(delivery.id)

    def _store(
        self,
        session: Session,
        thread: ThreadRef,
        values: Step1Values,
        recipients: Step2Values,
        draft_id: str,
        user_id: str,
    ) -> tuple[Delivery, bool]:
        conversation = _conversation(session, thread)
        contact_id, application_id = _contact_and_application(session, conversation, values)
        new_recipients = [NewRecipient(kind="user", user_id=u) for u in recipients.user_ids]
        new_recipients += [NewRecipient(kind="team", team_id=t) for t in recipients.team_ids]
        new_recipients += [
            NewRecipient(kind="email", email=address)
            for address in parse_email_list(recipients.emails_text).valid
        ]
        delivery, created = create_delivery(
            session,
            NewDelivery(
                submission_key=draft_id,
                conversation=conversation,
                application_id=application_id,
                contact_id=contact_id,
                status=values.status.value,
                reason=values.reason if values.status.has_reason else None,
                reason_text=values.reason_text or None,
                notes=values.notes or None,
                rating=values.rating if values.status.rating_required else None,
                delivered_by=user_id,
                recipients=new_recipients,
            ),
        )
        if created:
            enqueue_handoffs(session, delivery)
        return delivery, created

    # Accept on a hand-off card

    def handle_deliver_accept_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient
    ) -> None:
        """Record who accepted the hand-off; the first click wins, and every copy shows it."""
        ack()

        value = body["actions"][0].get("value", "")
        if not value.isdigit():
            raise UserError("This Accept button is damaged. Ask the agent to deliver again.")
        recipient_id = int(value)
        user_id = body["user"]["id"]
        team_id = (body.get("team") or {}).get("id")
        with self.session_scope() as session:
            allowed = allowed_acceptors(session, recipient_id, workspace_id=team_id)
            if allowed is None:
                raise UserError("This hand-off no longer exists.")
            if allowed and user_id not in allowed:
                shown = ", ".join(f"<@{member}>" for member in sorted(allowed))
                raise UserError(f"This hand-off is for {shown}; only they can accept it.")
            recipient, won = accept_recipient(session, recipient_id, user_id=user_id)
            if recipient is None:
                raise UserError("This hand-off no longer exists.")
            if won:
                enqueue_card_updates(session, recipient)
            accepted_by, accepted_at = recipient.accepted_by, recipient.accepted_at
            delivery_id = recipient.delivery_id

        if won:
            self.outbox.wake()
            if self.home is not None:
                self.home.delivery_changed(delivery_id)
            return
        if accepted_by != user_id:
            channel = (body.get("channel") or {}).get("id") or user_id
            client.chat_postEphemeral(
                channel=channel,
                user=user_id,
                text=f"<@{accepted_by}> accepted this hand-off already, at "
                f"{accepted_at:%Y-%m-%d %H:%M} UTC.",
            )

    # Reading what step 1 needs

    def _context(self, thread: ThreadRef) -> DeliverContext:
        with self.session_scope() as session:
            conversation = _conversation(session, thread)
            contact = (
                session.get(Contact, conversation.contact_id) if conversation.contact_id else None
            )
            applications = (
                list_applications(session, contact_id=contact.id) if contact is not None else []
            )
            reasons = get_setting(session, thread.team, REASONS_SETTING)
            return DeliverContext(
                contact=ContactFacts(name=contact.name, email=contact.email, phone=contact.phone)
                if contact is not None
                else None,
                applications=tuple(
                    ApplicationChoice(
                        id=application.id,
                        job_title=application.job_title,
                        job_location=application.job_location,
                        source=application.source,
                        applied_at=application.applied_at,
                        active=application.active,
                    )
                    for application in applications
                ),
                reason_override=reasons,
            )


def _open_button_blocks(thread: ThreadRef) -> list[Any]:
    return [
        SectionBlock(
            text=MarkdownTextObject(text="Record the outcome and hand the candidate off.")
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Deliver…",
                    action_id=ids.OPEN_DELIVER_MODAL,
                    value=thread.to_metadata(),
                    style="primary",
                )
            ]
        ),
    ]


def _thread_of(view: dict[str, Any]) -> ThreadRef:
    thread = ThreadRef.from_metadata(view.get("private_metadata", ""))
    if thread is None:
        raise UserError("This form lost its thread. Close it and type `^deliver` again.")
    return thread


def _conversation(session: Session, thread: ThreadRef) -> Conversation:
    return get_or_create_conversation(
        session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
    )


def _active_application_value(context: DeliverContext) -> str | None:
    for application in context.applications:
        if application.active:
            return f"app:{application.id}"
    return None


def _contact_and_application(
    session: Session, conversation: Conversation, values: Step1Values
) -> tuple[int | None, int | None]:
    """Create the contact and application the agent named in step 1, when they are new."""
    contact_id = conversation.contact_id
    if contact_id is None and values.contact_name:
        contact = upsert_contact(
            session,
            workspace_id=conversation.workspace_id,
            name=values.contact_name,
            email=normalize_email(values.contact_email) if values.contact_email else None,
            phone=normalize_phone(values.contact_phone) if values.contact_phone else None,
        ).contact
        contact_id = contact.id
        link_conversation(
            session,
            workspace_id=conversation.workspace_id,
            channel_id=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            contact_id=contact_id,
        )

    application_id = values.application_id
    if values.job_title and contact_id is not None and application_id is None:
        application = upsert_application(
            session,
            contact_id=contact_id,
            job_title=values.job_title,
            job_location=values.job_location or None,
        ).application
        set_active_application(session, application)
        application_id = application.id
    return contact_id, application_id


def register(
    app: App,
    handlers: CommandHandlers,
    session_scope: SessionScope,
    outbox: OutboxWorker,
    *,
    home: HomeRefresher | None = None,
) -> None:
    flow = DeliverFlow(session_scope, outbox, home)
    handlers["deliver"] = flow.handle_deliver_command
    app.action(ids.OPEN_DELIVER_MODAL)(reporting(flow.handle_open_deliver_modal_action))
    app.shortcut(ids.SHORTCUT_DELIVER)(reporting(flow.handle_deliver_shortcut))
    app.action(ids.DELIVER_STATUS_INPUT)(reporting(flow.handle_deliver_step1_action))
    app.action(ids.DELIVER_APPLICATION_INPUT)(reporting(flow.handle_deliver_step1_action))
    app.options(ids.DELIVER_APPLICATION_INPUT)(flow.handle_application_options)
    app.view(ids.DELIVER_MODAL)(reporting(flow.handle_deliver_step1_submission))
    app.view(ids.DELIVER_RECIPIENTS_MODAL)(reporting(flow.handle_deliver_step2_submission))
    app.action(ids.DELIVER_ACCEPT)(reporting(flow.handle_deliver_accept_action))
