"""/caret-export end to end: the CSV in the admin's DM, its columns, period and workspace."""

from __future__ import annotations

import csv
import io

from storage.conversations import ensure_workspace, get_or_create_conversation
from storage.export import EXPORT_COLUMNS
from tests.e2e.report_support import (
    ADMIN,
    add_admin,
    add_application,
    add_contact,
    add_conversation,
    add_delivery,
    berlin,
    email_recipient,
    run_command,
    user_recipient,
)
from tests.support import AGENT, TEAM


def seed(bot):
    """Store two November deliveries (one with two recipients) and two outside November."""
    with bot.session_scope() as session:
        contact = add_contact(
            session, "Casey One", created_at=berlin(2026, 11, 1), email="casey@example.com"
        )
        application = add_application(session, contact, "Data Engineer", source="=linkedin")
        conversation = add_conversation(session, contact_id=contact)
        add_delivery(
            session,
            conversation,
            "qualified",
            berlin(2026, 11, 1, 0, 0, 0),
            agent=AGENT,
            application_id=application,
            recipients=[user_recipient("U0REC1"), email_recipient("hm@example.com")],
        )
        add_delivery(
            session,
            add_conversation(session),
            "spam",
            berlin(2026, 11, 30, 23, 59, 59),
            agent=AGENT,
        )
        add_delivery(
            session,
            add_conversation(session),
            "spam",
            berlin(2026, 10, 31, 23, 59, 59),
            agent=AGENT,
        )
        add_delivery(
            session, add_conversation(session), "spam", berlin(2026, 12, 1, 0, 0), agent=AGENT
        )
        ensure_workspace(session, "T0OTHER")
        other = get_or_create_conversation(
            session, workspace_id="T0OTHER", channel_id="C0X", thread_ts="1.000100"
        )
        add_delivery(session, other, "spam", berlin(2026, 11, 5), agent=AGENT)


def exported_rows(slack):
    [completed] = slack.calls_to("files.completeUploadExternal")
    assert completed.ok, completed.error
    [file] = completed.response["files"]
    text = slack.file_content(file["id"]).decode("utf-8")
    return completed, list(csv.reader(io.StringIO(text)))


def test_export_sends_csv_to_dm(bot, slack):
    add_admin(slack)
    seed(bot)
    slack.reset()

    [answer] = run_command(bot, slack, "/caret-export", "2026-11-01 2026-11-30")

    completed, rows = exported_rows(slack)
    assert completed.args["channel_id"] == slack.dm_channel_id(ADMIN)
    assert rows[0] == list(EXPORT_COLUMNS)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [record["status"] for record in records] == ["qualified", "qualified", "spam"]
    assert {record["workspace_id"] for record in records} == {TEAM}
    assert [record["recipient_user_id"] for record in records] == ["U0REC1", "", ""]
    assert [record["recipient_email"] for record in records] == ["", "hm@example.com", ""]
    assert records[0]["contact_email"] == "casey@example.com"
    assert records[0]["delivered_at"] == "2026-10-31T23:00:00+00:00"
    # A cell that a spreadsheet would run as a formula is quoted, as in the CLI export.
    assert records[0]["source"] == "'=linkedin"
    assert answer["text"].endswith(
        "in your DM with caretbot: 3 rows, one per delivery and recipient."
    )


def test_export_period_boundaries(bot, slack):
    add_admin(slack)
    seed(bot)
    slack.reset()

    run_command(bot, slack, "/caret-export", "2026-11-30 2026-12-01")

    _completed, rows = exported_rows(slack)
    delivered = [row[EXPORT_COLUMNS.index("delivered_at")] for row in rows[1:]]
    assert delivered == ["2026-11-30T22:59:59+00:00", "2026-11-30T23:00:00+00:00"]


def test_export_of_empty_period(bot, slack):
    add_admin(slack)

    [answer] = run_command(bot, slack, "/caret-export", "today")

    assert answer["text"].startswith("No deliveries in today (")
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_export_refused_for_non_admin(bot, slack):
    seed(bot)
    slack.reset()

    [answer] = run_command(bot, slack, "/caret-export", "", user=AGENT)

    assert answer["text"] == (
        "Only the workspace's admins and owners can run /caret-export. Ask one of them to run "
        "it, or to add you as an admin."
    )
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_export_bad_period_gets_usage(bot, slack):
    add_admin(slack)

    [answer] = run_command(bot, slack, "/caret-export", "by source")

    assert answer["text"].startswith("`by source` is not a period. Usage: `/caret-export [period]`")
    assert "Example: `/caret-export 2026-11-01 2026-11-30`" in answer["text"]


def test_export_upload_failure_is_told(bot, slack):
    add_admin(slack)
    seed(bot)
    slack.fail_next("files.completeUploadExternal", status=200, error="invalid_channel")

    [answer] = run_command(bot, slack, "/caret-export", "2026-11-01 2026-11-30")

    assert answer["text"].startswith("The export could not be sent to your DM")
    assert "invalid_channel" in answer["text"]
