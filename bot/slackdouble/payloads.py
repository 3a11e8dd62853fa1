"""Builders of the payloads Slack POSTs into a bot: events, interactions and slash commands.

Every builder is a pure function returning a dict shaped like Slack's, with defaults that
match SlackDouble's workspace. encode_for_http() turns a payload into the body Slack sends.
"""

import json
import secrets
import string
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

DEFAULT_TEAM = "T0DOUBLE"
DEFAULT_TEAM_DOMAIN = "double-workspace"
DEFAULT_APP_ID = "ADOUBLE"
DEFAULT_BOT_USER_ID = "UBOTDOUBLE"
DEFAULT_BOT_ID = "BBOTDOUBLE"
# Slack still sends the deprecated verification token, which Bolt ignores when it checks
# signatures.
VERIFICATION_TOKEN = "double-verification-token"

_ALPHANUMERIC = string.ascii_uppercase + string.digits
_ts_lock = threading.Lock()
_last_ts = (0, 0)


def new_ts() -> str:
    """Return a Slack-shaped timestamp ("1733270000.000100"), increasing across calls."""
    global _last_ts
    with _ts_lock:
        seconds, micros = max((int(time.time()), 0), _last_ts)
        micros += 100
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        _last_ts = (seconds, micros)
    return f"{seconds}.{micros:06d}"


def new_event_id() -> str:
    return "Ev" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))


def channel_type_of(channel: str) -> str:
    """Guess a message event's channel_type from the id: D is a DM, G a private channel."""
    if channel.startswith("D"):
        return "im"
    if channel.startswith("G"):
        return "group"
    return "channel"


def event_callback(
    event: dict[str, Any],
    *,
    team: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    event_id: str | None = None,
    event_time: int | None = None,
) -> dict[str, Any]:
    """Wrap an event in the Events API envelope."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_hex(16),
    }


def message_event(
    text: str,
    *,
    user: str | None,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    team: str = DEFAULT_TEAM,
    event_id: str | None = None,
    files: Iterable[dict] | None = None,
    edited: str | dict | None = None,
    channel_type: str | None = None,
    blocks: list[dict] | None = None,
) -> dict[str, Any]:
    """Build a `message` event in its event_callback envelope.

    `files` makes the subtype "file_share" unless another is given. `edited` is the edit's ts
    (or a whole "edited" object). A message from a person gets a client_msg_id, as Slack's do.
    """
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type or channel_type_of(channel),
        "team": team,
    }
    if user is not None:
        event["user"] = user
    if files is not None:
        event["files"] = list(files)
        event["upload"] = False
        subtype = subtype or "file_share"
    if subtype is not None:
        event["subtype"] = subtype
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    if bot_id is not None:
        event["bot_id"] = bot_id
    if isinstance(edited, str):
        event["edited"] = {"user": user, "ts": edited}
    elif edited is not None:
        event["edited"] = edited
    if blocks is not None:
        event["blocks"] = blocks
    if user is not None and bot_id is None and subtype is None:
        event["client_msg_id"] = str(uuid.uuid4())
    return event_callback(event, team=team, event_id=event_id)


def app_home_opened_event(
    user: str,
    *,
    channel: str | None = None,
    tab: str = "home",
    view: dict | None = None,
    team: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> dict[str, Any]:
    """Build an `app_home_opened` event. The channel defaults to SlackDouble's DM id."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel or "D" + user,
        "tab": tab,
        "event_ts": new_ts(),
    }
    if view is not None:
        event["view"] = view
    return event_callback(event, team=team, event_id=event_id)


def url_verification(challenge: str) -> dict[str, Any]:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def user_object(user: str, team: str) -> dict[str, str]:
    return {"id": user, "username": user, "name": user, "team_id": team}


def team_object(team: str) -> dict[str, str]:
    return {"id": team, "domain": DEFAULT_TEAM_DOMAIN}


