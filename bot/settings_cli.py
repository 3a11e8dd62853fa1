"""`caretbot settings`: the workspace settings, checked as `/caret-settings` checks them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from bot.commands.deliver import REASONS_SETTING, RECIPIENT_RULE_SETTING
from bot.commands.stat import WORKING_HOURS_SETTING
from bot.outcomes import MAX_REASON_LENGTH, MAX_REASONS, Status
from bot.recording import CONTACT_BOT_IDS_SETTING, UNREAD_REACTION_SETTING
from bot.records import RecordsError
from bot.roles import ADMINS_SETTING, check_admins
from bot.working_hours import WorkingHours
from storage.audit import change_setting, change_user_autoclaim, remove_setting
from storage.db import SessionScope
from storage.settings import list_settings

_EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]{1,100}$")
_BOT_ID = re.compile(r"^B[A-Z0-9]{1,31}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")


def _check_working_hours(value: Any) -> None:
    try:
        WorkingHours.from_settings(value)
    except (TypeError, ValueError) as failure:
        raise RecordsError(f"working_hours is invalid: {failure}") from failure


def _check_reasons(value: Any) -> None:
    allowed = {status.value for status in Status if status.has_reason}
    if isinstance(value, dict) and not set(value) <= allowed:
        unknown = ", ".join(sorted(str(key) for key in set(value) - allowed))
        raise RecordsError(
            f"reasons is invalid: {unknown} has no reason list; use keys among {sorted(allowed)}."
        )
    if not isinstance(value, dict):
        raise RecordsError(
            f"reasons is invalid: give an object with keys among {sorted(allowed)}, each a list "
            f'of reason texts, e.g. {{"not_qualified": ["No SQL", "Other"]}}.'
        )
    for status, reasons in value.items():
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise RecordsError(f"reasons.{status} is invalid: give a list of texts.")
        if len(reasons) > MAX_REASONS:
            raise RecordsError(
                f"reasons.{status} has {len(reasons)} entries; at most {MAX_REASONS}."
            )
        seen: set[str] = set()
        for reason in reasons:
            if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
                raise RecordsError(
                    f"reason {reason!r} is invalid: give 1 to {MAX_REASON_LENGTH} characters."
                )
            # The deliver form offers each reason as an option, and options must differ.
            if reason.strip().casefold() in seen:
                raise RecordsError(
                    f"reason {reason!r} is listed twice in reasons.{status}: keep one of them."
                )
            seen.add(reason.strip().casefold())


def _check_recipient_rule(value: Any) -> None:
    statuses = {status.value for status in Status}
    if isinstance(value, dict) and not set(value) <= statuses:
        unknown = ", ".join(sorted(str(key) for key in set(value) - statuses))
        raise RecordsError(
            f"recipient_required is invalid: {unknown} is not a status; use statuses among "
            f"{sorted(statuses)}."
        )
    if (
        not isinstance(value, dict)
        or not set(value) <= statuses
        or not all(isinstance(v, bool) for v in value.values())
    ):
        raise RecordsError(
            f"recipient_required is invalid: give an object from statuses {sorted(statuses)} to "
            f'true or false, e.g. {{"qualified": true, "spam": false}}.'
        )


def _check_unread_reaction(value: Any) -> None:
    if not isinstance(value, str) or not _EMOJI_NAME.match(value):
        raise RecordsError(
            f"unread_reaction {value!r} is invalid: give an emoji name without colons, "
            f'e.g. "red_circle".'
        )


def _check_contact_bot_ids(value: Any) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _BOT_ID.match(v) for v in value
    ):
        raise RecordsError(
            'contact_bot_ids is invalid: give a list of bot ids, e.g. ["B012AB3CD"].'
        )


CHECKS: dict[str, Callable[[Any], None]] = {
    WORKING_HOURS_SETTING: _check_working_hours,
    REASONS_SETTING: _check_reasons,
    RECIPIENT_RULE_SETTING: _check_recipient_rule,
    UNREAD_REACTION_SETTING: _check_unread_reaction,
    CONTACT_BOT_IDS_SETTING: _check_contact_bot_ids,
    ADMINS_SETTING: check_admins,
}


def set_setting_command(
    session_scope: SessionScope, out: TextIO, *, workspace_id: str, key: str, value_json: str
) -> int:
    """Check a setting's JSON value and store it with an audit event; it takes effect at once."""
    check = CHECKS.get(key)
    if check is None:
        raise RecordsError(f"setting {key!r} is unknown: use one of {', '.join(sorted(CHECKS))}.")
    try:
        value = json.loads(value_json)
    except ValueError as failure:
        raise RecordsError(
            f"the value of {key} is not valid JSON ({failure}). Quote it for the shell, "
            f"e.g. '\"red_circle\"'."
        ) from failure
    if key == UNREAD_REACTION_SETTING and isinstance(value, str):
        # As the Slack form reads it: ":eyes:" and "eyes" name the same emoji.
        value = value.strip().strip(":")
    check(value)
    with session_scope() as session:
        changed = change_setting(session, workspace_id, key, value, actor=None)
    print(f"Set {key}." if changed else f"{key} already had this value.", file=out)
    return 0


def unset_setting_command(
    session_scope: SessionScope, out: TextIO, *, workspace_id: str, key: str
) -> int:
    if key not in CHECKS:
        raise RecordsError(f"setting {key!r} is unknown: use one of {', '.join(sorted(CHECKS))}.")
    with session_scope() as session:
        removed = remove_setting(session, workspace_id, key, actor=None)
    print(f"{key} is back to its default." if removed else f"{key} was not set.", file=out)
    return 0


def list_settings_command(session_scope: SessionScope, out: TextIO, *, workspace_id: str) -> int:
    with session_scope() as session:
        stored = dict(list_settings(session, workspace_id))
    for key in sorted(CHECKS):
        shown = json.dumps(stored[key]) if key in stored else "(default)"
        print(f"{key} = {shown}", file=out)
    return 0


def autoclaim_command(
    session_scope: SessionScope, out: TextIO, *, workspace_id: str, user_id: str, enabled: bool
) -> int:
    if not _USER_ID.match(user_id):
        raise RecordsError(f"{user_id!r} is not a Slack user id: give an id like U012AB3CD.")
    with session_scope() as session:
        change_user_autoclaim(session, workspace_id, user_id, enabled, actor=None)
    print(f"Autoclaim is {'on' if enabled else 'off'} for {user_id}.", file=out)
    return 0
