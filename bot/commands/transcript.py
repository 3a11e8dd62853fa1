"""^transcript: send the requester a plain-text transcript of the conversation, as a file.

The file goes to the requester's DM with caretbot and never to the thread's channel, where
the contact may read it, because it contains the team's internal notes and hand-offs.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.backfill import BackfillError, ensure_backfilled
from bot.errors import UserError, new_error_id
from bot.outcomes import Status
from bot.recording import ts_to_datetime
from bot.router import CommandHandlers, CommandRequest
from bot.slack_text import mentioned_user_ids
from bot.threads import ThreadRef
from bot.transcript import (
    Side,
    TranscriptDelivery,
    TranscriptHeader,
    TranscriptMessage,
    TranscriptNote,
    render_transcript,
)
from bot.uploads import FileUploadError, upload_text_file
from storage.contacts import list_applications
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.deliveries import list_deliveries, list_recipients
from storage.messages import find_contact_by_slack_user, list_messages, list_revisions
from storage.models import (
    Contact,
    ConversationEvent,
    Delivery,
    DeliveryRecipient,
    JobApplication,
    Message,
    Team,
)
from storage.notes import list_notes

log = logging.getLogger(__name__)

PREPARING_TEXT = "Preparing the transcript…"
SENT_TEXT = "Sent the transcript to your DM with caretbot"
CARETBOT_NAME = "caretbot"
DEFAULT_ZONE = "UTC"


@dataclass
class StoredConversation:
    """The stored records that a transcript shows, loaded in one session.

    Recipients are user ids for people, and team names or email addresses otherwise.
    `recipient_user_ids` are the user ids among them.
    """

    contact: str | None
    application: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    messages: list[Message]
    revisions: dict[int, list[str]]
    notes: list[ConversationEvent]
    deliveries: list[tuple[Delivery, tuple[str, ...]]]
    recipient_user_ids: set[str] = field(default_factory=set)


class UserDirectory:
    """A cache of users.info responses for one request, so each user costs one call."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._users: dict[str, dict[str, Any] | None] = {}
        self.failed: list[str] = []

    def user(self, user_id: str) -> dict[str, Any] | None:
        if user_id not in self._users:
            try:
                self._users[user_id] = self._client.users_info(user=user_id)["user"]
            except SlackApiError as failure:
                # The transcript then shows the id, which is still a precise reference.
                self._users[user_id] = None
                self.failed.append(f"{user_id}:{failure.response.get('error')}")
        return self._users[user_id]

    def name(self, user_id: str) -> str:
        """Return the user's real name, else the display name, else the user id."""
        user = self.user(user_id) or {}
        profile = user.get("profile") or {}
        return (
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or user_id
        )

    def zone(self, user_id: str) -> ZoneInfo:
        """Return the user's time zone from their Slack profile, or UTC."""
        tz = (self.user(user_id) or {}).get("tz") or DEFAULT_ZONE
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_ZONE)


