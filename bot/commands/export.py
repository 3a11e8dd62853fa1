"""/caret-export: a period's deliveries as a CSV file in the admin's DM with caretbot.

The file has the columns and cell rules of `caretbot export deliveries --format csv`.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import reporting
from bot.records import export_deliveries
from bot.reports import ArgumentError, parse_export_arguments, workspace_hours
from bot.roles import is_admin, refusal
from bot.uploads import FileUploadError, upload_text_file
from bot.views.report import (
    PREPARING_EXPORT_TEXT,
    describe_period,
    export_empty_text,
    export_sent_text,
)
from storage.db import SessionScope
from storage.models import utcnow

log = logging.getLogger(__name__)

COMMAND = "/caret-export"


class ExportFlow:
    """The listener of /caret-export, sharing the session factory."""

    def __init__(self, session_scope: SessionScope) -> None:
        self.session_scope = session_scope

    def handle_export_command(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """Acknowledge at once, then upload the period's deliveries into the admin's DM."""
        ack(text=PREPARING_EXPORT_TEXT)

        team, user = body["team_id"], body["user_id"]
        if not is_admin(client, self.session_scope, team, user):
            respond(text=refusal(self.session_scope, team, COMMAND), response_type="ephemeral")
            return
        zone = workspace_hours(self.session_scope, client, team, user).zone
        try:
            period = parse_export_arguments(body.get("text") or "", now=utcnow(), zone=zone)
        except ArgumentError as failure:
            respond(text=failure.message, response_type="ephemeral")
            return

        out = io.StringIO()
        rows = export_deliveries(
            self.session_scope,
            out,
            since=period.start,
            until=period.end,
            file_format="csv",
            workspace_id=team,
        )
        if rows == 0:
            respond(text=export_empty_text(period), response_type="ephemeral")
            return

        channel = client.conversations_open(users=user)["channel"]["id"]
        start = period.start.astimezone(zone).date().isoformat()
        end = period.end.astimezone(zone).date().isoformat()
        try:
            upload_text_file(
                client,
                channel_id=channel,
                filename=f"caretbot-deliveries-{start}-{end}.csv",
                title=f"Deliveries, {describe_period(period)}",
                content=out.getvalue(),
            )
        except FileUploadError as failure:
            log.warning("export not sent team=%s user=%s error=%s", team, user, failure)
            respond(
                text=f"The export could not be sent to your DM ({failure}). Try again later.",
                response_type="ephemeral",
            )
            return
        log.info("export sent team=%s user=%s rows=%d", team, user, rows)
        respond(text=export_sent_text(period, rows), response_type="ephemeral")


def register(app: App, session_scope: SessionScope) -> None:
    flow = ExportFlow(session_scope)
    app.command(COMMAND)(reporting(flow.handle_export_command))
