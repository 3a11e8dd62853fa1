"""files.getUploadURLExternal, files.completeUploadExternal, auth.test, apps.connections.open."""

import mimetypes
import secrets
import time
from typing import Any

from bot.slackdouble.methods.base import (
    ApiError,
    MethodContext,
    arg_int,
    arg_json,
    arg_str,
    web_api_method,
)
from bot.slackdouble.methods.chat import bot_message, postable_conversation, thread_parent_ts
from bot.slackdouble.state import FileRecord, random_id


@web_api_method("files.getUploadURLExternal", scope="files:write")
def get_upload_url_external(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """Return an upload URL on the double itself. The server stores what is POSTed to it."""
    filename = arg_str(args, "filename")
    if filename is None:
        raise ApiError("invalid_arguments", messages=["missing required field: filename"])
    if arg_str(args, "length") is None:
        raise ApiError("invalid_arguments", messages=["missing required field: length"])
    length = arg_int(args, "length", 0)
    # methods/files.getUploadURLExternal: missing_argument "Typically only occurs when the
    # length provided is 0."
    if length <= 0:
        raise ApiError("missing_argument")

    file_id = random_id("F")
    ticket = secrets.token_urlsafe(16)
    context.workspace.files[file_id] = FileRecord(file_id=file_id, filename=filename, length=length)
    context.workspace.upload_tickets[ticket] = file_id
    return {"ok": True, "upload_url": f"{context.origin}/upload/v1/{ticket}", "file_id": file_id}


def file_object(context: MethodContext, record: FileRecord) -> dict[str, Any]:
    mimetype = mimetypes.guess_type(record.filename)[0] or "application/octet-stream"
    return {
        "id": record.file_id,
        "created": int(time.time()),
        "name": record.filename,
        "title": record.title or record.filename,
        "mimetype": mimetype,
        "filetype": record.filename.rpartition(".")[2] if "." in record.filename else "text",
        "user": context.workspace.bot_user_id,
        "size": len(record.content or b""),
        "is_external": False,
        "permalink": f"{context.origin}/files/{record.file_id}/{record.filename}",
    }


@web_api_method("files.completeUploadExternal", scope="files:write")
def complete_upload_external(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """Finish uploads and share them, posting one message per channel at once.

    Slack shares the file asynchronously, but the double posts the message before it responds.
    """
    files = arg_json(args, "files", "invalid_arguments")
    if not isinstance(files, list) or not files:
        raise ApiError("invalid_arguments", messages=["missing required field: files"])
    records = []
    for entry in files:
        record = context.workspace.files.get(entry.get("id")) if isinstance(entry, dict) else None
        # NOTE: the double also returns file_not_found when nothing was uploaded to the URL.
        if record is None or record.content is None:
            raise ApiError("file_not_found")
        record.title = entry.get("title") or record.title
        records.append(record)

    channels = [arg_str(args, "channel_id")] + (arg_str(args, "channels") or "").split(",")
    objects = [file_object(context, record) for record in records]
    for channel in filter(None, channels):
        try:
            conversation = postable_conversation(context, channel)
        except ApiError as error:
            # This method names the same failures differently from chat.postMessage.
            if error.error == "not_in_channel":
                raise ApiError("posting_to_channel_denied") from error
            raise ApiError("invalid_channel") from error
        thread_ts = thread_parent_ts(context, conversation, args)
        content = {"text": arg_str(args, "initial_comment") or "", "files": objects}
        message = bot_message(context, content, context.workspace.next_ts())
        message["upload"] = False
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        context.workspace.insert_message(conversation.id, message)
    return {"ok": True, "files": [{"id": obj["id"], "title": obj["title"]} for obj in objects]}


@web_api_method("auth.test")
def auth_test(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """Describe the bot token. The server adds the x-oauth-scopes header, as Slack does."""
    workspace = context.workspace
    bot_user = workspace.users[workspace.bot_user_id]
    return {
        "ok": True,
        "url": f"{context.origin}/",
        "team": context.team_name,
        "user": bot_user["name"],
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


@web_api_method("apps.connections.open", token_type="app")
def apps_connections_open(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """Return a Socket Mode URL shaped like Slack's, on the double's WebSocket endpoint.

    The double accepts each URL for one connection (see bot/slackdouble/socket_mode.py).
    """
    ticket = secrets.token_hex(16)
    context.workspace.socket_tickets.add(ticket)
    host = context.origin.removeprefix("http://")
    url = f"ws://{host}/link/?ticket={ticket}&app_id={context.workspace.app_id}"
    return {"ok": True, "url": url}
