"""Store every message of the threads caretbot is in, and keep each thread's unread marker.

Each message is stored with its side. It is "contact" when any of these holds:

- the author is the Slack user linked to a contact of the workspace (Contact.slack_user_id);
- the message metadata names a contact of the workspace, as
  `{"event_type": <any>, "event_payload": {"contact_id": 42}}` (an int or a digit string);
- the author is a bot listed in the workspace setting "contact_bot_ids" (a list of bot ids);
- the channel is shared with another organization (Slack Connect) and the author's home team,
  the event's `user_team`, is not this workspace.

It is "bot" for caretbot's own messages, which never change the unread state, and "team" for
everyone else. A contact's message makes the conversation wait and puts the unread marker on
the thread's root message. A reply from a person on the team takes the marker off again.

create_app turns off Bolt's ignoring_self_events, which would otherwise drop caretbot's own
messages before any listener sees them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.router import parse_command
from bot.threads import ThreadRef
from bot.views.claim import claimed_text
from storage.claims import autoclaim_enabled, claim_conversation
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.messages import (
    NewMessage,
    clear_unread,
    contact_exists,
    edit_message,
    find_contact_by_slack_user,
    mark_message_deleted,
    mark_unread,
    store_message,
)
from storage.models import Conversation
from storage.settings import get_setting

log = logging.getLogger(__name__)

CONTACT_BOT_IDS_SETTING = "contact_bot_ids"
UNREAD_REACTION_SETTING = "unread_reaction"
DEFAULT_UNREAD_REACTION = "red_circle"

# Subtypes that are ordinary messages. bot_message is how an integration without a bot user
# posts, and such an integration may speak for the contact (CONTACT_BOT_IDS_SETTING). Other
# subtypes (joins, topic changes, ...) are not part of the conversation.
ORDINARY_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "bot_message"})
EDITED_SUBTYPE = "message_changed"
DELETED_SUBTYPE = "message_deleted"


@dataclass(frozen=True)
class IncomingMessage:
    """A new message from a message event: its thread, its author and its text."""

    thread: ThreadRef
    ts: str
    user_id: str | None
    bot_id: str | None
    text: str
    file_names: tuple[str, ...]
    subtype: str | None
    metadata_contact_id: int | None
    from_other_organization: bool

    @property
    def is_reply(self) -> bool:
        return self.ts != self.thread.thread_ts

    @property
    def is_person(self) -> bool:
        return self.user_id is not None and self.bot_id is None


@dataclass
class ThreadChanges:
    """The Slack changes that a stored message calls for, made after the commit."""

    marker: str | None = None  # "add" or "remove" the unread reaction
    reaction: str = DEFAULT_UNREAD_REACTION
    claimed_by: str | None = None  # autoclaim gave the conversation to this user


class MessageRecorder:
    """Stores message events; the message listener calls record() before anything else."""

    def __init__(self, session_scope: SessionScope) -> None:
        self._session_scope = session_scope

    def record(self, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Store a new, edited or deleted message, and ignore every other message event."""
        event = body.get("event") or {}
        # A DM with caretbot is no conversation with a contact.
        if event.get("channel_type") == "im":
            return
        subtype = event.get("subtype")
        try:
            if subtype in ORDINARY_SUBTYPES:
                self._record_new(body, context, client)
            elif subtype == EDITED_SUBTYPE:
                self._record_edit(body)
            elif subtype == DELETED_SUBTYPE:
                self._record_deletion(body)
        except SQLAlchemyError:
            # Logged, not raised, so the command in the message still runs and a contact gets no
            # error message.
            log.exception(
                "message not stored team=%s channel=%s ts=%s subtype=%s",
                body.get("team_id"),
                event.get("channel"),
                event.get("ts"),
                subtype,
            )

    def _record_new(self, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        message = parse_incoming(body)
        if message is None:
            return
        thread = message.thread
        with self._session_scope() as session:
            conversation = get_or_create_conversation(
                session,
                workspace_id=thread.team,
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
            )
            side = decide_side(session, message, context)
            stored = store_message(
                session,
                conversation,
                NewMessage(
                    ts=message.ts,
                    side=side,
                    text=message.text,
                    user_id=message.user_id,
                    bot_id=message.bot_id,
                    subtype=message.subtype,
                    file_names=message.file_names,
                ),
            )
            changes = _thread_changes(session, conversation, message, side) if stored else None

        log.debug(
            "message stored=%s side=%s team=%s channel=%s thread=%s ts=%s",
            stored,
            side,
            thread.team,
            thread.channel,
            thread.thread_ts,
            message.ts,
        )
        if changes is not None:
            _apply(client, thread, changes)

    def _record_edit(self, body: dict[str, Any]) -> None:
        event = body["event"]
        message = event.get("message") or {}
        channel, ts = event.get("channel"), message.get("ts")
        if not channel or not ts:
            return
        edited = message.get("edited") or {}
        edited_at = ts_to_datetime(edited.get("ts") or event.get("event_ts") or event["ts"])
        with self._session_scope() as session:
            revision = edit_message(
                session,
                workspace_id=body["team_id"],
                channel_id=channel,
                ts=ts,
                text=message.get("text") or "",
                file_names=file_names_of(message),
                edited_at=edited_at,
                edited_by=edited.get("user"),
            )
        log.debug(
            "message edit revised=%s team=%s channel=%s ts=%s",
            revision is not None,
            body["team_id"],
            channel,
            ts,
        )

    def _record_deletion(self, body: dict[str, Any]) -> None:
        event = body["event"]
        channel = event.get("channel")
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if not channel or not ts:
            return
        with self._session_scope() as session:
            marked = mark_message_deleted(
                session, workspace_id=body["team_id"], channel_id=channel, ts=ts
            )
        log.debug(
            "message deletion marked=%s team=%s channel=%s ts=%s",
            marked,
            body["team_id"],
            channel,
            ts,
        )


def parse_incoming(body: dict[str, Any]) -> IncomingMessage | None:
    """Parse a new message event; return None when it names no channel or ts."""
    event = body["event"]
    if not event.get("channel") or not event.get("ts"):
        return None
    return IncomingMessage(
        thread=ThreadRef.of_message(body["team_id"], event),
        ts=event["ts"],
        user_id=event.get("user"),
        bot_id=event.get("bot_id"),
        text=event.get("text") or "",
        file_names=file_names_of(event),
        subtype=event.get("subtype"),
        metadata_contact_id=metadata_contact_id(event),
        from_other_organization=is_from_other_organization(body),
    )


def file_names_of(message: dict[str, Any]) -> tuple[str, ...]:
    """Return the names of a message's files; a file Slack hides details of gives its id."""
    names = []
    for file in message.get("files") or []:
        if isinstance(file, dict):
            names.append(file.get("name") or file.get("title") or file.get("id") or "")
    return tuple(names)


def metadata_contact_id(message: dict[str, Any]) -> int | None:
    """Return the contact id in the message metadata's event_payload, if it names one.

    NOTE: Slack delivers event_payload in message events only for the metadata event types
    that the app's manifest lists under metadata_subscriptions. For other types it sends the
    event_type alone, and the manifest lists none yet.
    """
    metadata = message.get("metadata")
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    value = payload.get("contact_id") if isinstance(payload, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def is_from_other_organization(body: dict[str, Any]) -> bool:
    """Tell whether the author is a member of another organization in a Slack Connect channel.

    In channels shared between organizations, message events carry `user_team`, the team the
    author belongs to.
    TODO: in an Enterprise Grid org, a colleague from a sibling workspace also has another
    user_team and counts as the contact here.
    """
    if body.get("is_ext_shared_channel") is not True:
        return False
    user_team = body["event"].get("user_team")
    return bool(user_team) and user_team != body.get("team_id")


def is_caretbot(message: IncomingMessage, context: BoltContext) -> bool:
    if message.user_id is not None and message.user_id == context.bot_user_id:
        return True
    return message.bot_id is not None and message.bot_id == context.bot_id


def decide_side(session: Session, message: IncomingMessage, context: BoltContext) -> str:
    """Return "contact", "team" or "bot" by the rules in this module's docstring."""
    if is_caretbot(message, context):
        return "bot"
    team = message.thread.team
    if message.user_id is not None:
        contact_id = find_contact_by_slack_user(session, workspace_id=team, user_id=message.user_id)
        if contact_id is not None:
            return "contact"
    if message.metadata_contact_id is not None and contact_exists(
        session, workspace_id=team, contact_id=message.metadata_contact_id
    ):
        return "contact"
    if message.bot_id is not None and message.bot_id in contact_bot_ids(session, team):
        return "contact"
    if message.from_other_organization:
        return "contact"
    return "team"


def contact_bot_ids(session: Session, workspace_id: str) -> frozenset[str]:
    value = get_setting(session, workspace_id, CONTACT_BOT_IDS_SETTING)
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


def unread_reaction(session: Session, workspace_id: str) -> str:
    """Return the emoji name of the unread marker, without colons."""
    value = get_setting(session, workspace_id, UNREAD_REACTION_SETTING)
    name = value.strip().strip(":") if isinstance(value, str) else ""
    return name or DEFAULT_UNREAD_REACTION


def _thread_changes(
    session: Session, conversation: Conversation, message: IncomingMessage, side: str
) -> ThreadChanges:
    """Update the conversation for a newly stored message; return what Slack must show."""
    assert conversation.id is not None
    team = conversation.workspace_id
    changes = ThreadChanges()
    if side == "contact":
        if mark_unread(session, conversation.id):
            changes.marker = "add"
            changes.reaction = unread_reaction(session, team)
        return changes

    # Only a person's reply ends the wait. Another app's message, or a caret command typed for
    # caretbot, leaves the conversation waiting.
    if side != "team" or not message.is_person or parse_command(message.text) is not None:
        return changes
    assert message.user_id is not None
    if clear_unread(session, conversation.id):
        changes.marker = "remove"
        changes.reaction = unread_reaction(session, team)
    if (
        message.is_reply
        and conversation.claimed_by is None
        and autoclaim_enabled(session, team, message.user_id)
    ):
        outcome = claim_conversation(
            session, conversation.id, user_id=message.user_id, source="autoclaim"
        )
        if outcome.won:
            changes.claimed_by = message.user_id
    return changes


def _apply(client: WebClient, thread: ThreadRef, changes: ThreadChanges) -> None:
    # NOTE: a contact's message and a team reply handled at the same moment can send
    # reactions.add and reactions.remove in the opposite order of their commits. The marker
    # then stays on a conversation that no longer waits, until ^read takes it off.
    if changes.marker == "add":
        add_unread_marker(client, thread, changes.reaction)
    elif changes.marker == "remove":
        remove_unread_marker(client, thread, changes.reaction)
    if changes.claimed_by is not None:
        try:
            client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=claimed_text(changes.claimed_by),
            )
        except SlackApiError as failure:
            log.warning(
                "autoclaim not announced team=%s channel=%s thread=%s user=%s error=%s",
                thread.team,
                thread.channel,
                thread.thread_ts,
                changes.claimed_by,
                failure.response.get("error"),
            )
        log.info(
            "conversation autoclaimed team=%s channel=%s thread=%s user=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            changes.claimed_by,
        )


def add_unread_marker(client: WebClient, thread: ThreadRef, reaction: str) -> None:
    """React on the thread's root message; a marker that is there already is fine."""
    _react(client.reactions_add, "already_reacted", thread, reaction)


def remove_unread_marker(client: WebClient, thread: ThreadRef, reaction: str) -> None:
    """Take caretbot's reaction off the thread's root message; a missing one is fine."""
    _react(client.reactions_remove, "no_reaction", thread, reaction)


def _react(method: Any, harmless_error: str, thread: ThreadRef, reaction: str) -> None:
    try:
        method(channel=thread.channel, timestamp=thread.thread_ts, name=reaction)
    except SlackApiError as failure:
        error = failure.response.get("error")
        if error == harmless_error:
            return
        # The stored unread state is right; only the marker in Slack lags behind it.
        log.warning(
            "unread marker not changed team=%s channel=%s thread=%s reaction=%s error=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            reaction,
            error,
        )


def is_contact_user(session: Session, workspace_id: str, user_id: str) -> bool:
    """Tell whether the Slack user is linked to a contact of the workspace."""
    return (
        find_contact_by_slack_user(session, workspace_id=workspace_id, user_id=user_id) is not None
    )


def ts_to_datetime(ts: str) -> datetime:
    """Convert a Slack ts ("1733270000.000100", seconds since the epoch) to an aware time."""
    return datetime.fromtimestamp(float(ts), UTC)
