"""Teams: named groups of Slack users that receive hand-offs."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.conversations import ensure_workspace
from storage.models import Team, TeamMember, utcnow


class TeamExists(Exception):
    """A team of that name exists in the workspace already."""


def add_team(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    members: list[str],
    channel_id: str | None = None,
    usergroup_id: str | None = None,
) -> Team:
    """Add a team. With `usergroup_id`, the Slack user group's members are the team's."""
    ensure_workspace(session, workspace_id)
    if find_team(session, workspace_id=workspace_id, name=name) is not None:
        raise TeamExists(name)
    team = Team(
        workspace_id=workspace_id, name=name, channel_id=channel_id, usergroup_id=usergroup_id
    )
    session.add(team)
    session.flush()
    for user_id in dict.fromkeys(members):
        session.add(TeamMember(team_id=team.id, user_id=user_id))
    session.flush()
    return team


def find_team(session: Session, *, workspace_id: str, name: str) -> Team | None:
    statement = select(Team).where(
        Team.workspace_id == workspace_id, Team.name == name, Team.removed_at.is_(None)
    )
    return session.exec(statement).first()


def list_teams(session: Session, workspace_id: str) -> list[Team]:
    statement = (
        select(Team)
        .where(Team.workspace_id == workspace_id, Team.removed_at.is_(None))
        .order_by(Team.name)
    )
    return list(session.exec(statement))


def update_team(
    session: Session,
    team: Team,
    *,
    name: str,
    members: list[str],
    channel_id: str | None,
    usergroup_id: str | None,
) -> None:
    """Replace a team's name, members, hand-off channel and linked user group."""
    assert team.id is not None
    other = find_team(session, workspace_id=team.workspace_id, name=name)
    if other is not None and other.id != team.id:
        raise TeamExists(name)
    team.name = name
    team.channel_id = channel_id
    team.usergroup_id = usergroup_id
    session.add(team)
    wanted = list(dict.fromkeys(members))
    for member in session.exec(select(TeamMember).where(TeamMember.team_id == team.id)):
        if member.user_id not in wanted:
            session.delete(member)
    for user_id in set(wanted) - set(team_members(session, team.id)):
        session.add(TeamMember(team_id=team.id, user_id=user_id))
    session.flush()


def get_team(session: Session, *, workspace_id: str, team_id: int) -> Team | None:
    """Return the workspace's team with that id unless it was removed."""
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id or team.removed_at is not None:
        return None
    return team


def team_members(session: Session, team_id: int) -> list[str]:
    statement = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    return sorted(session.exec(statement))


def remove_team(session: Session, *, workspace_id: str, name: str) -> bool:
    """Mark the team removed; its row stays, because past deliveries name it."""
    team = find_team(session, workspace_id=workspace_id, name=name)
    if team is None:
        return False
    team.removed_at = utcnow()
    session.add(team)
    session.flush()
    return True
