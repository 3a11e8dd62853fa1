"""The audit trail: every configuration change stores one event with who, what and when."""

import pytest

from storage.audit import (
    add_team_audited,
    change_autoclaim,
    change_setting,
    change_user_autoclaim,
    list_audit_events,
    remove_setting,
    remove_team_audited,
    update_team_audited,
)
from storage.claims import autoclaim_enabled, list_autoclaim_users
from storage.settings import get_setting
from storage.teams import TeamExists, add_team, find_team, team_members


def events(session_scope, workspace_id="T1"):
    with session_scope() as session:
        found = list_audit_events(session, workspace_id)
        return [(event.actor, event.kind, event.detail) for event in reversed(found)]


def test_setting_change_and_removal(session_scope):
    with session_scope() as session:
        first = change_setting(session, "T1", "unread_reaction", "eyes", actor="UADMIN")
        second = change_setting(session, "T1", "unread_reaction", "eyes", actor="UADMIN")
        third = change_setting(session, "T1", "unread_reaction", "fire", actor=None)
        removed = remove_setting(session, "T1", "unread_reaction", actor="UADMIN")
        missing = remove_setting(session, "T1", "unread_reaction", actor="UADMIN")

    assert (first, second, third, removed, missing) == (True, False, True, True, False)
    assert events(session_scope) == [
        ("UADMIN", "setting_changed", {"key": "unread_reaction", "old": None, "new": "eyes"}),
        (None, "setting_changed", {"key": "unread_reaction", "old": "eyes", "new": "fire"}),
        ("UADMIN", "setting_removed", {"key": "unread_reaction", "old": "fire", "new": None}),
    ]
    with session_scope() as session:
        assert get_setting(session, "T1", "unread_reaction") is None


def test_failed_transaction_keeps_neither(session_scope):
    with pytest.raises(RuntimeError), session_scope() as session:
        change_setting(session, "T1", "unread_reaction", "eyes", actor="UADMIN")
        raise RuntimeError("rolled back")

    with session_scope() as session:
        assert get_setting(session, "T1", "unread_reaction") is None
    assert events(session_scope) == []


def test_autoclaim_set_replaces_users(session_scope):
    with session_scope() as session:
        change_autoclaim(session, "T1", ["UA", "UB"], actor="UADMIN")
        change_autoclaim(session, "T1", ["UB", "UC"], actor="UADMIN")
        unchanged = change_autoclaim(session, "T1", ["UC", "UB"], actor="UADMIN")

    with session_scope() as session:
        assert list_autoclaim_users(session, "T1") == ["UB", "UC"]
        assert autoclaim_enabled(session, "T1", "UA") is False
    assert unchanged is False
    assert [detail for _actor, _kind, detail in events(session_scope)] == [
        {"key": "autoclaim", "old": [], "new": ["UA", "UB"]},
        {"key": "autoclaim", "old": ["UA", "UB"], "new": ["UB", "UC"]},
    ]


def test_one_user_autoclaim(session_scope):
    with session_scope() as session:
        change_user_autoclaim(session, "T1", "UA", True, actor=None)
        again = change_user_autoclaim(session, "T1", "UA", True, actor=None)
        change_user_autoclaim(session, "T1", "UA", False, actor=None)

    assert again is False
    assert [kind for _actor, kind, _detail in events(session_scope)] == [
        "autoclaim_changed",
        "autoclaim_changed",
    ]


def test_team_add_change_remove(session_scope):
    with session_scope() as session:
        team = add_team_audited(
            session,
            workspace_id="T1",
            name="Sales",
            members=["UA"],
            channel_id=None,
            actor="UADMIN",
        )
        changed = update_team_audited(
            session,
            team,
            name="Sales EU",
            members=[],
            channel_id="C0SALES",
            usergroup_id="S0SALES",
            actor="UADMIN",
        )
        unchanged = update_team_audited(
            session,
            team,
            name="Sales EU",
            members=[],
            channel_id="C0SALES",
            usergroup_id="S0SALES",
            actor="UADMIN",
        )
        members = team_members(session, team.id)
        removed = remove_team_audited(session, workspace_id="T1", name="Sales EU", actor=None)
        gone = find_team(session, workspace_id="T1", name="Sales EU")

    assert (changed, unchanged, removed, gone, members) == (True, False, True, None, [])
    [(_a, added, first), (_b, kind, second), (actor, last, third)] = events(session_scope)
    assert (added, kind, last, actor) == ("team_added", "team_changed", "team_removed", None)
    assert first["new"]["members"] == ["UA"]
    assert second["old"]["name"] == "Sales"
    assert second["new"] == {
        "id": team.id,
        "name": "Sales EU",
        "members": [],
        "usergroup_id": "S0SALES",
        "channel_id": "C0SALES",
    }
    assert third["new"] is None


def test_team_rename_to_taken_name_raises(session_scope):
    with session_scope() as session:
        add_team(session, workspace_id="T1", name="Sales", members=["UA"])
        other = add_team(session, workspace_id="T1", name="Support", members=["UB"])

        with pytest.raises(TeamExists):
            update_team_audited(
                session,
                other,
                name="Sales",
                members=["UB"],
                channel_id=None,
                usergroup_id=None,
                actor="UADMIN",
            )
