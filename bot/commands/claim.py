"""^claim: make a conversation the agent's, and Take over one that someone else holds."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import UserError, reporting
from bot.recording import is_contact_user
from bot.router import CommandHandlers, CommandRequest
from bot.threads import ThreadRef
from bot.views.claim import (
    ALREADY_HELD_TEXT,
    claimed_text,
    contested_claim_blocks,
    held_text,
    read_takeover_value,
    takeover_notice_text,
)
from storage.claims import ClaimOutcome, claim_conversation, take_over_conversation
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope

if TYPE_CHECKING:
    from bot.home_refresh import HomeRefresher

log = logging.getLogger(__name__)


def handle_claim_command(
    request: CommandRequest, session_scope: SessionScope, home: HomeRefresher | None = None
) -> None:
    """Claim the conversation, or show its holder with a Take over button."""
    thread = request.thread
    with session_scope() as session:
        if is_contact_user(session, thread.team, request.user):
            raise UserError("Only team members can claim a conversation.")
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        assert conversation.id is not None
        outcome = claim_conversation(
            session, conversation.id, user_id=request.user, source="command"
        )

    if outcome.won:
        if home is not None:
            home.thread_changed(thread, claim=True, previous_holder=outcome.previous_holder)
        request.reply_in_thread(claimed_text(request.user))
        _log_claim("claimed", thread, request.user, outcome)
    elif outcome.holder == request.user:
        request.reply_ephemeral(ALREADY_HELD_TEXT)
    else:
        holder, since = _holder_of(outcome)
        request.reply_ephemeral(
            held_text(holder, since), contested_claim_blocks(thread, holder, since)
        )


def handle_claim_take_over_action(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session_scope: SessionScope,
    home: HomeRefresher | None = None,
) -> None:
    """Move the conversation to the clicking agent and tell the agent who held it."""
    ack()

    parsed = read_takeover_value(body["actions"][0].get("value") or "")
    if parsed is None:
        raise UserError("This button is from an unknown conversation. Type `^claim` again.")
    thread, seen_holder = parsed
    user_id = body["user"]["id"]
    if seen_holder == user_id:
        _tell(client, thread, user_id, ALREADY_HELD_TEXT)
        return

    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        assert conversation.id is not None
        outcome = take_over_conversation(
            session, conversation.id, user_id=user_id, previous_holder=seen_holder
        )

    if outcome.won:
        if home is not None:
            home.thread_changed(thread, claim=True, previous_holder=outcome.previous_holder)
        client.chat_postMessage(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=claimed_text(user_id, previous_holder=outcome.previous_holder),
        )
        if outcome.previous_holder is not None:
            _notify_previous_holder(client, thread, outcome.previous_holder, user_id)
        _log_claim("taken over", thread, user_id, outcome)
    elif outcome.holder == user_id:
        _tell(client, thread, user_id, ALREADY_HELD_TEXT)
    else:
        # Someone else took the conversation after the button was shown: offer it again.
        holder, since = _holder_of(outcome)
        client.chat_postEphemeral(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            user=user_id,
            text=held_text(holder, since),
            blocks=contested_claim_blocks(thread, holder, since),
        )


def _notify_previous_holder(
    client: WebClient, thread: ThreadRef, previous_holder: str, new_holder: str
) -> None:
    try:
        # Posting to a user id lands in the app's DM with that user.
        client.chat_postMessage(
            channel=previous_holder, text=takeover_notice_text(new_holder, thread.channel)
        )
    except SlackApiError as failure:
        # The takeover is stored and announced in the thread, which the agent can still read.
        log.warning(
            "takeover notice not sent team=%s channel=%s thread=%s user=%s error=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            previous_holder,
            failure.response.get("error"),
        )


def _tell(client: WebClient, thread: ThreadRef, user_id: str, text: str) -> None:
    client.chat_postEphemeral(
        channel=thread.channel, thread_ts=thread.thread_ts, user=user_id, text=text
    )


def _holder_of(outcome: ClaimOutcome) -> tuple[str, datetime]:
    assert outcome.holder is not None and outcome.claimed_at is not None
    return outcome.holder, outcome.claimed_at


def _log_claim(action: str, thread: ThreadRef, user_id: str, outcome: ClaimOutcome) -> None:
    log.info(
        "conversation %s team=%s channel=%s thread=%s user=%s previous=%s",
        action,
        thread.team,
        thread.channel,
        thread.thread_ts,
        user_id,
        outcome.previous_holder or "-",
    )


def register(
    app: App,
    handlers: CommandHandlers,
    session_scope: SessionScope,
    *,
    home: HomeRefresher | None = None,
) -> None:
    handlers["claim"] = lambda request: handle_claim_command(request, session_scope, home)
    app.action(ids.CLAIM_TAKE_OVER)(
        reporting(partial(handle_claim_take_over_action, session_scope=session_scope, home=home))
    )
