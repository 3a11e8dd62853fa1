"""^note: internal notes for the team, typed inline or written in a modal.

People from another organization can read a `^note <text>` typed in a channel shared with them
(Slack Connect). There, after storing the note, caretbot deletes the command message with
SLACK_USER_TOKEN. Without that token, or when the deletion fails, it tells the agent to delete
the message. Notes written in the modal are never visible in the channel.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.config import Settings
from bot.errors import UserError, reporting
from bot.modals import open_modal
from bot.router import CommandHandlers, CommandRequest
from bot.threads import ThreadRef
from bot.views.note import MAX_NOTE_LENGTH, note_button_blocks, note_modal, read_note_text
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.notes import add_note

log = logging.getLogger(__name__)

SAVED_TEXT = "Note saved. Only your team can see it."
_MODAL_NEXT_TIME = "Next time, type `^note` alone to write the note in a form that only you see."
DELETED_TEXT = (
    "Note saved. Only your team can see it. People outside your organization are in this "
    f"channel, so caretbot deleted the message you typed. {_MODAL_NEXT_TIME}"
)
VISIBLE_TEXT = (
    "Note saved, but people outside your organization are in this channel and can read the "
    f"message you typed. Delete that message now. {_MODAL_NEXT_TIME}"
)
NOT_DELETED_TEXT = (
    "Note saved, but people outside your organization are in this channel and can read the "
    f"message you typed. caretbot could not delete it, so delete it now. {_MODAL_NEXT_TIME}"
)
UNCHECKED_TEXT = (
    "Note saved. caretbot could not check whether people outside your organization are in this "
    f"channel. If they are, they can read the message you typed, so delete it. {_MODAL_NEXT_TIME}"
)

# Slack rate-limits conversations.info, so its result is cached per channel for this many
# seconds. A channel that becomes shared is detected up to this late.
SHARING_MAX_AGE_SECONDS = 300.0
# Beyond this many channels, the least recently used entry is dropped.
SHARING_MAX_CHANNELS = 1000


class TypedNote(enum.Enum):
    """The outcome for the message in which an agent typed `^note <text>`."""

    PRIVATE = enum.auto()  # the channel has no members from outside the organization
    DELETED = enum.auto()
    NO_USER_TOKEN = enum.auto()
    DELETE_FAILED = enum.auto()
    UNCHECKED = enum.auto()  # conversations.info failed


REPLY_TEXTS = {
    TypedNote.PRIVATE: SAVED_TEXT,
    TypedNote.DELETED: DELETED_TEXT,
    TypedNote.NO_USER_TOKEN: VISIBLE_TEXT,
    TypedNote.DELETE_FAILED: NOT_DELETED_TEXT,
    TypedNote.UNCHECKED: UNCHECKED_TEXT,
}


def has_external_members(channel: dict[str, Any]) -> bool:
    """Tell whether a conversations.info channel has, or is inviting, another organization.

    is_ext_shared marks a Slack Connect channel and is_pending_ext_shared one whose invitation
    is not yet accepted. is_shared and is_org_shared are also true for a channel shared between
    workspaces of one Enterprise Grid organization, whose members are colleagues.
    TODO: guest accounts of this workspace also read the channel, and these fields do not show
    them.
    """
    return bool(channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"))


class ChannelSharing:
    """Whether channels have members outside the organization, from conversations.info, cached."""

    def __init__(
        self,
        *,
        max_age: float = SHARING_MAX_AGE_SECONDS,
        max_channels: int = SHARING_MAX_CHANNELS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age = max_age
        self._max_channels = max_channels
        self._clock = clock
        self._lock = threading.Lock()
        # channel id -> (clock reading when fetched, has external members)
        self._entries: OrderedDict[str, tuple[float, bool]] = OrderedDict()

    def is_shared_externally(self, client: WebClient, channel: str) -> bool:
        """Return whether the channel has members outside the organization.

        Raises SlackApiError when conversations.info fails. A failure is not cached.
        """
        now = self._clock()
        with self._lock:
            entry = self._entries.get(channel)
            if entry is not None and now - entry[0] < self._max_age:
                self._entries.move_to_end(channel)
                return entry[1]

        # Called without the lock, so a slow response holds up no other channel. Two notes that
        # miss the cache at once both call conversations.info.
        response = client.conversations_info(channel=channel)
        shared = has_external_members(response["channel"])

        with self._lock:
            self._entries[channel] = (now, shared)
            self._entries.move_to_end(channel)
            while len(self._entries) > self._max_channels:
                self._entries.popitem(last=False)
        return shared


def build_user_client(settings: Settings | None) -> WebClient | None:
    """Return a Web API client with SLACK_USER_TOKEN on SLACK_API_URL, or None without one."""
    if settings is None or settings.user_token is None:
        return None
    return WebClient(token=settings.user_token, base_url=settings.api_url, timeout=10)


def handle_note_command(
    request: CommandRequest,
    session_scope: SessionScope,
    sharing: ChannelSharing,
    user_client: WebClient | None,
) -> None:
    """Store the typed note, or offer the modal when the command has no text.

    The note is stored before any Web API call, so a failing call loses no note.
    """
    if not request.command.argument:
        request.reply_ephemeral("Write a note", note_button_blocks(request.thread))
        return
    if len(request.command.argument) > MAX_NOTE_LENGTH:
        raise UserError(
            f"The note has {len(request.command.argument)} characters; the limit is "
            f"{MAX_NOTE_LENGTH}. Split it into several notes."
        )

    _store_note(session_scope, request.thread, request.user, request.command.argument, "command")

    outcome = _hide_typed_note(request, sharing, user_client)

    # The note's text is never repeated into the thread, where the contact may read it.
    if outcome is TypedNote.DELETED and request.message_ts == request.thread.thread_ts:
        # The deleted message was the thread's root, so the reply goes to the channel, where the
        # agent sees it even when no thread is left.
        request.client.chat_postEphemeral(
            channel=request.thread.channel, user=request.user, text=REPLY_TEXTS[outcome]
        )
    else:
        request.reply_ephemeral(REPLY_TEXTS[outcome])


def _hide_typed_note(
    request: CommandRequest, sharing: ChannelSharing, user_client: WebClient | None
) -> TypedNote:
    """Delete the command message where people outside the organization can read it.

    Web API failures are logged and returned, not raised. The note is already stored, and the
    global error handler would tell the agent that nothing was changed.
    """
    channel = request.thread.channel
    try:
        shared = sharing.is_shared_externally(request.client, channel)
    except (SlackApiError, OSError) as failure:
        log.warning(
            "conversations.info failed, note command not checked team=%s channel=%s ts=%s error=%s",
            request.thread.team,
            channel,
            request.message_ts,
            _error_name(failure),
        )
        return TypedNote.UNCHECKED
    if not shared:
        return TypedNote.PRIVATE
    if user_client is None:
        return TypedNote.NO_USER_TOKEN

    try:
        user_client.chat_delete(channel=channel, ts=request.message_ts)
    except (SlackApiError, OSError) as failure:
        # cant_delete_message: the token's user may not delete others' messages in Slack.
        log.warning(
            "note command not deleted team=%s channel=%s ts=%s user=%s error=%s",
            request.thread.team,
            channel,
            request.message_ts,
            request.user,
            _error_name(failure),
        )
        return TypedNote.DELETE_FAILED
    log.info(
        "note command deleted in shared channel team=%s channel=%s ts=%s user=%s",
        request.thread.team,
        channel,
        request.message_ts,
        request.user,
    )
    return TypedNote.DELETED


def _error_name(failure: SlackApiError | OSError) -> str:
    """Return Slack's error name, or the class of a network failure, for a log line."""
    if isinstance(failure, SlackApiError):
        return str(failure.response.get("error"))
    return type(failure).__name__


