"""^read: mark a conversation read and take the unread marker off its thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.recording import is_contact_user, remove_unread_marker, unread_reaction
from bot.router import CommandHandlers, CommandRequest
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.messages import mark_read

if TYPE_CHECKING:
    from bot.home_refresh import HomeRefresher

log = logging.getLogger(__name__)


def marked_read_text(user_id: str) -> str:
    return f"Marked read by <@{user_id}>"


def handle_read_command(
    request: CommandRequest, session_scope: SessionScope, home: HomeRefresher | None = None
) -> None:
    """Record who read the conversation, clear its marker, and post the reader in the thread."""
    thread = request.thread
    with session_scope() as session:
        if is_contact_user(session, thread.team, request.user):
            raise UserError("Only team members can mark a conversation read.")
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        was_unread = mark_read(session, conversation, user_id=request.user)
        reaction = unread_reaction(session, thread.team)

    if was_unread and home is not None:
        home.thread_changed(thread, waiting_changed=True)
    # Removing the marker even when the conversation did not wait also takes off one that an
    # earlier failed reactions.remove left behind.
    remove_unread_marker(request.client, thread, reaction)
    request.reply_in_thread(marked_read_text(request.user))
    log.info(
        "conversation read team=%s channel=%s thread=%s user=%s was_unread=%s",
        thread.team,
        thread.channel,
        thread.thread_ts,
        request.user,
        was_unread,
    )


def register(
    handlers: CommandHandlers, session_scope: SessionScope, *, home: HomeRefresher | None = None
) -> None:
    handlers["read"] = lambda request: handle_read_command(request, session_scope, home)
