"""The running bot for end-to-end tests: real app, real HTTP, signed requests, Slack double."""

from __future__ import annotations

from bot.serving import LocalBot
from bot.slackdouble import SlackDouble

SIGNING_SECRET = "e2e-signing-secret"
TEAM = "T0DOUBLE"
CHANNEL = "C0CANDIDATES"
AGENT = "U0AGENT"
OTHER_AGENT = "U0AGENT2"


class RunningBot(LocalBot):
    """caretbot served over HTTP on 127.0.0.1, talking to the Slack double."""

    def __init__(self, slack: SlackDouble, db_url: str) -> None:
        super().__init__(slack, db_url, signing_secret=SIGNING_SECRET)