class TranscriptFlow:
    """The ^transcript handler, with the session factory and caretbot's ids per workspace."""

    def __init__(self, session_scope: SessionScope) -> None:
        self.session_scope = session_scope
        self._bot_ids: dict[str, tuple[str | None, str | None]] = {}

    def handle_transcript_command(self, request: CommandRequest) -> None:
        """Fill in the thread's history, render it, and upload it to the requester's DM."""
        thread = request.thread
        if thread.channel.startswith("D"):
            raise UserError(
                "A DM with caretbot has no transcript. Type `^transcript` in a conversation's "
                "thread."
            )
        request.reply_ephemeral(PREPARING_TEXT)

        history_problem = self._backfill(request)
        stored = load_conversation(self.session_scope, thread)
        directory = UserDirectory(request.client)
        content = render_stored(stored, directory, requester=request.user)
        if directory.failed:
            log.warning(
                "transcript names not found team=%s channel=%s thread=%s count=%d users=%s",
                thread.team,
                thread.channel,
                thread.thread_ts,
                len(directory.failed),
                ",".join(directory.failed[:10]),
            )

        file_id = self._upload(request, stored, content)
        if file_id is None:
            return
        text = SENT_TEXT if history_problem is None else f"{SENT_TEXT}. {history_problem}"
        request.reply_ephemeral(text)
        log.info(
            "transcript sent team=%s channel=%s thread=%s user=%s messages=%d bytes=%d file=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            request.user,
            len(stored.messages),
            len(content.encode("utf-8")),
            file_id,
        )

    def _backfill(self, request: CommandRequest) -> str | None:
        """Fill in the thread's history. Return the text for the requester if that failed."""
        bot_user_id, bot_id = self._bot_identity(request.client, request.thread.team)
        try:
            ensure_backfilled(
                self.session_scope,
                request.client,
                request.thread,
                bot_user_id=bot_user_id,
                bot_id=bot_id,
            )
        except BackfillError as failure:
            # The transcript of what caretbot stored is still worth sending.
            return f"It may lack messages from before caretbot joined: {failure.message}"
        return None

    def _bot_identity(self, client: WebClient, team: str) -> tuple[str | None, str | None]:
        # A CommandRequest carries no Bolt context, so caretbot's ids come from auth.test,
        # once per workspace for the life of the process.
        if team not in self._bot_ids:
            response = client.auth_test()
            self._bot_ids[team] = (response.get("user_id"), response.get("bot_id"))
        return self._bot_ids[team]

    def _upload(
        self, request: CommandRequest, stored: StoredConversation, content: str
    ) -> str | None:
        """Upload into the requester's DM and return the file id, or None after a failure.

        After a failed upload, the requester gets an ephemeral message with an error id.
        """
        thread = request.thread
        opened = request.client.conversations_open(users=request.user)
        dm_channel = opened["channel"]["id"]
        filename = f"transcript-{thread.channel}-{thread.thread_ts}.txt"
        if stored.contact:
            title = f"Transcript: conversation with {stored.contact}"
        else:
            title = f"Transcript: thread {thread.thread_ts} in channel {thread.channel}"
        try:
            return upload_text_file(
                request.client,
                channel_id=dm_channel,
                filename=filename,
                title=title,
                content=content,
            )
        except FileUploadError as failure:
            error_id = new_error_id()
            log.error(
                "transcript upload failed team=%s channel=%s thread=%s user=%s step=%s "
                "error_id=%s error=%s",
                thread.team,
                thread.channel,
                thread.thread_ts,
                request.user,
                failure.step,
                error_id,
                failure,
            )
            request.reply_ephemeral(
                f"Sorry, the transcript could not be uploaded to your DM with caretbot. Try "
                f"again; if it keeps failing, give your admin this error id: `{error_id}`."
            )
            return None


def load_conversation(
    session_scope: SessionScope,
    thread: ThreadRef,
    *,
    delivery_ids: Collection[int] | None = None,
) -> StoredConversation:
    """Load the conversation's messages, revisions, notes and deliveries in one session.

    With `delivery_ids`, only those deliveries are loaded: a reader outside Slack sees the
    deliveries made to them, not who else the conversation went to.
    """
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        assert conversation.id is not None
        messages = list_messages(session, conversation.id)
        # Only an edit writes a revision, and every edit sets edited_at, so the other
        # messages need no query.
        revisions = {
            message.id: [revision.text for revision in list_revisions(session, message.id)]
            for message in messages
            if message.edited_at is not None and message.id is not None
        }
        deliveries = []
        recipient_user_ids = set()
        for delivery in list_deliveries(session, conversation.id):
            assert delivery.id is not None
            if delivery_ids is not None and delivery.id not in delivery_ids:
                continue
            recipients = list_recipients(session, delivery.id)
            labels = tuple(_recipient_label(session, recipient) for recipient in recipients)
            deliveries.append((delivery, labels))
            recipient_user_ids.update(
                r.user_id for r in recipients if r.kind == "user" and r.user_id
            )

        contact_id = conversation.contact_id or _contact_of_messages(session, thread, messages)
        contact = session.get(Contact, contact_id) if contact_id is not None else None
        application = _application(session, contact, [delivery for delivery, _ in deliveries])
        return StoredConversation(
            contact=contact.name if contact is not None else None,
            application=_application_label(application) if application is not None else None,
            claimed_by=conversation.claimed_by,
            claimed_at=conversation.claimed_at,
            messages=messages,
            revisions=revisions,
            notes=list_notes(session, conversation.id),
            deliveries=deliveries,
            recipient_user_ids=recipient_user_ids,
        )


def _recipient_label(session: Session, recipient: DeliveryRecipient) -> str:
    if recipient.kind == "team" and recipient.team_id is not None:
        team = session.get(Team, recipient.team_id)
        if team is not None:
            return team.name
    # NOTE: render_transcript puts "@" before every recipient that starts with neither "@"
    # nor "#", so an email recipient reads "@ann@example.com".
    return recipient.user_id or recipient.email or recipient.kind


