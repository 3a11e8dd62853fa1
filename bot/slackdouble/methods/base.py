"""Shared parts of the double's Web API methods: errors, context, registry, argument parsing."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.slackdouble.state import TS_PATTERN, Conversation, Workspace


class ApiError(Exception):
    """A Slack API error: HTTP 200 with {"ok": false, "error": name} and optional details."""

    def __init__(
        self, error: str, *, messages: Iterable[str] = (), include_errors: bool = False, **extra
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.include_errors = include_errors
        self.extra = extra

    def to_response(self) -> dict:
        response: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            # Slack's invalid_blocks responses list the reasons twice: bare in "errors" and
            # with an "[ERROR] " prefix in response_metadata.messages.
            if self.include_errors:
                response["errors"] = list(self.messages)
            response["response_metadata"] = {
                "messages": [f"[ERROR] {message}" for message in self.messages]
            }
        return response


@dataclass
class MethodContext:
    """The workspace and settings a method handler uses. The caller holds the double's lock."""

    workspace: Workspace
    scopes: frozenset[str]
    origin: str  # "http://127.0.0.1:PORT", for URLs that point back at the double
    clock: Callable[[], float]
    trigger_ttl: float
    team_name: str
    token_type: str = "bot"  # "user" for a call made with the double's user token

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))


Handler = Callable[[MethodContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    scope: str | None  # the bot scope Slack requires, when it does not depend on the channel
    token_type: str  # "bot", or "app" for methods that take an app-level token


METHODS: dict[str, Method] = {}


def web_api_method(
    name: str, *, scope: str | None = None, token_type: str = "bot"
) -> Callable[[Handler], Handler]:
    """Register a handler for the Web API method `name`."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = Method(name=name, handler=handler, scope=scope, token_type=token_type)
        return handler

    return register


def arg_str(args: dict[str, Any], name: str) -> str | None:
    """Return an argument as a string, or None when it is missing or empty."""
    value = args.get(name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def arg_bool(args: dict[str, Any], name: str) -> bool:
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def arg_int(args: dict[str, Any], name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise ApiError("invalid_arguments", messages=[f"invalid `{name}`"]) from error


def arg_json(args: dict[str, Any], name: str, error: str) -> Any:
    """Return a JSON argument decoded. Form bodies carry JSON values as strings."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as decode_error:
            raise ApiError(error, messages=[f"invalid JSON in `{name}`"]) from decode_error
    return value


def check_ts(ts: str | None, error: str) -> str:
    if ts is None or not TS_PATTERN.match(ts):
        raise ApiError(error)
    return ts


def conversation_for_bot(
    context: MethodContext, channel: str | None, *, missing: str = "channel_not_found"
) -> Conversation:
    """Resolve a channel argument to a conversation visible to the bot.

    An unknown id, and a private conversation the bot is not in, both raise channel_not_found,
    because Slack hides private conversations from non-members.
    """
    if channel is None:
        raise ApiError(missing)
    conversation = context.workspace.resolve_conversation(channel)
    if conversation is None:
        raise ApiError("channel_not_found")
    if conversation.is_private and not conversation.bot_is_member and not conversation.is_im:
        raise ApiError("channel_not_found")
    return conversation


HISTORY_SCOPES = {
    "channel": "channels:history",
    "group": "groups:history",
    "im": "im:history",
    "mpim": "mpim:history",
}
READ_SCOPES = {
    "channel": "channels:read",
    "group": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
