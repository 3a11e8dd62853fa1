"""/caret-report: outcomes of a period's deliveries by a grouping, for admins.

The answer is ephemeral in the channel where the command was typed. A PNG cannot be
ephemeral, so the chart goes into the admin's DM with caretbot, which nobody else reads.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chart import render_report_chart
from bot.errors import reporting
from bot.reports import (
    ArgumentError,
    OutcomeReport,
    build_report,
    fill_figures,
    parse_report_arguments,
    workspace_hours,
)
from bot.roles import is_admin, refusal
from bot.uploads import FileUploadError, upload_file
from bot.views.report import (
    CHART_SENT_TEXT,
    MAX_GROUPS_SHOWN,
    PREPARING_REPORT_TEXT,
    chart_labels,
    report_blocks,
    report_fallback_text,
)
from storage.db import SessionScope
from storage.models import utcnow

log = logging.getLogger(__name__)

COMMAND = "/caret-report"
CHART_FILENAME = "caretbot-report.png"


class ReportFlow:
    """The listener of /caret-report, sharing the session factory."""

    def __init__(self, session_scope: SessionScope) -> None:
        self.session_scope = session_scope

    def handle_report_command(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """Acknowledge at once, then answer with the report and send the chart to the DM."""
        ack(text=PREPARING_REPORT_TEXT)

        team, user = body["team_id"], body["user_id"]
        if not is_admin(client, self.session_scope, team, user):
            respond(text=refusal(self.session_scope, team, COMMAND), response_type="ephemeral")
            return
        hours = workspace_hours(self.session_scope, client, team, user)
        try:
            period, group = parse_report_arguments(
                body.get("text") or "", now=utcnow(), zone=hours.zone
            )
        except ArgumentError as failure:
            respond(text=failure.message, response_type="ephemeral")
            return

        fill_figures(self.session_scope, workspace_id=team, period=period, hours=hours)
        report = build_report(self.session_scope, workspace_id=team, period=period, group=group)

        # The text answer goes first, so that the admin does not wait for the chart.
        respond(
            text=report_fallback_text(report),
            blocks=report_blocks(report, chart_note=CHART_SENT_TEXT),
            response_type="ephemeral",
        )
        self._send_chart(client, respond, user, report)

    def _send_chart(
        self, client: WebClient, respond: Respond, user: str, report: OutcomeReport
    ) -> None:
        names = _user_names(client, report)
        image = render_report_chart(report, chart_labels(report, names))
        try:
            channel = client.conversations_open(users=user)["channel"]["id"]
            upload_file(
                client,
                channel_id=channel,
                filename=CHART_FILENAME,
                title=f"Deliveries by {report.group}, {report.period.label}",
                data=image,
                initial_comment=report_fallback_text(report),
            )
        except (SlackApiError, FileUploadError) as failure:
            log.warning("report chart not sent user=%s error=%s", user, failure)
            respond(
                text=(
                    f"The chart could not be sent to your DM ({failure}). The numbers above "
                    f"are complete; run {COMMAND} again for the chart."
                ),
                response_type="ephemeral",
            )


def _user_names(client: WebClient, report: OutcomeReport) -> dict[str, str]:
    """Return display names of the Slack users among the shown groups, for the chart."""
    if report.group not in ("agent", "recipient"):
        return {}
    names = {}
    for row in report.rows[:MAX_GROUPS_SHOWN]:
        value = row.value or ""
        user_id = value if report.group == "agent" else value.removeprefix("user:")
        if report.group == "recipient" and not value.startswith("user:"):
            continue
        try:
            profile = client.users_info(user=user_id)["user"]
        except SlackApiError as failure:
            log.info("no name for user=%s error=%s", user_id, failure.response.get("error"))
            continue
        names[user_id] = profile.get("real_name") or profile.get("name") or user_id
    return names


def register(app: App, session_scope: SessionScope) -> None:
    flow = ReportFlow(session_scope)
    app.command(COMMAND)(reporting(flow.handle_report_command))
