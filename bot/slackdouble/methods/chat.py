"""chat.*: posting, ephemeral messages, updates, deletes and permalinks."""

from typing import Any

from bot.slackdouble import limits
from bot.slackdouble.methods.base import (
    ApiError,
    MethodContext,
    arg_bool,
    arg_json,
    arg_str,
    conversation_for_bot,
    web_api_method,
)
from bot.slackdouble.state import TS_PATTERN, Conversation
from bot.slackdouble.validation import message_block_problems


def message_content(args: dict[str, Any]) -> dict[str, Any]:
    """Return the text, blocks and attachments of a chat.* call, raising Slack's errors."""
    text = arg_str(args, "text")
    markdown_text = arg_str(args, "markdown_text")
    blocks = arg_json(args, "blocks", "invalid_blocks_format")
    attachments = arg_json(args, "attachments", "invalid_attachments")

    if markdown_text is not None and (text is not None or blocks):
        raise ApiError("markdown_text_conflict")
    if text is None and markdown_text is None and not blocks and not attachments:
        raise ApiError("no_text")
    if text is not None and len(text) > limits.MESSAGE_TEXT_MAX_LENGTH:
        raise ApiError("msg_too_long")
    # NOTE: Slack documents the 12,000 limit of markdown_text but not which error exceeding it
    # returns. The double returns msg_too_long.
    if markdown_text is not None and len(markdown_text) > limits.MARKDOWN_TEXT_MAX_LENGTH:
        raise ApiError("msg_too_long")

    if blocks is not None:
        if not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        problems = message_block_problems(blocks)
        if problems:
            raise ApiError("invalid_blocks", messages=problems, include_errors=True)
    if attachments is not None:
        if not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        if len(attachments) > limits.MESSAGE_MAX_ATTACHMENTS:
            raise ApiError("too_many_attachments")

    content: dict[str, Any] = {"text": text if text is not None else (markdown_text or "")}
    if blocks:
        content["blocks"] = blocks
    if attachments:
        content["attachments"] = attachments
    return content


def postable_conversation(context: MethodContext, channel: str | None) -> Conversation:
    """Resolve the conversation of a post, raising Slack's membership errors."""
    conversation = conversation_for_bot(context, channel)
    if conversation.is_archived:
        raise ApiError("is_archived")
    # A DM with a deactivated user still accepts posts: Slack keeps the conversation, and
    # chat.postMessage to a deactivated user succeeds, as a python-slack-sdk maintainer
    # confirmed on GitHub.
    if conversation.is_im:
        return conversation
    if not conversation.bot_is_member:
        if conversation.is_private or conversation.is_mpim:
            raise ApiError("channel_not_found")
        # chat:write.public lets an app post to public channels it has not joined.
        if "chat:write.public" not in context.scopes:
            raise ApiError("not_in_channel")
    return conversation


def thread_parent_ts(context: MethodContext, conversation: Conversation, args: dict) -> str | None:
    """Return the thread a message goes to, or None for a top-level message.

    A reply's ts is moved to its thread's parent, as Slack asks apps to use the parent's ts.
    NOTE: Slack accepts a well-formed thread_ts that matches no message and returns ok, as a
    python-slack-sdk bug report shows, but the reply is not visible. The double stores such
    a reply with no parent.
    """
    thread_ts = arg_str(args, "thread_ts")
    if thread_ts is None:
        return None
    if not TS_PATTERN.match(thread_ts):
        raise ApiError("invalid_thread_ts", messages=[f"{thread_ts} is not a valid thread_ts"])
    parent = context.workspace.find_message(conversation.id, thread_ts)
    if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
        return parent["thread_ts"]
    return thread_ts


def bot_message(context: MethodContext, content: dict[str, Any], ts: str) -> dict[str, Any]:
    workspace = context.workspace
    return {
        "type": "message",
        "user": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "app_id": workspace.app_id,
        "team": workspace.team_id,
        "ts": ts,
        **content,
    }


