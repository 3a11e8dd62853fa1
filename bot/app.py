"""Build the Bolt app: Web API client, listeners of every command module, error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.commands import admin_settings as admin_settings_command
from bot.commands import claim as claim_command
from bot.commands import deliver as deliver_command
from bot.commands import export as export_command
from bot.commands import help as help_command
from bot.commands import home as home_command
from bot.commands import note as note_command
from bot.commands import read as read_command
from bot.commands import report as report_command
from bot.commands import stat as stat_command
from bot.commands import transcript as transcript_command
from bot.commands.help import handle_unavailable_command, handle_unknown_command
from bot.config import Settings
from bot.errors import handle_error
from bot.handoff import HandoffSenders
from bot.handoff_email import EmailSenders
from bot.home_refresh import HomeRefresher
from bot.ledger import EventLedger
from bot.logs import interaction_ids
from bot.mail import Mailer
from bot.outbox import OutboxWorker
from bot.recording import MessageRecorder
from bot.router import CommandHandlers, CommandRequest, is_typed_by_person, parse_command
from bot.threads import ThreadRef
from storage.db import SessionScope
from storage.messages import find_message
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Listeners wait mostly on the database and the Web API, so more threads than cores pay off.
LISTENER_THREADS = 16


class StartupError(Exception):
    """The app cannot start; the message says why and what to do."""


def build_web_client(settings: Settings, *, retries: bool = True) -> WebClient:
    """Return a Web API client that sends every call to SLACK_API_URL.

    Without `retries`, a 429, a 5xx or a network error reaches the caller at once, for the
    outbox, which keeps its own retry schedule in the database.
    """
    handlers = [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return WebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=10,
        retry_handlers=handlers if retries else [],
    )


def build_outbox(settings: Settings, session_scope: SessionScope) -> OutboxWorker:
    """Return the worker that sends hand-offs and email after their commit; start() runs it."""
    handoffs = HandoffSenders(session_scope, email_enabled=settings.email_enabled)
    emails = EmailSenders(
        session_scope,
        handoffs,
        Mailer.from_settings(settings),
        public_url=settings.public_url,
        link_days=settings.link_days,
    )

    def on_failure(message: OutboxMessage, error: str) -> None:
        handoffs.on_failure(message, error)
        emails.on_failure(message, error)

    return OutboxWorker(
        session_scope,
        build_web_client(settings, retries=False),
        {**handoffs.senders(), **emails.senders()},
        on_failure=on_failure,
        on_start=emails.queue_waiting,
    )


def create_app(
    settings: Settings,
    *,
    session_scope: SessionScope,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    outbox: OutboxWorker | None = None,
    recorder: MessageRecorder | None = None,
    home: HomeRefresher | None = None,
) -> App:
    """Build the Bolt app; checks the token once with auth.test so no request waits for it.

    Hand-offs go out through `outbox`, which the caller starts; without one, the app builds a
    worker that nobody starts, enough for a process that only routes chat. Messages are
    stored by `recorder`, whose writer thread starts with the first message; the caller
    stops it. Without one, the app builds one that stops at interpreter exit.
    App Homes are rebuilt by `home`; without one, the app builds one on its Web API client.
    """
    client = client or build_web_client(settings)
    outbox = outbox or build_outbox(settings, session_scope)
    recorder = recorder or MessageRecorder(session_scope)
    try:
        # The client carries the token; Bolt reads it from there.
        app = App(
            signing_secret=settings.signing_secret,
            client=client,
            # Acknowledge first, run the listener after: Slack waits only 3 seconds.
            process_before_response=False,
            # caretbot records its own messages (delivery cards, replies) for transcripts;
            # the message listener never treats them as commands.
            ignoring_self_events_enabled=False,
            listener_executor=listener_executor
            or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        )
    except BoltError as failure:
        cause = failure.__cause__ or failure.__context__
        if isinstance(cause, SlackApiError):
            raise StartupError(
                f"Slack rejected SLACK_BOT_TOKEN ({cause.response.get('error')}). Copy the Bot "
                f"User OAuth Token from your app's OAuth & Permissions page into .env."
            ) from failure
        raise StartupError(
            f"Could not reach the Slack Web API at {settings.api_url}: {failure}"
        ) from failure

    handlers: CommandHandlers = {}
    ledger = EventLedger(session_scope)
    home = home or HomeRefresher(session_scope, client)
    # The help part of the home lists the commands registered below.
    home.use_commands(handlers)
    recorder.observe(home.recorded)
    # Registered first: Bolt tries listeners in order and builds arguments for each one it
    # tries, and almost every request is a message event. The listener reads `handlers` at
    # call time, so the registrations below still reach it.
    app.event("message")(_message_listener(handlers, ledger, recorder, session_scope))
    help_command.register(handlers)
    note_command.register(app, handlers, session_scope, settings=settings)
    claim_command.register(app, handlers, session_scope, home=home)
    read_command.register(handlers, session_scope, home=home)
    deliver_command.register(app, handlers, session_scope, outbox, home=home)
    stat_command.register(app, handlers, session_scope)
    transcript_command.register(app, handlers, session_scope)
    home_command.register(app, home)
    admin_settings_command.register(app, session_scope)
    report_command.register(app, session_scope)
    export_command.register(app, session_scope)

    app.middleware(_log_interaction)
    app.error(handle_error)
    return app


def _message_listener(
    handlers: CommandHandlers,
    ledger: EventLedger,
    recorder: MessageRecorder,
    session_scope: SessionScope,
) -> Callable[..., None]:
    def handle_message_event(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Queue the message for storing, then run the caret command it starts with, once."""
        event = body["event"]
        command = None
        if is_typed_by_person(event, context.bot_user_id):
            command = parse_command(event.get("text"))
        # A command reads what the recorder stores, so it runs once its own message and every
        # earlier one are stored.
        recorder.enqueue(body, context, client, wait=command is not None)
        if command is None:
            return

        event_id = body.get("event_id")
        ids = interaction_ids(body)
        if _typed_by_contact(session_scope, body["team_id"], event):
            # Commands show notes and records that are internal to the team. A candidate who
            # types one gets no reply, so the thread shows nothing of them either.
            log.info("command from a contact ignored %s event_id=%s", ids.as_fields(), event_id)
            return
        if event_id and not ledger.first_time(event_id):
            log.info("duplicate event skipped event_id=%s %s", event_id, ids.as_fields())
            return

        request = CommandRequest(
            command=command,
            thread=ThreadRef.of_message(body["team_id"], event),
            user=event["user"],
            message_ts=event["ts"],
            client=client,
        )
        if command.name is None:
            handle_unknown_command(request, set(handlers))
        elif command.name in handlers:
            handlers[command.name](request)
        else:
            handle_unavailable_command(request)
        log.info(
            "handled command=%s %s event_id=%s",
            command.name or "unknown",
            ids.as_fields(),
            event_id,
        )

    return handle_message_event


def _typed_by_contact(session_scope: SessionScope, team_id: str, event: dict[str, Any]) -> bool:
    """Return whether the recorder stored the message as the contact's side of the conversation.

    The recorder decides the side: a Slack user linked to a contact, a listed contact bot, or
    an author from another organization in a Slack Connect channel. DMs are not recorded.
    """
    with session_scope() as session:
        message = find_message(
            session, workspace_id=team_id, channel_id=event["channel"], ts=event["ts"]
        )
    return message is not None and message.side == "contact"


def _log_interaction(body: dict[str, Any], next: Callable[[], None]) -> None:
    """Log one line per action, shortcut, modal submission or slash command."""
    next()
    kind = body.get("type")
    if kind in (None, "event_callback", "url_verification"):
        if "command" not in body:
            return
        kind, name = "slash_command", body["command"]
    elif kind == "block_actions":
        name = ",".join(action.get("action_id", "?") for action in body.get("actions", []))
    elif kind in ("view_submission", "view_closed"):
        name = (body.get("view") or {}).get("callback_id")
    else:
        name = body.get("callback_id")
    log.info("handled %s=%s %s", kind, name, interaction_ids(body).as_fields())
