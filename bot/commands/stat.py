"""^stat: a conversation's response times, in working hours or on the 24-hour clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.backfill import ensure_backfilled
from bot.errors import UserError, reporting
from bot.metrics import CONTACT, TEAM, ConversationMetrics, TimedMessage, compute_metrics
from bot.modals import open_modal
from bot.router import CommandHandlers, CommandRequest, parse_command
from bot.threads import ThreadRef
from bot.views.stat import CLOCK, WORKING_HOURS, stat_button_blocks, stat_loading_view, stat_view
from bot.working_hours import WorkingHours, clock_seconds
from storage.conversations import get_or_create_conversation
from storage.db import SessionScope
from storage.deliveries import list_deliveries
from storage.messages import list_messages
from storage.models import utcnow
from storage.settings import get_setting

log = logging.getLogger(__name__)

WORKING_HOURS_SETTING = "working_hours"


class StatFlow:
    """The listeners of ^stat, sharing the session factory."""

    def __init__(self, session_scope: SessionScope) -> None:
        self.session_scope = session_scope

    def handle_stat_command(self, request: CommandRequest) -> None:
        """Offer the modal: a message event has no trigger_id to open it with."""
        request.reply_ephemeral(
            "Conversation stats", stat_button_blocks(request.thread.to_metadata())
        )

    def handle_open_stat_modal_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Open the modal at once, then fill it in working hours."""
        ack()

        thread = ThreadRef.from_metadata(body["actions"][0]["value"])
        if thread is None:
            raise UserError("This button is from an unknown thread. Type `^stat` again.")
        # The loading view goes out before any query: the trigger dies 3 seconds after the
        # click, and a first look at a long thread reads Slack's history.
        view_id = open_modal(client, body["trigger_id"], stat_loading_view(thread.to_metadata()))
        self._show(client, context, thread, body["user"]["id"], WORKING_HOURS, view_id, None)

    def handle_stat_switch_measure_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Show the same figures in the other measure."""
        ack()

        view = body["view"]
        thread = ThreadRef.from_metadata(view.get("private_metadata", ""))
        if thread is None:
            raise UserError("This form lost its thread. Close it and type `^stat` again.")
        measure = body["actions"][0]["value"]
        if measure not in (WORKING_HOURS, CLOCK):
            raise UserError(f"Unknown measure {measure!r}. Close the form and type `^stat`.")
        self._show(client, context, thread, body["user"]["id"], measure, view["id"], view["hash"])

    def _show(
        self,
        client: WebClient,
        context: BoltContext,
        thread: ThreadRef,
        user_id: str,
        measure: str,
        view_id: str,
        view_hash: str | None,
    ) -> None:
        ensure_backfilled(
            self.session_scope,
            client,
            thread,
            bot_user_id=context.bot_user_id,
            bot_id=context.bot_id,
        )
        hours = self._working_hours(client, thread, user_id)
        metrics = self._metrics(thread, hours if measure == WORKING_HOURS else None)
        schedule = describe_schedule(hours)
        try:
            client.views_update(
                view_id=view_id,
                hash=view_hash,
                view=stat_view(
                    metrics, measure=measure, schedule=schedule, metadata=thread.to_metadata()
                ),
            )
        except SlackApiError as failure:
            if failure.response.get("error") != "hash_conflict":
                raise
            log.info("stat update skipped: hash_conflict view=%s", view_id)

    def _working_hours(self, client: WebClient, thread: ThreadRef, user_id: str) -> WorkingHours:
        with self.session_scope() as session:
            stored = get_setting(session, thread.team, WORKING_HOURS_SETTING)
        if stored:
            try:
                return WorkingHours.from_settings(stored)
            except (TypeError, ValueError) as failure:
                log.warning("working hours setting invalid team=%s error=%s", thread.team, failure)
        # Without a workspace schedule: Monday to Friday 09:00 to 17:00 in the time zone of
        # the person asking, since Slack's API gives no time zone for a workspace.
        zone = client.users_info(user=user_id)["user"].get("tz") or "UTC"
        try:
            return WorkingHours.default(zone)
        except ValueError:
            return WorkingHours.default("UTC")

    def _metrics(self, thread: ThreadRef, hours: WorkingHours | None) -> ConversationMetrics:
        with self.session_scope() as session:
            conversation = get_or_create_conversation(
                session,
                workspace_id=thread.team,
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
            )
            # Caret commands are typed to caretbot, not to the contact, so they count as
            # neither a message nor a reply.
            messages = [
                TimedMessage(at=slack_time(message.ts), side=message.side)
                for message in sorted(list_messages(session, conversation.id), key=_ts_key)
                if message.side in (CONTACT, TEAM) and parse_command(message.text) is None
            ]
            deliveries = list_deliveries(session, conversation.id)
            claimed_at = conversation.claimed_at
            started_at = min([conversation.created_at, *(message.at for message in messages[:1])])
        measure = hours.working_seconds if hours is not None else clock_seconds
        return compute_metrics(
            messages,
            measure=measure,
            created_at=started_at,
            claimed_at=claimed_at,
            delivered_at=deliveries[0].delivered_at if deliveries else None,
            now=utcnow(),
        )


def slack_time(ts: str) -> datetime:
    """Return the moment a Slack message ts stands for."""
    return datetime.fromtimestamp(float(ts), UTC)


def _ts_key(message: Any) -> float:
    return float(message.ts)


def describe_schedule(hours: WorkingHours) -> str:
    """Describe a schedule in one line, e.g. "Working hours: mon 09:00-17:00, ... (UTC)"."""
    settings = hours.to_settings()
    days = [
        f"{day} {', '.join(f'{start}-{end}' for start, end in periods)}"
        for day, periods in settings["weekly"].items()
    ]
    text = f"Working hours: {'; '.join(days) or 'none'} ({settings['time_zone']})"
    if settings["holidays"]:
        text += f", {len(settings['holidays'])} holiday(s)"
    return text


def register(app: App, handlers: CommandHandlers, session_scope: SessionScope) -> None:
    flow = StatFlow(session_scope)
    handlers["stat"] = flow.handle_stat_command
    app.action(ids.OPEN_STAT_MODAL)(reporting(flow.handle_open_stat_modal_action))
    app.action(ids.STAT_SWITCH_MEASURE)(reporting(flow.handle_stat_switch_measure_action))
