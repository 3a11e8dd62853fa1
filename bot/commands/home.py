"""The App Home tab, published when a user opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.views.home import home_view


def handle_app_home_opened(event: dict[str, Any], client: WebClient, available: set[str]) -> None:
    """Publish the home tab for the user who opened it."""
    if event.get("tab") != "home":
        return
    client.views_publish(user_id=event["user"], view=home_view(available))


def register(app: App, available: set[str]) -> None:
    app.event("app_home_opened")(
        lambda event, client: handle_app_home_opened(event, client, available)
    )