def _contact_of_messages(
    session: Session, thread: ThreadRef, messages: list[Message]
) -> int | None:
    """Return the contact linked to the first contact-side author, for an unlinked thread."""
    for message in messages:
        if message.side == "contact" and message.user_id is not None:
            contact_id = find_contact_by_slack_user(
                session, workspace_id=thread.team, user_id=message.user_id
            )
            if contact_id is not None:
                return contact_id
    return None


def _application(
    session: Session, contact: Contact | None, deliveries: list[Delivery]
) -> JobApplication | None:
    """Return the application of the latest delivery that names one, else the active one."""
    for delivery in reversed(deliveries):
        if delivery.application_id is not None:
            application = session.get(JobApplication, delivery.application_id)
            if application is not None:
                return application
    if contact is None or contact.id is None:
        return None
    active = [item for item in list_applications(session, contact_id=contact.id) if item.active]
    return active[-1] if active else None


def _application_label(application: JobApplication) -> str:
    label = application.job_title
    if application.job_location:
        label += f", {application.job_location}"
    if application.requisition_id:
        label += f" ({application.requisition_id})"
    return label


def render_stored(stored: StoredConversation, directory: UserDirectory, *, requester: str) -> str:
    """Resolve the user names the conversation needs, then render it in the requester's zone."""
    user_names = {user_id: directory.name(user_id) for user_id in sorted(_user_ids(stored))}

    def name(user_id: str | None) -> str:
        return user_names.get(user_id, user_id) if user_id else "(unknown)"

    messages = [
        TranscriptMessage(
            ts=message.ts,
            at=ts_to_datetime(message.ts),
            author_name=_author_name(message, user_names),
            side=cast(Side, message.side),
            text=message.text,
            files=tuple(message.file_names),
            edited_at=message.edited_at,
            deleted=message.deleted_at is not None,
            revisions=tuple(stored.revisions.get(message.id or 0, ())),
        )
        for message in stored.messages
    ]
    notes = [
        TranscriptNote(at=note.at, author_name=name(note.actor), text=note.detail.get("text", ""))
        for note in stored.notes
    ]
    deliveries = [
        TranscriptDelivery(
            at=delivery.delivered_at,
            delivered_by_name=name(delivery.delivered_by),
            status_label=_status_label(delivery.status),
            rating=delivery.rating,
            reason=_reason(delivery),
            recipients=recipients,
        )
        for delivery, recipients in stored.deliveries
    ]
    header = TranscriptHeader(
        contact=stored.contact,
        application=stored.application,
        claimed_by=name(stored.claimed_by) if stored.claimed_by else None,
        claimed_at=stored.claimed_at,
    )
    return render_transcript(
        header,
        messages,
        notes,
        deliveries,
        zone=directory.zone(requester),
        user_names=user_names,
    )


def _user_ids(stored: StoredConversation) -> set[str]:
    """Return every user the transcript names: authors, mentions, agents and recipients."""
    ids: set[str] = set()
    texts: list[str] = []
    for message in stored.messages:
        if message.side != "bot" and message.user_id:
            ids.add(message.user_id)
        texts.append(message.text)
        texts.extend(stored.revisions.get(message.id or 0, ()))
    for note in stored.notes:
        if note.actor:
            ids.add(note.actor)
        texts.append(note.detail.get("text", ""))
    ids.update(delivery.delivered_by for delivery, _ in stored.deliveries)
    ids.update(stored.recipient_user_ids)
    if stored.claimed_by:
        ids.add(stored.claimed_by)
    ids.update(_mentions(texts))
    return ids


def _mentions(texts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        # Most messages contain no mention, so the check skips the regex for them.
        if "<@" in text:
            found |= mentioned_user_ids(text)
    return found


def _author_name(message: Message, user_names: dict[str, str]) -> str:
    if message.side == "bot":
        return CARETBOT_NAME
    if message.user_id:
        return user_names.get(message.user_id, message.user_id)
    return message.bot_id or "(unknown)"


def _status_label(status: str) -> str:
    try:
        return Status(status).label
    except ValueError:
        return status


def _reason(delivery: Delivery) -> str | None:
    if delivery.reason and delivery.reason_text and delivery.reason_text != delivery.reason:
        return f"{delivery.reason}: {delivery.reason_text}"
    return delivery.reason or delivery.reason_text


def register(app: App, handlers: CommandHandlers, session_scope: SessionScope) -> None:
    # ^transcript has no buttons or modals yet, so `app` gets no listener.
    del app
    handlers["transcript"] = TranscriptFlow(session_scope).handle_transcript_command