def block_actions(
    action_id: str,
    *,
    user: str,
    value: str | None = None,
    trigger_id: str,
    channel: str | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    view: dict | None = None,
    container: dict | None = None,
    block_id: str = "actions",
    action_type: str = "button",
    message: dict | None = None,
    state_values: dict | None = None,
    response_url: str | None = None,
    team: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP_ID,
) -> dict[str, Any]:
    """Build a `block_actions` payload for one action, from a view or from a message.

    The container is derived from `view` or `message_ts` unless given. `message` defaults to
    a bot message with that ts.
    """
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": new_ts(),
    }
    if value is not None:
        action["value"] = value
    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view["id"]}
        elif message_ts is not None:
            container = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            if thread_ts is not None:
                container["thread_ts"] = thread_ts
        else:
            container = {}

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user_object(user, team),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": team_object(team),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if channel is not None:
        payload["channel"] = {"id": channel, "name": channel}
    if view is not None:
        payload["view"] = view
    if message_ts is not None:
        payload["message"] = message or {
            "type": "message",
            "user": DEFAULT_BOT_USER_ID,
            "bot_id": DEFAULT_BOT_ID,
            "ts": message_ts,
            "text": "",
            **({"thread_ts": thread_ts} if thread_ts is not None else {}),
        }
        payload["state"] = {"values": state_values or {}}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def view_submission(
    callback_id: str,
    *,
    user: str,
    values: dict,
    private_metadata: str,
    view_id: str,
    trigger_id: str,
    hash: str,
    blocks: list[dict] | None = None,
    title: str = "Modal",
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
    team: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP_ID,
) -> dict[str, Any]:
    """Build a `view_submission` payload. `values` is view.state.values, keyed by block_id."""
    view = {
        "id": view_id,
        "team_id": team,
        "type": "modal",
        "blocks": blocks or [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values},
        "hash": hash,
        "title": {"type": "plain_text", "text": title},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or view_id,
        "app_id": api_app_id,
        "external_id": "",
        "app_installed_team_id": team,
        "bot_id": DEFAULT_BOT_ID,
    }
    return {
        "type": "view_submission",
        "team": team_object(team),
        "user": user_object(user, team),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def submission_of(
    view: dict, *, user: str, values: dict, trigger_id: str, team: str = DEFAULT_TEAM
) -> dict[str, Any]:
    """Build the `view_submission` of a view that views.open or views.update returned."""
    payload = view_submission(
        view["callback_id"],
        user=user,
        values=values,
        private_metadata=view["private_metadata"],
        view_id=view["id"],
        trigger_id=trigger_id,
        hash=view["hash"],
        team=team,
        api_app_id=view.get("app_id", DEFAULT_APP_ID),
    )
    payload["view"] = {**view, "state": {"values": values}}
    return payload


def message_shortcut(
    callback_id: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    trigger_id: str,
    text: str = "",
    message_user: str | None = None,
    response_url: str | None = None,
    team: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """Build a message shortcut payload (`message_action`) on the message at message_ts."""
    message: dict[str, Any] = {
        "type": "message",
        "user": message_user or user,
        "ts": message_ts,
        "text": text,
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": new_ts(),
        "team": team_object(team),
        "user": user_object(user, team),
        "channel": {"id": channel, "name": channel},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message_ts,
        "message": message,
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def slash_command(
    command: str,
    text: str,
    *,
    user: str,
    channel: str,
    trigger_id: str,
    response_url: str | None = None,
    team: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP_ID,
) -> dict[str, str]:
    """Build a slash command's fields. Slack sends them as a plain form, all strings."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team,
        "team_domain": DEFAULT_TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": channel,
        "user_id": user,
        "user_name": user,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "trigger_id": trigger_id,
    }
    if response_url is not None:
        fields["response_url"] = response_url
    return fields


def encode_for_http(payload: dict[str, Any]) -> tuple[bytes, str]:
    """Return the body and Content-Type Slack would POST for this payload.

    Events and url_verification go as JSON, slash commands as a plain form, and interactive
    payloads as a form with one `payload` field holding the JSON.
    """
    payload_type = payload.get("type")
    if payload_type in ("event_callback", "url_verification", "app_rate_limited"):
        return json.dumps(payload).encode("utf-8"), "application/json"
    form_type = "application/x-www-form-urlencoded"
    if payload_type is None and "command" in payload:
        return urlencode(payload).encode("utf-8"), form_type
    return urlencode({"payload": json.dumps(payload)}).encode("utf-8"), form_type