def handle_open_note_modal_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """Open the note modal from the button in the ephemeral answer to ^note."""
    ack()

    thread = ThreadRef.from_metadata(body["actions"][0]["value"])
    if thread is None:
        raise UserError("This button is from an unknown thread. Type `^note` in the thread again.")
    open_modal(client, body["trigger_id"], note_modal(thread))


def handle_note_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """Open the note modal from the message shortcut."""
    ack()

    message = {**body["message"], "channel": body["channel"]["id"]}
    thread = ThreadRef.of_message(body["team"]["id"], message)
    open_modal(client, body["trigger_id"], note_modal(thread))


def handle_note_submission(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session_scope: SessionScope,
) -> None:
    """Store the note written in the modal."""
    text = read_note_text(view)
    if not text:
        ack(response_action="errors", errors={ids.NOTE_BLOCK: "Write the note before saving."})
        return
    if len(text) > MAX_NOTE_LENGTH:
        # Slack's client enforces the input's max_length, but a request may come from elsewhere.
        ack(
            response_action="errors",
            errors={
                ids.NOTE_BLOCK: f"The note has {len(text)} characters; the limit is "
                f"{MAX_NOTE_LENGTH}. Shorten it or split it into several notes."
            },
        )
        return
    thread = ThreadRef.from_metadata(view.get("private_metadata", ""))
    if thread is None:
        ack(
            response_action="errors",
            errors={ids.NOTE_BLOCK: "This form lost its thread. Copy the note and start again."},
        )
        return

    # Storing before the acknowledgement keeps the typed note in the open modal if the
    # database fails. A single insert takes milliseconds, well inside Slack's 3 seconds.
    _store_note(session_scope, thread, body["user"]["id"], text, "modal")
    ack()

    client.chat_postEphemeral(
        channel=thread.channel, thread_ts=thread.thread_ts, user=body["user"]["id"], text=SAVED_TEXT
    )


def _store_note(
    session_scope: SessionScope, thread: ThreadRef, author: str, text: str, source: str
) -> None:
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        add_note(session, conversation, author=author, text=text, source=source)


def register(
    app: App,
    handlers: CommandHandlers,
    session_scope: SessionScope,
    *,
    settings: Settings | None = None,
) -> None:
    """Register ^note, its button, shortcut and modal. `settings` supplies SLACK_USER_TOKEN."""
    sharing = ChannelSharing()
    user_client = build_user_client(settings)
    handlers["note"] = lambda request: handle_note_command(
        request, session_scope, sharing, user_client
    )
    app.action(ids.OPEN_NOTE_MODAL)(reporting(handle_open_note_modal_action))
    app.shortcut(ids.SHORTCUT_NOTE)(reporting(handle_note_shortcut))
    app.view(ids.NOTE_MODAL)(
        reporting(partial(handle_note_submission, session_scope=session_scope))
    )