@web_api_method("chat.postMessage", scope="chat:write")
def post_message(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation = postable_conversation(context, arg_str(args, "channel"))
    content = message_content(args)
    thread_ts = thread_parent_ts(context, conversation, args)

    message = bot_message(context, content, context.workspace.next_ts())
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        if arg_bool(args, "reply_broadcast"):
            message["subtype"] = "thread_broadcast"
    context.workspace.insert_message(conversation.id, message)
    return {"ok": True, "channel": conversation.id, "ts": message["ts"], "message": message}


def is_member(context: MethodContext, conversation: Conversation, user_id: str) -> bool:
    # Deactivating a user removes them from their channels.
    user = context.workspace.users.get(user_id)
    if user is None or user["deleted"]:
        return False
    return user_id in conversation.members


@web_api_method("chat.postEphemeral", scope="chat:write")
def post_ephemeral(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation = postable_conversation(context, arg_str(args, "channel"))
    user_id = arg_str(args, "user")
    # NOTE: the error for a missing `user` is not documented, so the double treats a missing
    # recipient like one who is not in the channel.
    if user_id is None or not is_member(context, conversation, user_id):
        raise ApiError("user_not_in_channel")
    content = message_content(args)
    thread_ts = thread_parent_ts(context, conversation, args)

    ts = context.workspace.next_ts()
    ephemeral = {"channel": conversation.id, "user": user_id, "ts": ts, **content}
    if thread_ts is not None:
        ephemeral["thread_ts"] = thread_ts
    context.workspace.ephemerals.append(ephemeral)
    return {"ok": True, "message_ts": ts}


def own_message(context: MethodContext, args: dict[str, Any], ts_arg: str, error: str):
    """Return the conversation and a message the bot posted, raising Slack's errors."""
    conversation = conversation_for_bot(context, arg_str(args, "channel"))
    ts = arg_str(args, ts_arg)
    message = context.workspace.find_message(conversation.id, ts) if ts else None
    if message is None:
        raise ApiError("message_not_found")
    # A workspace admin's user token may delete anyone's message; a bot only its own.
    admin_delete = context.token_type == "user" and error == "cant_delete_message"
    if message.get("bot_id") != context.workspace.bot_id and not admin_delete:
        raise ApiError(error)
    return conversation, message


@web_api_method("chat.update", scope="chat:write")
def update_message(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation, message = own_message(context, args, "ts", "cant_update_message")
    content = message_content(args)

    # Fields the call leaves out keep their earlier value, as Slack documents for attachments.
    if "text" in args or "markdown_text" in args:
        message["text"] = content["text"]
    for field in ("blocks", "attachments"):
        if field in args:
            message[field] = content.get(field, [])
    message["edited"] = {"user": context.workspace.bot_user_id, "ts": context.workspace.next_ts()}
    return {
        "ok": True,
        "channel": conversation.id,
        "ts": message["ts"],
        "text": message["text"],
        "message": message,
    }


@web_api_method("chat.delete", scope="chat:write")
def delete_message(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation, message = own_message(context, args, "ts", "cant_delete_message")

    context.workspace.messages[conversation.id].remove(message)
    thread_ts = message.get("thread_ts")
    parent = context.workspace.find_message(conversation.id, thread_ts) if thread_ts else None
    if parent is not None and parent is not message:
        parent["reply_count"] = max(parent.get("reply_count", 1) - 1, 0)
    return {"ok": True, "channel": conversation.id, "ts": message["ts"]}


@web_api_method("chat.getPermalink")
def get_permalink(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    conversation = conversation_for_bot(context, arg_str(args, "channel"))
    ts = arg_str(args, "message_ts")
    message = context.workspace.find_message(conversation.id, ts) if ts else None
    if message is None:
        raise ApiError("message_not_found")

    # Slack's path shape, on the double's own origin so that nothing follows it to slack.com.
    permalink = f"{context.origin}/archives/{conversation.id}/p{ts.replace('.', '')}"
    thread_ts = message.get("thread_ts")
    if thread_ts is not None and thread_ts != ts:
        permalink += f"?thread_ts={thread_ts}&cid={conversation.id}"
    return {"ok": True, "channel": conversation.id, "permalink": permalink}
