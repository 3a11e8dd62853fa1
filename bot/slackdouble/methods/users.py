"""users.info, users.lookupByEmail, reactions.add and reactions.remove."""

import re
from typing import Any

from bot.slackdouble.methods.base import (
    ApiError,
    MethodContext,
    arg_str,
    conversation_for_bot,
    web_api_method,
)
from bot.slackdouble.state import TS_PATTERN

# An emoji name as reactions.add takes it: no surrounding colons, optionally with a skin tone
# ("thumbsup::skin-tone-2").
# NOTE: Slack does not document which names it rejects with invalid_name. This pattern is the
# double's own, and it rejects names wrapped in colons.
EMOJI_NAME_PATTERN = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")


@web_api_method("users.info", scope="users:read")
def users_info(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    user_id = arg_str(args, "user")
    user = context.workspace.users.get(user_id) if user_id else None
    if user is None:
        raise ApiError("user_not_found")
    # A deactivated user is still returned, with "deleted": true.
    return {"ok": True, "user": user}


@web_api_method("users.lookupByEmail", scope="users:read.email")
def users_lookup_by_email(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    email = (arg_str(args, "email") or "").lower()
    for user in context.workspace.users.values():
        # methods/users.lookupByEmail: a deactivated user gets users_not_found.
        if user["profile"].get("email", "").lower() == email and not user["deleted"]:
            return {"ok": True, "user": user}
    raise ApiError("users_not_found")


def reacted_message(context: MethodContext, args: dict[str, Any]) -> tuple[str, dict]:
    """Return the reaction name and the message a reactions.* call points at."""
    name = arg_str(args, "name")
    if name is None or not EMOJI_NAME_PATTERN.match(name):
        raise ApiError("invalid_name")
    channel = arg_str(args, "channel")
    timestamp = arg_str(args, "timestamp")
    if channel is None or timestamp is None:
        raise ApiError("no_item_specified")
    conversation = conversation_for_bot(context, channel)
    if not TS_PATTERN.match(timestamp):
        raise ApiError("bad_timestamp")
    message = context.workspace.find_message(conversation.id, timestamp)
    if message is None:
        raise ApiError("message_not_found")
    return name, message


@web_api_method("reactions.add", scope="reactions:write")
def reactions_add(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    name, message = reacted_message(context, args)
    bot_user_id = context.workspace.bot_user_id

    reactions = message.setdefault("reactions", [])
    reaction = next((entry for entry in reactions if entry["name"] == name), None)
    if reaction is None:
        reaction = {"name": name, "users": [], "count": 0}
        reactions.append(reaction)
    if bot_user_id in reaction["users"]:
        raise ApiError("already_reacted")
    reaction["users"].append(bot_user_id)
    reaction["count"] = len(reaction["users"])
    return {"ok": True}


@web_api_method("reactions.remove", scope="reactions:write")
def reactions_remove(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    name, message = reacted_message(context, args)
    bot_user_id = context.workspace.bot_user_id

    reactions = message.get("reactions", [])
    reaction = next((entry for entry in reactions if entry["name"] == name), None)
    if reaction is None or bot_user_id not in reaction["users"]:
        raise ApiError("no_reaction")
    reaction["users"].remove(bot_user_id)
    reaction["count"] = len(reaction["users"])
    if not reaction["users"]:
        reactions.remove(reaction)
    return {"ok": True}
