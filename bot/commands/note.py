"""^note: internal notes for the team, typed inline or written in a modal."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
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


def handle_note_command(request: CommandRequest, session_scope: SessionScope) -> None:
    """Store the typed note, or offer the modal when the command has no text."""
    if not request.command.argument:
        request.reply_ephemeral("Write a note", note_button_blocks(request.thread))
        return
    if len(request.command.argument) > MAX_NOTE_LENGTH:
        raise UserError(
            f"The note has {len(request.command.argument)} characters; the limit is "
            f"{MAX_NOTE_LENGTH}. Split it into several notes."
        )

    _store_note(session_scope, request.thread, request.user, request.command.argument, "command")

    # The note's text is never repeated into the thread, where the contact may read it.
    request.reply_ephemeral(SAVED_TEXT)


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
    thread = ThreadRef.from_metadata(view.get("private_metadata", ""))
    if thread is None:
        ack(
            response_action="errors",
            errors={ids.NOTE_BLOCK: "This form lost its thread. Copy the note and start again."},
        )
        return

    # Storing before the acknowledgement keeps the typed note in the open modal if the
    # database fails; a single insert takes milliseconds, well inside Slack's 3 seconds.
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


def register(app: App, handlers: CommandHandlers, session_scope: SessionScope) -> None:
    handlers["note"] = lambda request: handle_note_command(request, session_scope)
    app.action(ids.OPEN_NOTE_MODAL)(reporting(handle_open_note_modal_action))
    app.shortcut(ids.SHORTCUT_NOTE)(reporting(handle_note_shortcut))
    app.view(ids.NOTE_MODAL)(
        reporting(partial(handle_note_submission, session_scope=session_scope))
    )
