"""Opening modals within the life of a trigger_id."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.errors import UserError

log = logging.getLogger(__name__)

# Slack's names for a trigger_id that can no longer open a view.
_STALE_TRIGGER_ERRORS = frozenset(
    {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}
)


def open_modal(client: WebClient, trigger_id: str, view: View) -> str:
    """Open the view with the trigger and return the new view's id.

    Call this before any database query or other Web API call: a trigger_id is valid for
    3 seconds from the click, and a slow step before it makes the modal fail to open.
    """
    try:
        response = client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as failure:
        error = failure.response.get("error")
        if error in _STALE_TRIGGER_ERRORS:
            log.info("modal trigger stale error=%s", error)
            raise UserError(
                "The form could not open in time, because Slack allows only 3 seconds. "
                "Nothing was saved: click the button again."
            ) from failure
        raise
    return response["view"]["id"]


def push_modal(client: WebClient, trigger_id: str, view: View) -> str:
    """Push the view onto the open modal with the trigger and return the new view's id.

    As with open_modal, call this before any database query or other Web API call.
    """
    try:
        response = client.views_push(trigger_id=trigger_id, view=view)
    except SlackApiError as failure:
        error = failure.response.get("error")
        if error in _STALE_TRIGGER_ERRORS:
            log.info("modal trigger stale error=%s", error)
            raise UserError(
                "The form could not open in time, because Slack allows only 3 seconds. "
                "Nothing was saved: click the button again."
            ) from failure
        if error == "push_limit_reached":
            raise UserError(
                "Slack shows at most 3 forms on top of each other. Go back one form and "
                "click the button again."
            ) from failure
        raise
    return response["view"]["id"]
