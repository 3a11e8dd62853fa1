"""The running bot for end-to-end tests: real app, real HTTP, signed requests, Slack double."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.serving import LocalBot
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import block_actions, message_event, submission_of
from bot.slackdouble.validation import view_problems

SIGNING_SECRET = "e2e-signing-secret"
TEAM = "T0DOUBLE"
CHANNEL = "C0CANDIDATES"
AGENT = "U0AGENT"
OTHER_AGENT = "U0AGENT2"


class RunningBot(LocalBot):
    """caretbot served over HTTP on 127.0.0.1, talking to the Slack double."""

    def __init__(self, slack: SlackDouble, db_url: str) -> None:
        super().__init__(slack, db_url, signing_secret=SIGNING_SECRET)


def select(value, text=None):
    return {"type": "static_select", "selected_option": _option(value, text)}


def radio(value):
    return {"type": "radio_buttons", "selected_option": _option(value)}


def typed(value):
    return {"type": "plain_text_input", "value": value}


def users(*user_ids):
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def teams(*team_ids):
    return {
        "type": "multi_static_select",
        "selected_options": [_option(str(team_id)) for team_id in team_ids],
    }


def _option(value, text=None):
    return {"text": {"type": "plain_text", "text": text or value}, "value": value}


class DeliverDriver:
    """Clicks and types through the ^deliver modal the way Slack's client would."""

    def __init__(self, bot: RunningBot, slack: SlackDouble, *, user: str = AGENT) -> None:
        self.bot = bot
        self.slack = slack
        self.user = user

    def open(self, thread_ts: str) -> dict[str, Any]:
        """Type ^deliver in the thread, click the button, and return step 1 as filled in."""
        self.bot.post_and_settle(
            message_event("^deliver", user=self.user, channel=CHANNEL, thread_ts=thread_ts)
        )
        [*_, offer] = self.slack.calls_to("chat.postEphemeral")
        button = offer.args["blocks"][1]["elements"][0]
        assert button["action_id"] == ids.OPEN_DELIVER_MODAL
        self.bot.post_and_settle(
            block_actions(
                ids.OPEN_DELIVER_MODAL,
                user=self.user,
                value=button["value"],
                trigger_id=self.slack.issue_trigger_id(user_id=self.user),
                channel=CHANNEL,
            )
        )
        [*_, opened] = self.slack.calls_to("views.open")
        assert opened.ok, opened.error
        [*_, filled] = self.slack.calls_to("views.update")
        assert filled.ok, filled.error
        return self.slack.view(opened.response["view"]["id"])

    def change(self, view: dict[str, Any], action_id: str, values: dict) -> dict[str, Any]:
        """Choose in a select that dispatches actions; return the view the bot rebuilt."""
        updates_before = len(self.slack.calls_to("views.update"))
        view = {**view, "state": {"values": values}}
        self.bot.post_and_settle(
            block_actions(
                action_id,
                user=self.user,
                trigger_id=self.slack.issue_trigger_id(user_id=self.user),
                view=view,
                block_id=_block_of(view, action_id),
                action_type="static_select",
            )
        )
        updates = self.slack.calls_to("views.update")
        assert len(updates) == updates_before + 1, "the bot did not rebuild the view"
        assert updates[-1].ok, updates[-1].error
        return self.slack.view(view["id"])

    def submit(self, view: dict[str, Any], values: dict) -> tuple[int, dict[str, Any] | None]:
        """Submit a view; return the HTTP status and the decoded response body, if any."""
        status, _headers, body = self.bot.post(
            submission_of(view, user=self.user, values=values, trigger_id="1.2.submit")
        )
        self.bot.executor.wait_idle()
        return status, json.loads(body) if body else None

    def pushed(self, response: dict[str, Any]) -> dict[str, Any]:
        """Give the view that a response_action "push" returned the fields Slack adds."""
        assert response["response_action"] == "push", response
        problems = view_problems(response["view"], view_type="modal")
        assert problems == [], problems
        return {
            **response["view"],
            "id": f"VPUSH{len(self.slack.calls)}",
            "hash": "pushed-hash",
            "app_id": "ADOUBLE",
        }


def _block_of(view: dict[str, Any], action_id: str) -> str:
    for block in view["blocks"]:
        element = block.get("element") or {}
        if element.get("action_id") == action_id:
            return block["block_id"]
    raise AssertionError(f"no block with action {action_id} in the view")
