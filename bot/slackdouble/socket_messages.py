"""The messages of Slack's Socket Mode protocol, built and parsed by pure functions.

The shapes follow slack_sdk 3.48's builtin SocketModeClient and the messages from Slack that
users quote in slack_sdk and Bolt bug reports. Slack's guide to the protocol is
https://docs.slack.dev/apis/events-api/using-socket-mode.

- The client opens the URL from apps.connections.open. Slack sends {"type": "hello",
  "num_connections", "debug_info", "connection_info": {"app_id"}} first.
- Each payload comes in an envelope {"envelope_id", "type", "payload",
  "accepts_response_payload"}, where type is events_api, interactive or slash_commands.
  Events API envelopes also carry "retry_attempt" and "retry_reason": 0 and "" on the first
  delivery, then 1, 2, ... and "timeout" on redeliveries.
- The client acknowledges with {"envelope_id"}, plus a "payload" when the envelope accepts a
  response payload.
- {"type": "disconnect", "reason": "refresh_requested", "debug_info"} requests that the
  client connect to a new URL and drop this connection. Slack also sends the reason
  "warning".
"""

import copy
import json
import uuid
from typing import Any

ENVELOPE_TYPES = ("events_api", "interactive", "slash_commands")
# The server name in debug_info. Logs that Slack's users posted show names like "applink-13".
DEBUG_HOST = "applink-slackdouble"


class InvalidAck(Exception):
    """A client message that is not a valid acknowledgement, with the reason as its message."""


def envelope(
    payload: dict[str, Any],
    *,
    type: str,
    envelope_id: str | None,
    retry_attempt: int | None,
    retry_reason: str | None,
    accepts_response_payload: bool | None,
) -> dict[str, Any]:
    """Build an envelope around a copy of `payload`, with a new envelope_id unless given.

    retry_attempt=None leaves both retry fields out. `retry_reason` defaults to "timeout" for
    an attempt above 0 and to "" otherwise. `accepts_response_payload` defaults to False for
    events_api and to True for the other types.
    """
    if type not in ENVELOPE_TYPES:
        raise ValueError(f"invalid envelope type {type!r}; use one of {ENVELOPE_TYPES}")
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict, got {payload.__class__.__name__}")
    if accepts_response_payload is None:
        accepts_response_payload = type != "events_api"
    built: dict[str, Any] = {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": type,
        "payload": copy.deepcopy(payload),
        "accepts_response_payload": accepts_response_payload,
    }
    if retry_attempt is not None:
        if retry_reason is None:
            retry_reason = "timeout" if retry_attempt > 0 else ""
        built["retry_attempt"] = retry_attempt
        built["retry_reason"] = retry_reason
    return built


def redelivery(original: dict[str, Any], *, attempt: int, count_retries: bool) -> dict[str, Any]:
    """Build redelivery number `attempt` (1 for the first) of an unacknowledged envelope.

    With `count_retries`, retry_attempt counts up from the original's and retry_reason is
    "timeout". Without it, the retry fields stay as they were, absent included.
    """
    # NOTE: whether Slack keeps the envelope_id across redeliveries is not documented. The
    # double gives each one a new id, so a bot cannot deduplicate on envelope ids.
    built = copy.deepcopy(original)
    built["envelope_id"] = str(uuid.uuid4())
    if count_retries:
        built["retry_attempt"] = (original.get("retry_attempt") or 0) + attempt
        built["retry_reason"] = "timeout"
    return built


def hello(*, app_id: str, num_connections: int) -> dict[str, Any]:
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": DEBUG_HOST,
            "build_number": 1,
            "approximate_connection_time": 18060,
        },
        "connection_info": {"app_id": app_id},
    }


def disconnect(reason: str) -> dict[str, Any]:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": DEBUG_HOST}}


def parse_ack(text: str) -> tuple[str, dict | None]:
    """Return the envelope_id and response payload (or None) of an acknowledgement.

    Raises InvalidAck for a message that is not a JSON object with a string envelope_id and
    an optional object payload.
    """
    excerpt = text[:200]
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidAck(f"message is not JSON: {excerpt!r}") from error
    envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
    if not isinstance(envelope_id, str) or not envelope_id:
        raise InvalidAck(f"message is not an ack, with no envelope_id: {excerpt!r}")
    payload = message.get("payload")
    if payload is not None and not isinstance(payload, dict):
        raise InvalidAck(f"ack payload is not an object: {excerpt!r}")
    return envelope_id, payload
