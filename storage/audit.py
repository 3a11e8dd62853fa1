"""The audit trail of configuration changes, and the changes that write to it.

Each change and its audit event go into the caller's session, so both commit together or
not at all. `actor` is the Slack user who made the change, or None for the command line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from storage.claims import list_autoclaim_users, set_autoclaim
from storage.conversations import ensure_workspace
from storage.models import AuditEvent, Team
from storage.settings import delete_setting, get_setting, put_setting
from storage.teams import add_team, find_team, remove_team, team_members, update_team

SETTING_CHANGED = "setting_changed"
SETTING_REMOVED = "setting_removed"
AUTOCLAIM_CHANGED = "autoclaim_changed"
TEAM_ADDED = "team_added"
TEAM_CHANGED = "team_changed"
TEAM_REMOVED = "team_removed"

AUTOCLAIM_KEY = "autoclaim"
TEAM_KEY = "team"


def record_audit_event(
    session: Session, workspace_id: str, kind: str, *, actor: str | None, detail: dict[str, Any]
) -> AuditEvent:
    ensure_workspace(session, workspace_id)
    event = AuditEvent(workspace_id=workspace_id, actor=actor, kind=kind, detail=detail)
    session.add(event)
    session.flush()
    return event


def list_audit_events(session: Session, workspace_id: str, *, limit: int = 100) -> list[AuditEvent]:
    """Return the workspace's latest audit events, newest first."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.exec(statement))


def change_setting(
    session: Session, workspace_id: str, key: str, value: Any, *, actor: str | None
) -> bool:
    """Store a workspace setting with its audit event; return False when it was unchanged."""
    old = get_setting(session, workspace_id, key)
    if old == value:
        return False
    put_setting(session, workspace_id, key, value, updated_by=actor)
    record_audit_event(
        session,
        workspace_id,
        SETTING_CHANGED,
        actor=actor,
        detail={"key": key, "old": old, "new": value},
    )
    return True


def remove_setting(session: Session, workspace_id: str, key: str, *, actor: str | None) -> bool:
    """Return a setting to its default with an audit event; return whether one was stored."""
    old = get_setting(session, workspace_id, key)
    if not delete_setting(session, workspace_id, key):
        return False
    record_audit_event(
        session,
        workspace_id,
        SETTING_REMOVED,
        actor=actor,
        detail={"key": key, "old": old, "new": None},
    )
    return True


def change_autoclaim(
    session: Session, workspace_id: str, user_ids: Iterable[str], *, actor: str | None
) -> bool:
    """Turn autoclaim on for exactly `user_ids` and off for everyone else who had it.

    Return False when the set of users was unchanged. One audit event lists both sets.
    """
    old = list_autoclaim_users(session, workspace_id)
    new = sorted(set(user_ids))
    if old == new:
        return False
    for user_id in sorted(set(old) - set(new)):
        set_autoclaim(session, workspace_id, user_id, False, updated_by=actor)
    for user_id in sorted(set(new) - set(old)):
        set_autoclaim(session, workspace_id, user_id, True, updated_by=actor)
    record_audit_event(
        session,
        workspace_id,
        AUTOCLAIM_CHANGED,
        actor=actor,
        detail={"key": AUTOCLAIM_KEY, "old": old, "new": new},
    )
    return True


def change_user_autoclaim(
    session: Session, workspace_id: str, user_id: str, enabled: bool, *, actor: str | None
) -> bool:
    """Turn one user's autoclaim on or off; return False when it already was."""
    users = set(list_autoclaim_users(session, workspace_id))
    if enabled:
        users.add(user_id)
    else:
        users.discard(user_id)
    return change_autoclaim(session, workspace_id, users, actor=actor)


def team_snapshot(session: Session, team: Team) -> dict[str, Any]:
    """Describe a team as its audit events show it."""
    assert team.id is not None
    return {
        "id": team.id,
        "name": team.name,
        "members": team_members(session, team.id),
        "usergroup_id": team.usergroup_id,
        "channel_id": team.channel_id,
    }


def add_team_audited(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    members: list[str],
    channel_id: str | None,
    usergroup_id: str | None = None,
    actor: str | None,
) -> Team:
    """Add a team with its audit event; raises TeamExists for a name in use."""
    team = add_team(
        session,
        workspace_id=workspace_id,
        name=name,
        members=members,
        channel_id=channel_id,
        usergroup_id=usergroup_id,
    )
    record_audit_event(
        session,
        workspace_id,
        TEAM_ADDED,
        actor=actor,
        detail={"key": TEAM_KEY, "old": None, "new": team_snapshot(session, team)},
    )
    return team


def update_team_audited(
    session: Session,
    team: Team,
    *,
    name: str,
    members: list[str],
    channel_id: str | None,
    usergroup_id: str | None,
    actor: str | None,
) -> bool:
    """Change a team with its audit event; return False when nothing changed.

    Raises TeamExists when another team of the workspace has the new name.
    """
    old = team_snapshot(session, team)
    update_team(
        session,
        team,
        name=name,
        members=members,
        channel_id=channel_id,
        usergroup_id=usergroup_id,
    )
    new = team_snapshot(session, team)
    if new == old:
        return False
    record_audit_event(
        session,
        team.workspace_id,
        TEAM_CHANGED,
        actor=actor,
        detail={"key": TEAM_KEY, "old": old, "new": new},
    )
    return True


def remove_team_audited(
    session: Session, *, workspace_id: str, name: str, actor: str | None
) -> bool:
    """Mark a team removed with its audit event; return False when no such team exists."""
    team = find_team(session, workspace_id=workspace_id, name=name)
    if team is None:
        return False
    old = team_snapshot(session, team)
    remove_team(session, workspace_id=workspace_id, name=name)
    record_audit_event(
        session,
        workspace_id,
        TEAM_REMOVED,
        actor=actor,
        detail={"key": TEAM_KEY, "old": old, "new": None},
    )
    return True
