"""Admin roles: the workspace's admins and owners, plus a configured list of users."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient

from bot.records import RecordsError
from storage.db import SessionScope
from storage.settings import get_setting

ADMINS_SETTING = "admins"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")


def check_admins(value: Any) -> None:
    """Reject an admin list that is not a list of Slack user ids."""
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _USER_ID.match(v) for v in value
    ):
        raise RecordsError('admins is invalid: give a list of Slack user ids, e.g. ["U012AB3CD"].')


def configured_admins(session_scope: SessionScope, workspace_id: str) -> list[str]:
    with session_scope() as session:
        return list(get_setting(session, workspace_id, ADMINS_SETTING) or [])


def is_admin(
    client: WebClient, session_scope: SessionScope, workspace_id: str, user_id: str
) -> bool:
    """True for a workspace admin or owner (users.info) and for anyone on the admin list."""
    if user_id in configured_admins(session_scope, workspace_id):
        return True
    user = client.users_info(user=user_id)["user"]
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def refusal(session_scope: SessionScope, workspace_id: str, command: str) -> str:
    """Return the message for a user who is not an admin, naming the users who are."""
    listed = configured_admins(session_scope, workspace_id)
    who = "the workspace's admins and owners"
    if listed:
        who += " and " + ", ".join(f"<@{user_id}>" for user_id in listed)
    return f"Only {who} can run {command}. Ask one of them to run it, or to add you as an admin."
