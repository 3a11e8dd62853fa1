"""`caretbot export deliveries` and `caretbot team`: the functions and the command wiring."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from bot.records import (
    RecordsError,
    add_team_command,
    export_deliveries,
    list_teams_command,
    parse_day,
    remove_team_command,
)
from storage.audit import list_audit_events
from storage.conversations import get_or_create_conversation
from storage.deliveries import NewDelivery, NewRecipient, create_delivery
from storage.export import EXPORT_COLUMNS
from storage.teams import add_team
from tests.bot.test_cli import caretbot_env, run_caretbot


def store_delivery(session_scope, key, when, recipients):
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id="T1", channel_id="C1", thread_ts="1700000000.000100"
        )
        create_delivery(
            session,
            NewDelivery(
                submission_key=key,
                conversation=conversation,
                application_id=None,
                contact_id=None,
                status="not_qualified",
                reason="Missing skills",
                reason_text="No SQL, 'quotes', \"and\" commas",
                notes=None,
                rating=None,
                delivered_by="U1",
                recipients=recipients,
            ),
            now=when,
        )


def test_export_csv_has_row_per_recipient(session_scope):
    with session_scope() as session:
        team = add_team(session, workspace_id="T1", name="Recruiters", members=["U7"])
        team_id = team.id
    store_delivery(
        session_scope,
        "V1",
        datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        [NewRecipient(kind="user", user_id="U2"), NewRecipient(kind="team", team_id=team_id)],
    )
    out = io.StringIO()

    count = export_deliveries(session_scope, out, since=None, until=None, file_format="csv")

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == 2
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [row["recipient_kind"] for row in rows] == ["user", "team"]
    assert rows[0]["recipient_user_id"] == "U2"
    assert rows[1]["recipient_team"] == "Recruiters"
    assert rows[0]["reason_text"] == "No SQL, 'quotes', \"and\" commas"
    assert rows[0]["delivered_at"] == "2026-11-02T10:00:00+00:00"
    assert rows[0]["rating"] == ""


def test_export_jsonl_filters_by_period(session_scope):
    store_delivery(session_scope, "V1", datetime(2026, 10, 31, 23, 59, tzinfo=UTC), [])
    store_delivery(session_scope, "V2", datetime(2026, 11, 1, 0, 0, tzinfo=UTC), [])
    store_delivery(session_scope, "V3", datetime(2026, 11, 30, 0, 0, tzinfo=UTC), [])
    out = io.StringIO()

    count = export_deliveries(
        session_scope,
        out,
        since=parse_day("2026-11-01", "--since"),
        until=parse_day("2026-11-30", "--until"),
        file_format="jsonl",
    )

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 1
    assert rows[0]["delivered_at"] == "2026-11-01T00:00:00+00:00"
    assert rows[0]["recipient_id"] is None
    assert set(rows[0]) == set(EXPORT_COLUMNS)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "11/01/2026"])
def test_parse_day_rejects_with_example(value):
    with pytest.raises(RecordsError, match=f"--since {value!r} is invalid: expected a date like"):
        parse_day(value, "--since")


def test_team_commands_round_trip(session_scope):
    out = io.StringIO()

    add_team_command(
        session_scope,
        out,
        workspace_id="T1",
        name="Recruiters",
        members=["U1", "U2"],
        channel="C0HANDOFF",
    )
    list_teams_command(session_scope, out, workspace_id="T1")
    remove_team_command(session_scope, out, workspace_id="T1", name="Recruiters")
    list_teams_command(session_scope, out, workspace_id="T1")

    lines = out.getvalue().splitlines()
    assert lines[0] == "Added team 'Recruiters' with 2 member(s)."
    assert lines[1] == "Recruiters channel=C0HANDOFF members=U1,U2"
    assert lines[2].startswith("Removed team 'Recruiters'")
    assert lines[3].startswith("No teams yet.")


@pytest.mark.parametrize(
    ("members", "channel", "fragment"),
    [
        (["bob"], None, "member 'bob' is not a Slack user id"),
        (["U1"], "#general", "channel '#general' is not a Slack channel id"),
        ([], None, "a team needs members"),
    ],
)
def test_team_add_rejects_bad_input(session_scope, members, channel, fragment):
    with pytest.raises(RecordsError, match=fragment):
        add_team_command(
            session_scope,
            io.StringIO(),
            workspace_id="T1",
            name="X",
            members=members,
            channel=channel,
        )


def test_team_add_twice_is_rejected(session_scope):
    add_team_command(
        session_scope, io.StringIO(), workspace_id="T1", name="X", members=["U1"], channel=None
    )

    with pytest.raises(RecordsError, match="team 'X' exists already"):
        add_team_command(
            session_scope, io.StringIO(), workspace_id="T1", name="X", members=["U2"], channel=None
        )


def test_cli_export_and_team_wiring(tmp_path):
    env = caretbot_env(None, tmp_path)

    added = run_caretbot(
        "team", "add", "Sales", "--member", "U0ANN", "--workspace", "T0X", env=env, cwd=tmp_path
    )
    listed = run_caretbot("team", "list", "--workspace", "T0X", env=env, cwd=tmp_path)
    exported = run_caretbot("export", "deliveries", "--format", "csv", env=env, cwd=tmp_path)
    bad = run_caretbot("export", "deliveries", "--since", "soon", env=env, cwd=tmp_path)

    assert added.returncode == 0, added.stderr
    assert listed.stdout.strip() == "Sales members=U0ANN"
    assert exported.returncode == 0
    assert exported.stdout.splitlines() == [",".join(EXPORT_COLUMNS)]
    assert bad.returncode == 2
    assert "--since 'soon' is invalid" in bad.stderr


def test_export_csv_defuses_formulas(session_scope):
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id="T1", channel_id="C1", thread_ts="1700000000.000100"
        )
        create_delivery(
            session,
            NewDelivery(
                submission_key="VF",
                conversation=conversation,
                application_id=None,
                contact_id=None,
                status="spam",
                reason=None,
                reason_text=None,
                notes='=HYPERLINK("http://example.com","x")',
                rating=None,
                delivered_by="U1",
                recipients=[],
            ),
        )
    out = io.StringIO()

    export_deliveries(session_scope, out, since=None, until=None, file_format="csv")

    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["notes"] == '\'=HYPERLINK("http://example.com","x")'


def test_cli_export_rejects_empty_period_and_bad_output(tmp_path):
    env = caretbot_env(None, tmp_path)

    reversed_period = run_caretbot(
        "export",
        "deliveries",
        "--since",
        "2026-12-01",
        "--until",
        "2026-11-01",
        env=env,
        cwd=tmp_path,
    )
    bad_output = run_caretbot(
        "export", "deliveries", "--output", str(tmp_path / "no" / "x.csv"), env=env, cwd=tmp_path
    )

    assert reversed_period.returncode == 2
    assert "is not after --since" in reversed_period.stderr
    assert bad_output.returncode == 2
    assert "Give a file in a folder that exists" in bad_output.stderr
    assert "Traceback" not in bad_output.stderr


def test_team_commands_write_audit_events(session_scope):
    out = io.StringIO()

    add_team_command(
        session_scope, out, workspace_id="T1", name="Recruiters", members=["U1"], channel=None
    )
    remove_team_command(session_scope, out, workspace_id="T1", name="Recruiters")

    with session_scope() as session:
        events = list(reversed(list_audit_events(session, "T1")))
    assert [(event.actor, event.kind) for event in events] == [
        (None, "team_added"),
        (None, "team_removed"),
    ]
    assert events[0].detail["new"]["members"] == ["U1"]
    assert events[1].detail["old"]["name"] == "Recruiters"


def test_team_list_shows_linked_usergroup(session_scope):
    with session_scope() as session:
        add_team(session, workspace_id="T1", name="Crew", members=[], usergroup_id="S0CREW")
    out = io.StringIO()

    list_teams_command(session_scope, out, workspace_id="T1")

    assert out.getvalue().splitlines() == ["Crew usergroup=S0CREW"]
