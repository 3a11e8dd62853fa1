"""The App Home tab, built for the user who opens it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.home_refresh import HomeRefresher

log = logging.getLogger(__name__)


def handle_app_home_opened(
    event: dict[str, Any], body: dict[str, Any], home: HomeRefresher
) -> None:
    """Record the visit and publish the user's home: hand-offs, queue and help."""
    # The Messages and About tabs send this event too; only the Home tab shows a view.
    if event.get("tab") != "home":
        return
    team, user = body["team_id"], event["user"]
    # Bolt acknowledged the event before this listener runs, so the queries and the publish
    # happen outside Slack's 3-second window.
    home.opened(team, user)
    log.info("home published team=%s user=%s", team, user)


def register(app: App, home: HomeRefresher) -> None:
    app.event("app_home_opened")(lambda event, body: handle_app_home_opened(event, body, home))
