"""The double's non-Web-API endpoints: file upload URLs and response_url webhooks.

Both respond in plain text, as Slack's do, and both run with the double's lock held.
"""

import json
from dataclasses import dataclass
from typing import Any

from bot.slackdouble.state import Workspace
from bot.slackdouble.transport import RequestError, parse_multipart
from bot.slackdouble.validation import message_block_problems


@dataclass(frozen=True)
class EndpointResult:
    status: int
    text: str  # the plain-text response body
    args: dict[str, Any]  # what the call is recorded with


def receive_upload(
    workspace: Workspace, ticket: str, content_type: str | None, body: bytes
) -> EndpointResult:
    """Store the bytes POSTed to an upload URL from files.getUploadURLExternal.

    slack_sdk posts the raw bytes. A multipart body is also accepted, and its first file kept.
    """
    file_id = workspace.upload_tickets.get(ticket)
    if file_id is None:
        return EndpointResult(404, "not found", {"ticket": ticket})
    content = body
    if content_type and content_type.lower().startswith("multipart/form-data"):
        try:
            fields = parse_multipart(content_type, body)
        except RequestError:
            return EndpointResult(400, "invalid_form_data", {"file_id": file_id})
        content = next((value for value in fields.values() if isinstance(value, bytes)), b"")

    record = workspace.files[file_id]
    record.content = content
    args = {"file_id": file_id, "filename": record.filename, "length": len(content)}
    # Slack's upload endpoint responds with "OK - <bytes received>".
    return EndpointResult(200, f"OK - {len(content)}", args)


def receive_response_url(workspace: Workspace, response_id: str, body: bytes) -> EndpointResult:
    """Apply a message POSTed to a response_url: reply, replace, or delete the original.

    NOTE: Slack's status codes and bodies for rejected response_url posts are not documented
    per error. The double responds with 404 for an unknown URL and 400 with Slack's error name
    ("invalid_blocks", "no_text") for a bad message. It does not limit a URL to 5 uses.
    """
    target = workspace.response_urls.get(response_id)
    if target is None:
        return EndpointResult(404, "no_active_hooks", {"response_id": response_id})
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return EndpointResult(400, "invalid_payload", {"response_id": response_id})
    if not isinstance(payload, dict):
        return EndpointResult(400, "invalid_payload", {"response_id": response_id})

    original = None
    if target.message_ts is not None:
        original = workspace.find_message(target.channel_id, target.message_ts)
    if payload.get("delete_original"):
        if original is not None:
            workspace.messages[target.channel_id].remove(original)
        return EndpointResult(200, "ok", payload)

    blocks = payload.get("blocks")
    if blocks is not None and (not isinstance(blocks, list) or message_block_problems(blocks)):
        return EndpointResult(400, "invalid_blocks", payload)
    if not payload.get("text") and not blocks:
        return EndpointResult(400, "no_text", payload)
    content = {"text": payload.get("text") or ""}
    if blocks:
        content["blocks"] = blocks

    if payload.get("replace_original") and original is not None:
        original.update(content)
        original["edited"] = {"user": workspace.bot_user_id, "ts": workspace.next_ts()}
    elif payload.get("response_type") == "in_channel":
        message = {
            "type": "message",
            "user": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "app_id": workspace.app_id,
            "team": workspace.team_id,
            "ts": workspace.next_ts(),
            **content,
        }
        thread_ts = payload.get("thread_ts") or target.thread_ts
        if thread_ts:
            message["thread_ts"] = thread_ts
        workspace.insert_message(target.channel_id, message)
    else:
        ephemeral = {
            "channel": target.channel_id,
            "user": target.user_id,
            "ts": workspace.next_ts(),
            **content,
        }
        workspace.ephemerals.append(ephemeral)
    return EndpointResult(200, "ok", payload)
