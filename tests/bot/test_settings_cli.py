"""`caretbot settings`: each setting is checked before it is stored, and takes effect."""

import io
import json

import pytest

from bot.records import RecordsError
from bot.settings_cli import (
    autoclaim_command,
    list_settings_command,
    set_setting_command,
    unset_setting_command,
)
from storage.audit import list_audit_events
from storage.claims import autoclaim_enabled
from storage.settings import get_setting
from tests.bot.test_cli import caretbot_env, run_caretbot

WORKING_HOURS = {
    "time_zone": "Europe/Berlin",
    "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]},
    "holidays": ["2026-12-25"],
}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("working_hours", WORKING_HOURS),
        ("reasons", {"not_qualified": ["No SQL", "Other"]}),
        ("recipient_required", {"qualified": True, "spam": False}),
        ("unread_reaction", "eyes"),
        ("contact_bot_ids", ["B012AB3CD"]),
    ],
)
def test_set_stores_valid_value(session_scope, key, value):
    out = io.StringIO()

    set_setting_command(
        session_scope, out, workspace_id="T1", key=key, value_json=json.dumps(value)
    )

    with session_scope() as session:
        assert get_setting(session, "T1", key) == value
    assert out.getvalue() == f"Set {key}.\n"


@pytest.mark.parametrize(
    ("key", "value_json", "fragment"),
    [
        ("working_hours", '{"time_zone": "Mars/Olympus"}', "working_hours is invalid"),
        ("reasons", '{"qualified": ["x"]}', "qualified has no reason list"),
        ("reasons", '{"not_qualified": ["No SQL", "no sql "]}', "listed twice"),
        ("recipient_required", '{"hired": true}', "hired is not a status"),
        ("reasons", '{"not_qualified": ["' + "x" * 76 + '"]}', "give 1 to 75 characters"),
        ("recipient_required", '{"qualified": "yes"}', "recipient_required is invalid"),
        ("unread_reaction", '"red circle"', "without colons"),
        ("contact_bot_ids", '["U012"]', "list of bot ids"),
        ("colour", '"blue"', "setting 'colour' is unknown"),
        ("unread_reaction", "red_circle", "is not valid JSON"),
    ],
)
def test_set_rejects_bad_value(session_scope, key, value_json, fragment):
    with pytest.raises(RecordsError, match=fragment):
        set_setting_command(
            session_scope, io.StringIO(), workspace_id="T1", key=key, value_json=value_json
        )

    with session_scope() as session:
        assert get_setting(session, "T1", key) is None


def test_set_reads_emoji_with_colons(session_scope):
    set_setting_command(
        session_scope,
        io.StringIO(),
        workspace_id="T1",
        key="unread_reaction",
        value_json='":eyes:"',
    )

    with session_scope() as session:
        assert get_setting(session, "T1", "unread_reaction") == "eyes"


def test_list_and_unset(session_scope):
    set_setting_command(
        session_scope, io.StringIO(), workspace_id="T1", key="unread_reaction", value_json='"eyes"'
    )
    listed = io.StringIO()
    list_settings_command(session_scope, listed, workspace_id="T1")
    unset = io.StringIO()
    unset_setting_command(session_scope, unset, workspace_id="T1", key="unread_reaction")

    assert 'unread_reaction = "eyes"' in listed.getvalue()
    assert "working_hours = (default)" in listed.getvalue()
    assert unset.getvalue() == "unread_reaction is back to its default.\n"
    with session_scope() as session:
        assert get_setting(session, "T1", "unread_reaction") is None


def test_autoclaim_turns_on_and_off(session_scope):
    autoclaim_command(session_scope, io.StringIO(), workspace_id="T1", user_id="U1", enabled=True)
    with session_scope() as session:
        on = autoclaim_enabled(session, "T1", "U1")
    autoclaim_command(session_scope, io.StringIO(), workspace_id="T1", user_id="U1", enabled=False)
    with session_scope() as session:
        off = autoclaim_enabled(session, "T1", "U1")

    assert (on, off) == (True, False)
    with pytest.raises(RecordsError, match="'bob' is not a Slack user id"):
        autoclaim_command(
            session_scope, io.StringIO(), workspace_id="T1", user_id="bob", enabled=True
        )


def test_cli_settings_wiring(tmp_path):
    env = caretbot_env(None, tmp_path)

    stored = run_caretbot(
        "settings", "set", "unread_reaction", '"eyes"', "--workspace", "T0X", env=env, cwd=tmp_path
    )
    bad = run_caretbot(
        "settings", "set", "unread_reaction", '"x y"', "--workspace", "T0X", env=env, cwd=tmp_path
    )
    listed = run_caretbot("settings", "list", "--workspace", "T0X", env=env, cwd=tmp_path)

    assert stored.returncode == 0, stored.stderr
    assert bad.returncode == 2
    assert "without colons" in bad.stderr
    assert 'unread_reaction = "eyes"' in listed.stdout


def audit_events(session_scope):
    with session_scope() as session:
        found = list_audit_events(session, "T1")
        return [(event.actor, event.kind, event.detail) for event in reversed(found)]


def test_cli_changes_write_audit_events(session_scope):
    out = io.StringIO()

    set_setting_command(
        session_scope, out, workspace_id="T1", key="unread_reaction", value_json='"eyes"'
    )
    set_setting_command(
        session_scope, out, workspace_id="T1", key="unread_reaction", value_json='"eyes"'
    )
    unset_setting_command(session_scope, out, workspace_id="T1", key="unread_reaction")
    autoclaim_command(session_scope, out, workspace_id="T1", user_id="U1", enabled=True)

    assert out.getvalue().splitlines()[:2] == [
        "Set unread_reaction.",
        "unread_reaction already had this value.",
    ]
    assert audit_events(session_scope) == [
        (None, "setting_changed", {"key": "unread_reaction", "old": None, "new": "eyes"}),
        (None, "setting_removed", {"key": "unread_reaction", "old": "eyes", "new": None}),
        (None, "autoclaim_changed", {"key": "autoclaim", "old": [], "new": ["U1"]}),
    ]


def test_cli_rejected_value_writes_no_audit_event(session_scope):
    with pytest.raises(RecordsError):
        set_setting_command(
            session_scope, io.StringIO(), workspace_id="T1", key="admins", value_json='["bob"]'
        )

    assert audit_events(session_scope) == []
