"""User-facing failures and the one global error handler that shows them."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logs import interaction_ids

log = logging.getLogger(__name__)


class UserError(Exception):
    """A known failure whose message is written for the person who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def new_error_id() -> str:
    return uuid.uuid4().hex[:10]


def handle_error(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    """Tell the user what failed; log unknown failures with an error id the user also sees."""
    ids = interaction_ids(body)
    if isinstance(error, UserError):
        log.info("user error %s reason=%r", ids.as_fields(), error.message)
        text = error.message
    else:
        error_id = new_error_id()
        log.exception("handler failed %s error_id=%s", ids.as_fields(), error_id, exc_info=error)
        text = (
            f"Sorry, something went wrong. Try again; if it keeps failing, give your admin "
            f"this error id: `{error_id}`."
        )
    _tell_user(client, ids.user, ids.channel, ids.thread_ts, text)


def _tell_user(
    client: WebClient, user: str | None, channel: str | None, thread_ts: str | None, text: str
) -> None:
    if user is None:
        return
    try:
        if channel is not None:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        else:
            # Posting to a user id lands in the app's DM with that user.
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as failure:
        log.warning(
            "could not show error to user=%s channel=%s error=%s",
            user,
            channel,
            failure.response.get("error"),
        )


def reporting(listener: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so that its failure reaches handle_error from inside the listener.

    Bolt 1.x, when a listener raises after it called ack(), clears the acknowledgement it had
    already recorded, and the request then waits 3 seconds and returns as unhandled. Catching
    the failure here keeps the acknowledgement and still shows the user what went wrong.
    Bolt passes arguments by parameter name, so the wrapper takes Bolt's `args` and hands the
    listener only the names it declares.
    """
    # inspect.signature leaves out `self` of a bound method, unlike getfullargspec, and shows
    # arguments that functools.partial bound as having defaults.
    names = [
        name
        for name, parameter in inspect.signature(listener).parameters.items()
        if parameter.default is inspect.Parameter.empty
    ]

    def run(args: Args) -> None:
        try:
            listener(**{name: getattr(args, name) for name in names})
        except Exception as error:  # noqa: BLE001 (every failure goes to the one error handler)
            if args.ack.response is None and args.body.get("type") != "view_submission":
                # Acknowledge so Slack does not retry. A failed submission stays unacknowledged
                # on purpose: Slack then keeps the modal open with what the user typed.
                args.ack()
            handle_error(error, args.body, args.client)

    run.__name__ = getattr(listener, "__name__", "listener")
    run.__qualname__ = getattr(listener, "__qualname__", run.__name__)
    return run
