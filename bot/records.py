"""Command-line record keeping: `caretbot export deliveries` and `caretbot team ...`."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from storage.audit import add_team_audited, remove_team_audited
from storage.db import SessionScope
from storage.export import EXPORT_COLUMNS, export_rows
from storage.teams import TeamExists, list_teams, team_members

_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{1,31}$")


class RecordsError(Exception):
    """Bad command-line input; the message names the value and the fix."""


def parse_day(value: str, option: str) -> datetime:
    """Read an ISO date (or date-time) as the start of that moment in UTC."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError as failure:
        raise RecordsError(
            f"{option} {value!r} is invalid: expected a date like 2026-11-30 or a date-time "
            f"like 2026-11-30T14:00:00+01:00."
        ) from failure
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def export_deliveries(
    session_scope: SessionScope,
    out: TextIO,
    *,
    since: datetime | None,
    until: datetime | None,
    file_format: str,
    workspace_id: str | None = None,
) -> int:
    """Write one row per delivery and recipient; return how many rows went out.

    Without `workspace_id`, the rows of every workspace.
    """
    count = 0
    with session_scope() as session:
        rows = export_rows(session, since=since, until=until, workspace_id=workspace_id)
        if file_format == "csv":
            writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _csv_value(value) for key, value in row.items()})
                count += 1
        else:
            for row in rows:
                out.write(json.dumps({k: _json_value(v) for k, v in row.items()}) + "\n")
                count += 1
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # A spreadsheet would run such a cell as a formula; a leading quote shows it as text.
        return "'" + value
    return value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def add_team_command(
    session_scope: SessionScope,
    out: TextIO,
    *,
    workspace_id: str,
    name: str,
    members: list[str],
    channel: str | None,
) -> int:
    name = name.strip()
    if not name or len(name) > 80:
        raise RecordsError(f"team name {name!r} is invalid: give 1 to 80 characters.")
    bad = [member for member in members if not _USER_ID.match(member)]
    if bad:
        raise RecordsError(
            f"member {bad[0]!r} is not a Slack user id: give ids like U012AB3CD "
            f"(in Slack: a profile's ⋮ menu > Copy member ID)."
        )
    if channel is not None and not _CHANNEL_ID.match(channel):
        raise RecordsError(
            f"channel {channel!r} is not a Slack channel id: give an id like C012AB3CD "
            f"(in Slack: the channel's details > About, at the bottom)."
        )
    if not members and channel is None:
        raise RecordsError("a team needs members (--member) or a hand-off channel (--channel).")
    try:
        with session_scope() as session:
            add_team_audited(
                session,
                workspace_id=workspace_id,
                name=name,
                members=members,
                channel_id=channel,
                actor=None,
            )
    except TeamExists as failure:
        raise RecordsError(
            f"team {name!r} exists already: remove it first or choose another name."
        ) from failure
    print(f"Added team {name!r} with {len(set(members))} member(s).", file=out)
    return 0


def list_teams_command(session_scope: SessionScope, out: TextIO, *, workspace_id: str) -> int:
    with session_scope() as session:
        teams = [
            (team, team_members(session, team.id)) for team in list_teams(session, workspace_id)
        ]
    if not teams:
        print("No teams yet. Add one with `caretbot team add NAME --member U...`.", file=out)
    for team, members in teams:
        channel = f" channel={team.channel_id}" if team.channel_id else ""
        if team.usergroup_id:
            print(f"{team.name}{channel} usergroup={team.usergroup_id}", file=out)
            continue
        print(f"{team.name}{channel} members={','.join(members) or '-'}", file=out)
    return 0


def remove_team_command(
    session_scope: SessionScope, out: TextIO, *, workspace_id: str, name: str
) -> int:
    with session_scope() as session:
        removed = remove_team_audited(session, workspace_id=workspace_id, name=name, actor=None)
    if not removed:
        raise RecordsError(f"team {name!r} not found: `caretbot team list` shows the teams.")
    print(f"Removed team {name!r}; past deliveries to it keep its name.", file=out)
    return 0
