"""conversations.info, conversations.open and conversations.replies."""

import base64
import binascii
import hashlib
import re
from typing import Any

from bot.slackdouble import limits
from bot.slackdouble.methods.base import (
    HISTORY_SCOPES,
    READ_SCOPES,
    ApiError,
    MethodContext,
    arg_bool,
    arg_int,
    arg_str,
    conversation_for_bot,
    web_api_method,
)
from bot.slackdouble.state import TS_PATTERN, Conversation, ts_key

# methods/conversations.open: too_many_users, "Needs at most 8 users to open".
OPEN_MAX_USERS = 8

# oldest and latest also accept whole seconds ("1234567890").
RANGE_TS_PATTERN = re.compile(r"^\d+(\.\d+)?$")


@web_api_method("conversations.info")
def conversations_info(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation = conversation_for_bot(context, arg_str(args, "channel"))
    context.require_scope(READ_SCOPES[conversation.kind])
    include_num_members = arg_bool(args, "include_num_members")
    return {"ok": True, "channel": conversation.to_slack(include_num_members=include_num_members)}


@web_api_method("conversations.open")
def conversations_open(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    workspace = context.workspace
    channel = arg_str(args, "channel")
    if channel is not None:
        existing = workspace.conversations.get(channel)
        if existing is None or not (existing.is_im or existing.is_mpim):
            raise ApiError("channel_not_found")
        return _opened(existing, args, already_open=True)

    users = arg_str(args, "users")
    if users is None:
        raise ApiError("users_list_not_supplied")
    user_ids = [user_id.strip() for user_id in users.split(",") if user_id.strip()]
    if len(user_ids) > OPEN_MAX_USERS:
        raise ApiError("too_many_users")
    for user_id in user_ids:
        user = workspace.users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        if user["deleted"]:
            raise ApiError("user_disabled")

    if len(user_ids) == 1:
        context.require_scope("im:write")
        already_open = workspace.find_dm(user_ids[0]) is not None
        return _opened(workspace.dm_for(user_ids[0]), args, already_open=already_open)

    context.require_scope("mpim:write")
    digest = hashlib.sha1(",".join(sorted(user_ids)).encode()).hexdigest()[:10].upper()
    mpim_id = "G" + digest
    already_open = mpim_id in workspace.conversations
    if not already_open:
        workspace.conversations[mpim_id] = Conversation(
            id=mpim_id,
            name=f"mpdm-{mpim_id.lower()}",
            is_private=True,
            is_mpim=True,
            members=set(user_ids),
        )
    return _opened(workspace.conversations[mpim_id], args, already_open=already_open)


def _opened(conversation: Conversation, args: dict[str, Any], *, already_open: bool) -> dict:
    if arg_bool(args, "return_im"):
        channel = conversation.to_slack()
    else:
        channel = {"id": conversation.id}
    response: dict[str, Any] = {"ok": True, "channel": channel}
    if already_open:
        response["no_op"] = True
        response["already_open"] = True
    return response


def encode_cursor(ts: str) -> str:
    """Encode a page start the way Slack's cursors look: base64 of "next_ts:<digits>"."""
    return base64.b64encode(f"next_ts:{ts.replace('.', '')}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        decoded = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ApiError("invalid_cursor") from error
    prefix, _, digits = decoded.partition(":")
    if prefix != "next_ts" or not digits.isdigit() or len(digits) <= 6:
        raise ApiError("invalid_cursor")
    return int(digits[:-6]), int(digits[-6:])


@web_api_method("conversations.replies")
def conversations_replies(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """List a thread: the parent first, then replies, `limit` per page.

    The parent message is on the first page only.
    """
    conversation = conversation_for_bot(context, arg_str(args, "channel"))
    context.require_scope(HISTORY_SCOPES[conversation.kind])
    # NOTE: not_in_channel for a public channel the bot has not joined follows what
    # conversations.history does for bot tokens. It is not documented for replies.
    if not conversation.bot_is_member and not conversation.is_im:
        raise ApiError("not_in_channel")

    ts = arg_str(args, "ts")
    if ts is None or not TS_PATTERN.match(ts):
        raise ApiError("thread_not_found")
    message = context.workspace.find_message(conversation.id, ts)
    if message is None:
        raise ApiError("thread_not_found")
    if message.get("thread_ts") in (None, ts):
        messages = context.workspace.thread_of(conversation.id, ts)
    else:
        # methods/conversations.replies: a ts without replies returns just that message.
        messages = [message]
    messages = _in_range(messages, args)

    limit = arg_int(args, "limit", limits.REPLIES_DEFAULT_LIMIT)
    if limit < 1:
        limit = limits.REPLIES_DEFAULT_LIMIT
    limit = min(limit, limits.REPLIES_MAX_LIMIT)
    start = 0
    cursor = arg_str(args, "cursor")
    if cursor is not None:
        start_key = decode_cursor(cursor)
        start = next(
            (i for i, reply in enumerate(messages) if ts_key(reply["ts"]) >= start_key),
            len(messages),
        )

    page = messages[start : start + limit]
    has_more = start + limit < len(messages)
    next_cursor = encode_cursor(messages[start + limit]["ts"]) if has_more else ""
    return {
        "ok": True,
        "messages": page,
        "has_more": has_more,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _in_range(messages: list[dict], args: dict[str, Any]) -> list[dict]:
    """Keep the messages between `oldest` and `latest`, bounds excluded unless `inclusive`."""
    bounds = {}
    for name, error in (("oldest", "invalid_ts_oldest"), ("latest", "invalid_ts_latest")):
        value = arg_str(args, name)
        if value is None:
            continue
        if not RANGE_TS_PATTERN.match(value):
            raise ApiError(error)
        seconds, _, fraction = value.partition(".")
        bounds[name] = (int(seconds), int((fraction + "000000")[:6]))
    inclusive = arg_bool(args, "inclusive")

    def within(message: dict) -> bool:
        key = ts_key(message["ts"])
        if "oldest" in bounds:
            if key < bounds["oldest"] or (key == bounds["oldest"] and not inclusive):
                return False
        if "latest" in bounds:
            if key > bounds["latest"] or (key == bounds["latest"] and not inclusive):
                return False
        return True

    return [message for message in messages if within(message)]
