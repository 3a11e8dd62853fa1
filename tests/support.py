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

    def __init__(self, slack: SlackDouble, db_url: str, env: dict[str, str] | None = None) -> None:
        super().__init__(slack, db_url, signing_secret=SIGNING_SECRET, env=env)


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


# ^deliver: seeded contacts, modal state, the whole two-step flow, and stored results.


def seed_contact(bot, thread_ts, *, applications=(("Data Engineer", "London"),)):
    """Post the thread's root message and link the thread to a contact with these applications.

    Return the contact id and the application ids; the last application is the active one.
    """
    from storage.contacts import (
        link_conversation,
        set_active_application,
        upsert_application,
        upsert_contact,
    )
    from storage.conversations import ensure_workspace

    bot.slack.add_message(CHANNEL, thread_ts, "U0CASEY", "Hi, I applied last week")
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = upsert_contact(
            session, workspace_id=TEAM, name="Casey Candidate", email="casey@example.com"
        ).contact
        application_ids = []
        for title, location in applications:
            application = upsert_application(
                session,
                contact_id=contact.id,
                job_title=title,
                job_location=location,
                source="linkedin",
            ).application
            application_ids.append(application.id)
        if application_ids:
            set_active_application(session, application)
        link_conversation(
            session,
            workspace_id=TEAM,
            channel_id=CHANNEL,
            thread_ts=thread_ts,
            contact_id=contact.id,
        )
        return contact.id, application_ids


def step1_state(
    status, *, application=None, notes=None, rating=None, reason=None, reason_text=None
):
    """Build step 1's `state.values` with only the fields that are given."""
    from bot.outcomes import Status
    from bot.views.deliver import REASON_BLOCKS

    state = {ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: select(status)}}
    if application is not None:
        state[ids.DELIVER_APPLICATION_BLOCK] = {ids.DELIVER_APPLICATION_INPUT: select(application)}
    if rating is not None:
        state[ids.DELIVER_RATING_BLOCK] = {ids.DELIVER_RATING_INPUT: radio(str(rating))}
    if reason is not None:
        state[REASON_BLOCKS[Status(status)]] = {ids.DELIVER_REASON_INPUT: select(reason)}
    if reason_text is not None:
        state[ids.DELIVER_REASON_TEXT_BLOCK] = {ids.DELIVER_REASON_TEXT_INPUT: typed(reason_text)}
    if notes is not None:
        state[ids.DELIVER_NOTES_BLOCK] = {ids.DELIVER_NOTES_INPUT: typed(notes)}
    return state


def step2_state(*user_ids, team_ids=(), emails=None):
    """Build step 2's `state.values`: Slack users, teams and typed email addresses."""
    state = {ids.DELIVER_USERS_BLOCK: {ids.DELIVER_USERS_INPUT: users(*user_ids)}}
    if team_ids:
        state[ids.DELIVER_TEAMS_BLOCK] = {ids.DELIVER_TEAMS_INPUT: teams(*team_ids)}
    if emails is not None:
        state[ids.DELIVER_EMAILS_BLOCK] = {ids.DELIVER_EMAILS_INPUT: typed(emails)}
    return state


def deliver_through(driver, thread_ts, step1, step2):
    """Open the modal, choose the status, press Next with `step1` and Deliver with `step2`.

    Return step 2 as pushed and the decoded response to Deliver.
    """
    view = driver.open(thread_ts)
    status_only = {ids.DELIVER_STATUS_BLOCK: step1[ids.DELIVER_STATUS_BLOCK]}
    view = driver.change(view, ids.DELIVER_STATUS_INPUT, status_only)
    status, response = driver.submit(view, step1)
    assert status == 200
    pushed = driver.pushed(response)
    status, response = driver.submit(pushed, step2)
    assert status == 200
    return pushed, response


def stored_deliveries(bot, thread_ts):
    """Return the thread's deliveries with their recipients, oldest first, and the conversation."""
    from storage.conversations import find_conversation
    from storage.deliveries import list_deliveries, list_recipients

    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=thread_ts
        )
        if conversation is None:
            return [], None
        deliveries = list_deliveries(session, conversation.id)
        return [(d, list_recipients(session, d.id)) for d in deliveries], conversation


def settle_outbox(bot):
    """Wait for the outbox round in progress, then send whatever is due, until nothing is.

    Messages whose retry lies in the future stay pending.
    """
    while bot.outbox.run_once():
        pass
