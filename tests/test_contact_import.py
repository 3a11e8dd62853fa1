"""End-to-end tests of `caretbot import contacts`: the real importer on a migrated database.

Every test that uses the db_url fixture of conftest.py runs on SQLite, and also on PostgreSQL
when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.contact_csv import COLUMNS
from bot.contact_import import run_contact_import
from storage.conversations import get_or_create_conversation, list_events
from storage.db import SessionScope, create_db_engine, session_scope_for
from storage.migrate import upgrade
from storage.models import Contact, Conversation, ConversationEvent, JobApplication, Workspace

EXAMPLE_CSV = Path(__file__).parent / "fixtures" / "contacts_example.csv"
WORKSPACE_ID = "T0CARET01"
HEADER = ",".join(COLUMNS)


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def run_import(session_scope: SessionScope, path: Path, *, dry_run: bool = False) -> Outcome:
    out = io.StringIO()
    code = run_contact_import(
        path, session_scope=session_scope, workspace_id=WORKSPACE_ID, dry_run=dry_run, out=out
    )
    return Outcome(code=code, output=out.getvalue())


def csv_line(**values: str) -> str:
    """Return one CSV line with the given cells in COLUMNS order, quoted where needed."""
    unknown = set(values) - set(COLUMNS)
    assert not unknown, f"unknown columns in test row: {unknown}"
    buffer = io.StringIO()
    # Python 3.11's writer quotes a line break only if it is part of lineterminator, so keep the
    # default "\r\n" and strip it afterwards.
    csv.writer(buffer).writerow([values.get(column, "") for column in COLUMNS])
    return buffer.getvalue().removesuffix("\r\n")


def write_csv(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def ada(**overrides: str) -> str:
    values = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "job_title": "Data Engineer",
        "requisition_id": "REQ-1",
        "applied_at": "2024-03-04",
    }
    values.update(overrides)
    return csv_line(**{key: value for key, value in values.items() if value is not None})


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every caretbot table, to prove that a run wrote nothing."""
    tables = ["workspace", "contact", "jobapplication", "conversation", "conversationevent"]
    with engine.connect() as connection:
        return {
            table: sorted(connection.execute(sa.text(f"SELECT * FROM {table}")).all(), key=str)
            for table in tables
        }


def contacts(engine: sa.Engine) -> list[Contact]:
    with Session(engine) as session:
        return list(session.exec(select(Contact).order_by(Contact.id)))


def applications(engine: sa.Engine, contact_id: int | None = None) -> list[JobApplication]:
    statement = select(JobApplication).order_by(JobApplication.id)
    if contact_id is not None:
        statement = statement.where(JobApplication.contact_id == contact_id)
    with Session(engine) as session:
        return list(session.exec(statement))


def active_titles(engine: sa.Engine) -> dict[str, list[str]]:
    """Return each contact's name with the job titles of its active applications."""
    result: dict[str, list[str]] = {}
    for contact in contacts(engine):
        titles = [item.job_title for item in applications(engine, contact.id) if item.active]
        result[contact.name] = titles
    return result


def contact_named(engine: sa.Engine, name: str) -> Contact:
    matches = [contact for contact in contacts(engine) if contact.name == name]
    assert len(matches) == 1, f"expected one contact named {name!r}, found {len(matches)}"
    return matches[0]


def totals(outcome: Outcome) -> list[str]:
    return [line for line in outcome.lines if line.split(":")[0] in TOTAL_LABELS]


TOTAL_LABELS = {"Rows", "Contacts", "Applications", "Active applications", "Conversations"}


# The example file


def test_example_first_import_counts(session_scope: SessionScope, engine: sa.Engine) -> None:
    outcome = run_import(session_scope, EXAMPLE_CSV)

    assert outcome.code == 0, outcome.output
    assert outcome.lines[0] == f"Imported '{EXAMPLE_CSV}':"
    assert totals(outcome) == [
        "Rows: 8 read, 0 unchanged",
        "Contacts: 7 created, 0 updated",
        "Applications: 8 created, 0 updated",
        "Active applications: 7 activated, 0 deactivated",
        "Conversations: 1 linked to a contact, 1 of them created",
    ]
    assert len(contacts(engine)) == 7
    assert len(applications(engine)) == 8


def test_example_stores_normalized_values(session_scope: SessionScope, engine: sa.Engine) -> None:
    run_import(session_scope, EXAMPLE_CSV)

    ada_contact = contact_named(engine, "Ada Lovelace")
    grace = contact_named(engine, "Grace Hopper")
    alan = contact_named(engine, "Alan Turing")
    assert ada_contact.email == "ada.lovelace@example.com"
    assert ada_contact.phone == "+442079460958"
    assert grace.phone == "4155550132"
    assert grace.slack_user_id == "U05ABC12DEF"
    assert alan.email is None
    assert alan.phone == "+16175550199"
    margaret = contact_named(engine, "Margaret Hamilton")
    barbara = contact_named(engine, "Barbara Liskov")
    assert (margaret.email, margaret.phone) == (None, None)
    assert margaret.slack_user_id == "U06HAM1LTN2"
    assert (barbara.email, barbara.phone, barbara.slack_user_id) == (None, None, None)

    by_title = {item.job_title: item for item in applications(engine)}
    assert by_title["Engineering Manager"].applied_at == datetime(2024, 2, 28, 0, 5, tzinfo=UTC)
    assert by_title["QA Analyst"].applied_at == datetime(2024, 3, 20, 10, 15, tzinfo=UTC)
    assert by_title["Site Reliability Engineer"].applied_at == datetime(2024, 3, 22, tzinfo=UTC)
    assert by_title["Engineering Manager"].job_location == "San Francisco, CA"
    assert by_title["Analytics Engineer"].referrer == "Grace Hopper"
    researcher = by_title["Programming Languages Researcher"]
    assert (researcher.requisition_id, researcher.applied_at) == (None, None)


def test_example_has_one_active_per_contact(session_scope: SessionScope, engine: sa.Engine) -> None:
    run_import(session_scope, EXAMPLE_CSV)

    assert active_titles(engine) == {
        "Ada Lovelace": ["Analytics Engineer"],
        "Grace Hopper": ["Engineering Manager"],
        "Alan Turing": ["Backend Engineer"],
        "Katherine Johnson": ["QA Analyst"],
        "Edsger Dijkstra": ["Site Reliability Engineer"],
        "Margaret Hamilton": ["Flight Software Engineer"],
        "Barbara Liskov": ["Programming Languages Researcher"],
    }


def test_example_links_thread_to_contact(session_scope: SessionScope, engine: sa.Engine) -> None:
    run_import(session_scope, EXAMPLE_CSV)

    ada_contact = contact_named(engine, "Ada Lovelace")
    with Session(engine) as session:
        conversation = session.exec(select(Conversation)).one()
        events = list_events(session, conversation.id)
    assert conversation.workspace_id == WORKSPACE_ID
    assert conversation.channel_id == "C04QJ8K2M1L"
    assert conversation.thread_ts == "1710754200.123456"
    assert conversation.contact_id == ada_contact.id
    assert [event.kind for event in events] == ["contact_linked"]
    assert events[0].actor is None
    assert events[0].detail == {"contact_id": ada_contact.id, "previous_contact_id": None}


def test_example_reimport_creates_nothing(session_scope: SessionScope, engine: sa.Engine) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    before = snapshot(engine)

    outcome = run_import(session_scope, EXAMPLE_CSV)

    assert outcome.code == 0, outcome.output
    assert totals(outcome) == [
        "Rows: 8 read, 8 unchanged",
        "Contacts: 0 created, 0 updated",
        "Applications: 0 created, 0 updated",
        "Active applications: 0 activated, 0 deactivated",
        "Conversations: 0 linked to a contact, 0 of them created",
    ]
    assert outcome.lines[1:] == totals(outcome)
    assert snapshot(engine) == before


def test_example_creates_workspace(session_scope: SessionScope, engine: sa.Engine) -> None:
    run_import(session_scope, EXAMPLE_CSV)

    with Session(engine) as session:
        workspace_ids = [workspace.id for workspace in session.exec(select(Workspace))]
    assert workspace_ids == [WORKSPACE_ID]


# Updates and matching


def test_reimport_updates_given_fields_only(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = ada(phone="+44 20 7946 0958", job_location="London", source="linkedin")
    run_import(session_scope, write_csv(tmp_path, first, name="first.csv"))

    second = ada(name="Ada King", job_location="Remote", source="")
    outcome = run_import(session_scope, write_csv(tmp_path, second, name="second.csv"))

    assert outcome.code == 0, outcome.output
    assert "line 2: updated contact 'Ada King': name; " in outcome.output
    assert "updated application 'Data Engineer' (REQ-1): job_location" in outcome.output
    assert "Contacts: 0 created, 1 updated" in outcome.lines
    assert "Applications: 0 created, 1 updated" in outcome.lines
    [contact] = contacts(engine)
    [application] = applications(engine)
    assert contact.name == "Ada King"
    assert contact.phone == "+442079460958"
    assert application.job_location == "Remote"
    assert application.source == "linkedin"


def test_contact_matches_email_ignoring_case(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(
        session_scope, write_csv(tmp_path, ada(email="Ada.Lovelace@Example.COM"), name="a.csv")
    )

    outcome = run_import(session_scope, write_csv(tmp_path, ada(email="ada.lovelace@example.com")))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 0 created, 0 updated" in outcome.lines
    [contact] = contacts(engine)
    assert contact.email == "ada.lovelace@example.com"


def test_contact_matches_phone_in_any_format(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = ada(email="", phone="+1 (617) 555-0199")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    second = ada(email="", phone="+1.617.555.0199", job_location="Boston")
    outcome = run_import(session_scope, write_csv(tmp_path, second))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 0 created, 0 updated" in outcome.lines
    [contact] = contacts(engine)
    assert contact.phone == "+16175550199"


def test_phone_without_plus_is_different(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(
        session_scope, write_csv(tmp_path, ada(email="", phone="+1 617 555 0199"), name="a.csv")
    )

    outcome = run_import(session_scope, write_csv(tmp_path, ada(email="", phone="1 617 555 0199")))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 1 created, 0 updated" in outcome.lines
    assert [contact.phone for contact in contacts(engine)] == ["+16175550199", "16175550199"]


def test_contact_falls_back_to_phone(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(phone="+44 20 7946 0958"), name="a.csv"))

    outcome = run_import(
        session_scope, write_csv(tmp_path, ada(email="ada.king@example.com", phone="+442079460958"))
    )

    assert outcome.code == 0, outcome.output
    assert "line 2: updated contact 'Ada Lovelace': email" in outcome.output
    [contact] = contacts(engine)
    assert contact.email == "ada.king@example.com"


def test_email_match_wins_over_phone(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = [
        ada(phone="+44 20 7946 0958"),
        csv_line(name="Bob", email="bob@example.com", job_title="QA", applied_at="2024-03-01"),
    ]
    run_import(session_scope, write_csv(tmp_path, *first, name="a.csv"))

    outcome = run_import(
        session_scope,
        write_csv(
            tmp_path,
            csv_line(
                name="Bob",
                email="bob@example.com",
                phone="+44 20 7946 0958",
                job_title="QA",
                applied_at="2024-03-01",
            ),
        ),
    )

    assert outcome.code == 0, outcome.output
    assert "line 2: updated contact 'Bob': phone" in outcome.output
    assert [contact.phone for contact in contacts(engine)] == ["+442079460958", "+442079460958"]


def test_application_matches_requisition_id(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(), name="a.csv"))

    second = ada(job_title="Senior Data Engineer", applied_at="2024-04-01")
    outcome = run_import(session_scope, write_csv(tmp_path, second))

    assert outcome.code == 0, outcome.output
    assert "Applications: 0 created, 1 updated" in outcome.lines
    assert "(REQ-1): job_title, applied_at" in outcome.output
    [application] = applications(engine)
    assert application.job_title == "Senior Data Engineer"
    assert application.applied_at == datetime(2024, 4, 1, tzinfo=UTC)


def test_application_matches_title_and_day(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = ada(requisition_id="", applied_at="2024-03-04T09:00:00Z")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    second = ada(job_title="DATA ENGINEER", requisition_id="", applied_at="2024-03-04T17:45:00Z")
    third = ada(job_title="Data Engineer", requisition_id="REQ-9", applied_at="2024-03-04")
    for number, row in enumerate([second, third]):
        outcome = run_import(session_scope, write_csv(tmp_path, row, name=f"{number}.csv"))
        assert outcome.code == 0, outcome.output
        assert "Applications: 0 created, 1 updated" in outcome.lines

    [application] = applications(engine)
    assert application.job_title == "Data Engineer"
    assert application.requisition_id == "REQ-9"
    assert application.applied_at == datetime(2024, 3, 4, tzinfo=UTC)


def test_application_title_match_uses_utc_day(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    # 23:30 in New York on March 3 is March 4 in UTC, so it matches an application of March 4.
    run_import(session_scope, write_csv(tmp_path, ada(requisition_id=""), name="a.csv"))

    second = ada(requisition_id="", applied_at="2024-03-03T23:30:00-05:00")
    outcome = run_import(session_scope, write_csv(tmp_path, second))

    assert outcome.code == 0, outcome.output
    assert len(applications(engine)) == 1


def test_application_other_day_is_new(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(requisition_id=""), name="a.csv"))

    outcome = run_import(
        session_scope, write_csv(tmp_path, ada(requisition_id="", applied_at="2024-03-05"))
    )

    assert outcome.code == 0, outcome.output
    assert "Applications: 1 created, 0 updated" in outcome.lines
    assert len(applications(engine)) == 2


def test_application_other_requisition_is_new(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(requisition_id="REQ-1"), name="a.csv"))

    outcome = run_import(session_scope, write_csv(tmp_path, ada(requisition_id="REQ-2")))

    assert outcome.code == 0, outcome.output
    assert "Applications: 1 created, 0 updated" in outcome.lines
    assert [item.requisition_id for item in applications(engine)] == ["REQ-1", "REQ-2"]


# Rows without email, phone, requisition_id and applied_at. The last two rows are different
# Slack members with the same name.
ROWS_WITHOUT_KEYS = [
    csv_line(name="Barbara Liskov", job_title="Researcher"),
    csv_line(name="Barbara Liskov", job_title="Lecturer", job_location="Boston"),
    csv_line(name="Margaret Hamilton", slack_user_id="U0HAM0001", job_title="Engineer"),
    csv_line(name="Margaret Hamilton", slack_user_id="U0HAM0002", job_title="Engineer"),
]


def test_rows_without_keys_imported(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    outcome = run_import(session_scope, write_csv(tmp_path, *ROWS_WITHOUT_KEYS))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 3 created, 0 updated" in outcome.lines
    assert "Applications: 4 created, 0 updated" in outcome.lines
    assert [contact.slack_user_id for contact in contacts(engine)] == [
        None,
        "U0HAM0001",
        "U0HAM0002",
    ]
    for application in applications(engine):
        assert application.requisition_id is None
        assert application.applied_at is None


def test_reimport_without_keys_creates_nothing(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, *ROWS_WITHOUT_KEYS)
    run_import(session_scope, path)
    before = snapshot(engine)

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    assert totals(outcome) == [
        "Rows: 4 read, 4 unchanged",
        "Contacts: 0 created, 0 updated",
        "Applications: 0 created, 0 updated",
        "Active applications: 0 activated, 0 deactivated",
        "Conversations: 0 linked to a contact, 0 of them created",
    ]
    assert snapshot(engine) == before


def test_only_name_and_title_columns(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "Barbara Liskov,Researcher", header="name,job_title")

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    [contact] = contacts(engine)
    [application] = applications(engine)
    assert (contact.email, contact.phone, contact.slack_user_id) == (None, None, None)
    assert (application.requisition_id, application.applied_at) == (None, None)
    assert application.active is True


def test_contact_matches_slack_user_id(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(slack_user_id="U0ADA0001"), name="a.csv"))

    row = csv_line(name="Ada King", slack_user_id="U0ADA0001", job_title="Data Engineer")
    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert "line 2: updated contact 'Ada King': name; " in outcome.output
    assert "Contacts: 0 created, 1 updated" in outcome.lines
    [contact] = contacts(engine)
    assert contact.email == "ada@example.com"
    # The stored application has a requisition_id, so the row without one is a new application.
    assert "Applications: 1 created, 0 updated" in outcome.lines


def test_contact_matches_name_ignoring_case(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = csv_line(name="Barbara Liskov", job_title="Researcher")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    second = csv_line(name="  BARBARA LISKOV ", job_title="Researcher")
    outcome = run_import(session_scope, write_csv(tmp_path, second))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 0 created, 1 updated" in outcome.lines
    assert "Applications: 0 created, 0 updated" in outcome.lines
    [contact] = contacts(engine)
    assert contact.name == "BARBARA LISKOV"


def test_name_match_skips_contacts_with_email(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(), name="a.csv"))

    row = csv_line(name="Ada Lovelace", job_title="Data Engineer")
    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 1 created, 0 updated" in outcome.lines
    assert [contact.email for contact in contacts(engine)] == ["ada@example.com", None]


def test_row_with_email_skips_name_match(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = csv_line(name="Ada Lovelace", job_title="Data Engineer")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    outcome = run_import(session_scope, write_csv(tmp_path, ada()))

    assert outcome.code == 0, outcome.output
    assert "Contacts: 1 created, 0 updated" in outcome.lines
    assert [contact.email for contact in contacts(engine)] == [None, "ada@example.com"]


def test_name_match_skips_other_slack_user(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = csv_line(name="Bob", slack_user_id="U0BOB0001", job_title="QA")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    second = csv_line(name="Bob", slack_user_id="U0BOB0002", job_title="QA")
    other_member = run_import(session_scope, write_csv(tmp_path, second, name="b.csv"))
    without_id = run_import(
        session_scope, write_csv(tmp_path, csv_line(name="bob", job_title="QA"))
    )

    assert other_member.code == 0, other_member.output
    assert "Contacts: 1 created, 0 updated" in other_member.lines
    # A row without a slack_user_id matches the oldest contact of that name.
    assert without_id.code == 0, without_id.output
    assert "line 2: updated contact 'bob': name" in without_id.output
    assert [contact.slack_user_id for contact in contacts(engine)] == ["U0BOB0001", "U0BOB0002"]
    assert len(applications(engine)) == 2


def test_application_matches_title_without_keys(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    first = ada(requisition_id="", applied_at="")
    run_import(session_scope, write_csv(tmp_path, first, name="a.csv"))

    second = ada(job_title="DATA ENGINEER", requisition_id="", applied_at="", job_location="Paris")
    outcome = run_import(session_scope, write_csv(tmp_path, second))

    assert outcome.code == 0, outcome.output
    assert "Applications: 0 created, 1 updated" in outcome.lines
    [application] = applications(engine)
    assert application.job_title == "DATA ENGINEER"
    assert application.job_location == "Paris"


def test_application_without_keys_skips_keyed(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(), name="a.csv"))
    row_without_keys = ada(requisition_id="", applied_at="")

    first = run_import(session_scope, write_csv(tmp_path, row_without_keys, name="b.csv"))
    again = run_import(session_scope, write_csv(tmp_path, row_without_keys, name="c.csv"))
    dated = run_import(
        session_scope, write_csv(tmp_path, ada(requisition_id="", applied_at="2024-05-01"))
    )

    assert first.code == 0, first.output
    assert "Applications: 1 created, 0 updated" in first.lines
    assert again.code == 0, again.output
    assert "Applications: 0 created, 0 updated" in again.lines
    # A row with an applied_at never matches the application that has none.
    assert dated.code == 0, dated.output
    assert "Applications: 1 created, 0 updated" in dated.lines
    keys = [(item.requisition_id, item.applied_at) for item in applications(engine)]
    assert keys == [
        ("REQ-1", datetime(2024, 3, 4, tzinfo=UTC)),
        (None, None),
        (None, datetime(2024, 5, 1, tzinfo=UTC)),
    ]


def test_contacts_are_per_workspace(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, ada())
    run_import(session_scope, path)

    out = io.StringIO()
    code = run_contact_import(
        path, session_scope=session_scope, workspace_id="T0OTHER01", dry_run=False, out=out
    )

    assert code == 0, out.getvalue()
    assert "Contacts: 1 created, 0 updated" in out.getvalue()
    assert sorted(contact.workspace_id for contact in contacts(engine)) == [
        "T0CARET01",
        "T0OTHER01",
    ]


def test_contact_rows_disagree_rejected(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    # Line 3 matches the contact that line 2 creates by phone, so it would replace the email.
    lines = [
        ada(phone="+44 20 7946 0958"),
        ada(email="lovelace@example.org", phone="+442079460958", requisition_id="REQ-2"),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    message = (
        "lines 2 and 3 are the same contact 'Ada Lovelace' but give different email values "
        "'ada@example.com', 'lovelace@example.org': make them agree, or leave the cell blank on "
        "all rows but one"
    )
    assert outcome.code == 1
    assert outcome.lines[1:] == [f"line 2: {message}", f"line 3: {message}"]
    assert contacts(engine) == []


def test_contact_rows_blank_cells_agree(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [ada(phone="+44 20 7946 0958"), ada(phone="", requisition_id="REQ-2")]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 0, outcome.output
    [contact] = contacts(engine)
    assert contact.phone == "+442079460958"


# Active applications


def test_active_row_switches_active(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    row = csv_line(
        name="Ada Lovelace",
        email="ada.lovelace@example.com",
        job_title="Data Engineer",
        requisition_id="REQ-1042",
        active="TRUE",
    )

    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert outcome.lines[1] == (
        "line 2: made application 'Data Engineer' (REQ-1042) active; "
        "made application 'Analytics Engineer' (REQ-1057) inactive"
    )
    assert "Active applications: 1 activated, 1 deactivated" in outcome.lines
    assert active_titles(engine)["Ada Lovelace"] == ["Data Engineer"]


def test_active_accepts_all_spellings(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    spellings = ["true", "Yes", "1", "false", "NO", "0", ""]
    lines = [
        csv_line(
            name=f"Person {index}",
            email=f"person{index}@example.com",
            job_title="Recruiter",
            requisition_id=f"REQ-{index}",
            active=spelling,
        )
        for index, spelling in enumerate(spellings)
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 0, outcome.output
    # Each person has one application, so it is active whatever the active cell contains.
    assert all(titles == ["Recruiter"] for titles in active_titles(engine).values())


def test_fallback_picks_latest_applied(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [
        ada(job_title="Later", requisition_id="REQ-1", applied_at="2024-05-01"),
        ada(job_title="Earlier", requisition_id="REQ-2", applied_at="2024-01-01"),
        ada(job_title="Undated", requisition_id="REQ-3", applied_at=""),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 0, outcome.output
    assert active_titles(engine) == {"Ada Lovelace": ["Later"]}
    assert (
        "after the rows: made application 'Later' (REQ-1) of contact 'Ada Lovelace' active, "
        "because the contact had no active application"
    ) in outcome.lines


def test_fallback_picks_latest_created(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [
        ada(job_title="First", requisition_id="REQ-1", applied_at=""),
        ada(job_title="Second", requisition_id="REQ-2", applied_at=""),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 0, outcome.output
    assert active_titles(engine) == {"Ada Lovelace": ["Second"]}


def test_inactive_row_moves_active(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    row = csv_line(
        name="Ada Lovelace",
        email="ada.lovelace@example.com",
        job_title="Analytics Engineer",
        requisition_id="REQ-1057",
        active="no",
    )

    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert active_titles(engine)["Ada Lovelace"] == ["Data Engineer"]
    assert "Active applications: 1 activated, 1 deactivated" in outcome.lines


def test_inactive_only_application_stays_active(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, write_csv(tmp_path, ada(), name="a.csv"))

    outcome = run_import(session_scope, write_csv(tmp_path, ada(active="false")))

    assert outcome.code == 0, outcome.output
    assert active_titles(engine) == {"Ada Lovelace": ["Data Engineer"]}
    assert "Active applications: 0 activated, 0 deactivated" in outcome.lines


def test_active_untouched_contact_kept(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    row = csv_line(
        name="New Person",
        email="new@example.com",
        job_title="QA",
        active="yes",
        applied_at="2024-06-01",
    )

    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert active_titles(engine)["Ada Lovelace"] == ["Analytics Engineer"]
    assert active_titles(engine)["New Person"] == ["QA"]


def test_two_active_rows_rejected(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [
        ada(requisition_id="REQ-1", active="yes"),
        csv_line(name="Bob", email="bob@example.com", job_title="QA", applied_at="2024-03-01"),
        ada(email="ADA@example.com", requisition_id="REQ-2", active="true"),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    message = (
        "active is true on lines 2 and 4, which are the same contact 'Ada Lovelace': "
        "set active=true on at most one row per contact"
    )
    assert outcome.code == 1
    assert outcome.lines[1:] == [f"line 2: {message}", f"line 4: {message}"]
    assert contacts(engine) == []


def test_two_active_rows_via_stored_contact(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    # The rows share neither email nor phone; only the stored contact connects them.
    run_import(session_scope, write_csv(tmp_path, ada(phone="+44 20 7946 0958"), name="a.csv"))
    before = snapshot(engine)
    lines = [
        ada(requisition_id="REQ-2", active="yes"),
        ada(email="", phone="+442079460958", requisition_id="REQ-3", active="yes"),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 1
    assert outcome.lines[1].startswith("line 2: active is true on lines 2 and 3, ")
    assert outcome.lines[2].startswith("line 3: active is true on lines 2 and 3, ")
    assert snapshot(engine) == before


def test_duplicate_application_rows_rejected(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [ada(), ada(requisition_id="", job_title="data engineer", job_location="Paris")]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    message = (
        "lines 2 and 3 are the same application 'data engineer' (REQ-1), matched by "
        "requisition_id, by job_title and applied date, or by job_title alone when both are "
        "blank: merge them into one row"
    )
    assert outcome.code == 1
    assert outcome.lines[1:] == [f"line 2: {message}", f"line 3: {message}"]
    assert contacts(engine) == []


def test_duplicate_rows_without_keys_rejected(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [
        csv_line(name="Barbara Liskov", job_title="Researcher"),
        csv_line(name="Barbara Liskov", job_title="researcher", job_location="Boston"),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    message = (
        "lines 2 and 3 are the same application 'researcher', matched by requisition_id, by "
        "job_title and applied date, or by job_title alone when both are blank: merge them into "
        "one row"
    )
    assert outcome.code == 1
    assert outcome.lines[1:] == [f"line 2: {message}", f"line 3: {message}"]
    assert contacts(engine) == []


# Slack threads


def test_thread_links_existing_conversation(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session,
            workspace_id=WORKSPACE_ID,
            channel_id="C0THREAD1",
            thread_ts="1712345678.000100",
        )
        conversation_id = conversation.id
    row = ada(slack_channel="C0THREAD1", slack_thread_ts="1712345678.000100")

    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert "Conversations: 1 linked to a contact, 0 of them created" in outcome.lines
    with Session(engine) as session:
        stored = session.get(Conversation, conversation_id)
        assert stored is not None
        assert stored.contact_id == contacts(engine)[0].id


def test_thread_moves_to_other_contact(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    row = csv_line(
        name="Grace Hopper",
        email="grace.hopper@example.org",
        job_title="Engineering Manager",
        requisition_id="REQ-0990",
        slack_channel="C04QJ8K2M1L",
        slack_thread_ts="1710754200.123456",
    )

    outcome = run_import(session_scope, write_csv(tmp_path, row))

    assert outcome.code == 0, outcome.output
    assert outcome.lines[1] == (
        "line 2: linked thread C04QJ8K2M1L/1710754200.123456 to contact 'Grace Hopper', "
        "which was linked to contact 'Ada Lovelace'"
    )
    grace = contact_named(engine, "Grace Hopper")
    ada_contact = contact_named(engine, "Ada Lovelace")
    with Session(engine) as session:
        conversation = session.exec(select(Conversation)).one()
        events = list_events(session, conversation.id)
    assert conversation.contact_id == grace.id
    assert [event.detail for event in events] == [
        {"contact_id": ada_contact.id, "previous_contact_id": None},
        {"contact_id": grace.id, "previous_contact_id": ada_contact.id},
    ]


def test_thread_for_two_contacts_rejected(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    thread = {"slack_channel": "C0THREAD1", "slack_thread_ts": "1712345678.000100"}
    lines = [
        ada(**thread),
        csv_line(
            name="Bob", email="bob@example.com", job_title="QA", applied_at="2024-03-01", **thread
        ),
    ]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    message = (
        "slack thread C0THREAD1/1712345678.000100 is linked to different contacts on lines 2 "
        "and 3: link each thread to one contact"
    )
    assert outcome.code == 1
    assert outcome.lines[1:] == [f"line 2: {message}", f"line 3: {message}"]
    with Session(engine) as session:
        assert session.exec(select(Conversation)).all() == []


def test_thread_shared_by_one_contact(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    thread = {"slack_channel": "C0THREAD1", "slack_thread_ts": "1712345678.000100"}
    lines = [ada(**thread), ada(requisition_id="REQ-2", **thread)]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 0, outcome.output
    assert "Conversations: 1 linked to a contact, 1 of them created" in outcome.lines
    with Session(engine) as session:
        assert len(session.exec(select(ConversationEvent)).all()) == 1


# Row validation

VALIDATION_CASES = [
    pytest.param({"name": ""}, "name is missing: every row needs the candidate's name", id="name"),
    pytest.param(
        {"job_title": "  "}, "job_title is missing: every row needs the job applied for", id="title"
    ),
    pytest.param(
        {"email": "bob@"},
        "email 'bob@' is invalid: expected an address like name@example.com",
        id="email",
    ),
    pytest.param({"email": "bob smith@example.com"}, "email 'bob smith@example.com'", id="space"),
    pytest.param({"email": "bob@example"}, "email 'bob@example' is invalid", id="no-dot"),
    pytest.param(
        {"phone": "555-CALL-NOW"},
        "phone '555-CALL-NOW' is invalid: expected 7 to 15 digits with an optional leading +",
        id="phone-letters",
    ),
    pytest.param({"phone": "12 34"}, "phone '12 34' is invalid", id="phone-short"),
    pytest.param({"phone": "1+2345678"}, "phone '1+2345678' is invalid", id="phone-plus"),
    pytest.param(
        {"applied_at": "03/18/2024"},
        "applied_at '03/18/2024' is invalid: expected an ISO 8601 date or date-time like "
        "2024-03-01 or 2024-03-01T14:30:00+01:00 (without a time zone it is taken as UTC)",
        id="applied-at",
    ),
    pytest.param({"applied_at": "2024-02-30"}, "applied_at '2024-02-30' is invalid", id="feb-30"),
    pytest.param(
        {"applied_at": "9999-12-31T23:00:00-05:00"},
        "applied_at '9999-12-31T23:00:00-05:00' is invalid",
        id="after-year-9999",
    ),
    pytest.param(
        {"active": "maybe"},
        "active 'maybe' is invalid: expected true, false, yes, no, 1, 0 or a blank cell",
        id="active",
    ),
    pytest.param(
        {"slack_user_id": "ada.lovelace"},
        "slack_user_id 'ada.lovelace' is invalid: expected a Slack member id like U012AB3CD",
        id="user-id",
    ),
    pytest.param({"slack_user_id": "u05abc12def"}, "slack_user_id 'u05abc12def'", id="user-lower"),
    pytest.param(
        {"slack_channel": "#hiring", "slack_thread_ts": "1712345678.000100"},
        "slack_channel '#hiring' is invalid: expected a Slack channel id like C012AB3CD",
        id="channel",
    ),
    pytest.param(
        {"slack_channel": "C0THREAD1", "slack_thread_ts": "1712345678"},
        "slack_thread_ts '1712345678' is invalid: expected a Slack message timestamp like "
        "1712345678.123456",
        id="thread-ts",
    ),
    pytest.param(
        {"slack_thread_ts": "1712345678.000100"},
        "slack_thread_ts '1712345678.000100' is given without slack_channel: give both to link "
        "a Slack thread, or neither",
        id="ts-alone",
    ),
    pytest.param(
        {"slack_channel": "C0THREAD1"},
        "slack_channel 'C0THREAD1' is given without slack_thread_ts: give both to link a Slack "
        "thread, or neither",
        id="channel-alone",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), VALIDATION_CASES)
def test_invalid_row_rejected(
    session_scope: SessionScope,
    engine: sa.Engine,
    tmp_path: Path,
    overrides: dict[str, str],
    message: str,
) -> None:
    good = csv_line(name="Bob", email="bob@example.com", job_title="QA", applied_at="2024-03-01")
    path = write_csv(tmp_path, good, ada(**overrides))

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines[0] == (
        f"Rejected '{path}': 1 row has errors, so nothing was written. "
        f"Fix them and import the file again."
    )
    assert len(outcome.lines) == 2, outcome.output
    assert outcome.lines[1].startswith(f"line 3: {message}")
    assert contacts(engine) == []


def test_every_bad_row_listed(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    before = snapshot(engine)
    path = tmp_path / "in.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                ada(email="bob@", active="maybe"),
                ada(job_location="Line one\nline two", requisition_id="REQ-2"),
                "",
                ada(name="", requisition_id="REQ-3"),
                "too,few,cells",
                ada(requisition_id="REQ-4"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"Rejected '{path}': 3 rows have errors, so nothing was written. "
        f"Fix them and import the file again.",
        "line 2: email 'bob@' is invalid: expected an address like name@example.com",
        "line 2: active 'maybe' is invalid: expected true, false, yes, no, 1, 0 or a blank cell",
        "line 6: name is missing: every row needs the candidate's name",
        "line 7: has 3 cells but the header has 15 columns: check for a missing or extra comma, "
        "and quote values that contain commas",
    ]
    assert snapshot(engine) == before


def test_database_errors_listed_with_row_errors(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    lines = [ada(active="yes"), ada(phone="12"), ada(requisition_id="REQ-2", active="yes")]

    outcome = run_import(session_scope, write_csv(tmp_path, *lines))

    assert outcome.code == 1
    assert [line.split(":")[0] for line in outcome.lines[1:]] == ["line 2", "line 3", "line 4"]
    assert outcome.lines[2].startswith("line 3: phone '12' is invalid")
    assert contacts(engine) == []


# File validation


def test_file_not_found(session_scope: SessionScope, tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [f"error: file '{path}' was not found: check the path."]


def test_file_is_directory(session_scope: SessionScope, tmp_path: Path) -> None:
    outcome = run_import(session_scope, tmp_path)

    assert outcome.code == 1
    assert outcome.lines == [f"error: '{tmp_path}' is a directory: give the path of a .csv file."]


def test_file_not_utf8(session_scope: SessionScope, engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + ada() + "\n" + ada(name="José") + "\n").encode("latin-1"))

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"error: file '{path}' is not valid UTF-8: byte 0xe9 on line 3 cannot be decoded. "
        f"Save the file as UTF-8 (in Excel: 'CSV UTF-8') and import it again."
    ]
    assert contacts(engine) == []


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff", " , ,\n"], ids=repr)
def test_file_empty(session_scope: SessionScope, tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"error: file '{path}' is empty: write a header row such as 'name,email,job_title' and "
        f"one row per job application."
    ]


def test_file_header_only(session_scope: SessionScope, tmp_path: Path) -> None:
    path = write_csv(tmp_path)

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"error: file '{path}' contains only a header row: add one row per job application."
    ]


def test_header_missing_columns(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "Ada Lovelace,ada@example.com", header="name,email")

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        "error: line 1: the header is missing required column(s) 'job_title': add them to the "
        "header row, which must be the first line of the file."
    ]
    assert contacts(engine) == []


def test_header_without_header_row(session_scope: SessionScope, tmp_path: Path) -> None:
    path = write_csv(tmp_path, header=ada())

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines[0].startswith("error: line 1: the header has an empty column name")
    assert outcome.lines[1].startswith("error: line 1: the header has unknown column(s) 'Ada ")
    assert outcome.lines[2] == (
        "error: line 1: the header is missing required column(s) 'name', 'job_title': add them "
        "to the header row, which must be the first line of the file."
    )


def test_header_unknown_columns(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    header = "name,E-mail,job_title,applied_at,Notes"
    path = write_csv(tmp_path, "Ada,ada@example.com,QA,2024-03-01,call back", header=header)

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"error: line 1: the header has unknown column(s) 'E-mail', 'Notes': rename them to one "
        f"of {', '.join(COLUMNS)}, or remove them."
    ]
    assert contacts(engine) == []


def test_header_repeated_and_empty(session_scope: SessionScope, tmp_path: Path) -> None:
    header = "name,email,job_title,Email,applied_at,"
    path = write_csv(tmp_path, "Ada,a@example.com,QA,b@example.com,2024-03-01,", header=header)

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        "error: line 1: the header has an empty column name: remove the extra comma or name "
        "the column.",
        "error: line 1: the header repeats column(s) 'email': keep one of each.",
    ]


def test_file_unclosed_quote(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, ada(), 'Bob,bob@example.com,,,"QA')

    outcome = run_import(session_scope, path)

    assert outcome.code == 1
    assert outcome.lines == [
        f"error: file '{path}' is not valid CSV at line 3: unexpected end of data. Check that "
        f"every quoted value has its closing quote."
    ]
    assert contacts(engine) == []


# File format variants


def test_file_with_bom(session_scope: SessionScope, engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(EXAMPLE_CSV.read_text(encoding="utf-8").encode("utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbfname,")

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    assert "Contacts: 7 created, 0 updated" in outcome.lines
    assert len(contacts(engine)) == 7


def test_file_with_crlf_and_blank_lines(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "windows.csv"
    text = EXAMPLE_CSV.read_text(encoding="utf-8").replace("\n", "\r\n\r\n")
    path.write_bytes(text.encode("utf-8"))

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    assert outcome.lines[1].startswith("line 3: created contact 'Ada Lovelace'")
    assert len(applications(engine)) == 8


def test_optional_columns_may_be_absent(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    header = " Job_Title , NAME,Email,requisition_id"
    path = write_csv(tmp_path, "Data Engineer,Ada Lovelace,ada@example.com,REQ-1", header=header)

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    [contact] = contacts(engine)
    [application] = applications(engine)
    assert contact.name == "Ada Lovelace"
    assert application.job_title == "Data Engineer"
    assert application.applied_at is None
    assert application.active is True


def test_cells_are_trimmed(session_scope: SessionScope, engine: sa.Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ada(name="  Ada Lovelace ", email=" ADA@example.com "))

    outcome = run_import(session_scope, path)

    assert outcome.code == 0, outcome.output
    [contact] = contacts(engine)
    assert contact.name == "Ada Lovelace"
    assert contact.email == "ada@example.com"


# Database errors


@pytest.fixture
def engine_for_url() -> Iterator[Callable[[str], sa.Engine]]:
    """Build engines on databases that the db_url fixture does not provide."""
    engines: list[sa.Engine] = []

    def build(url: str) -> sa.Engine:
        engines.append(create_db_engine(url))
        return engines[-1]

    yield build
    for engine in engines:
        engine.dispose()


def test_database_file_is_directory(
    engine_for_url: Callable[[str], sa.Engine], tmp_path: Path
) -> None:
    directory = tmp_path / "caretbot.db"
    directory.mkdir()
    engine = engine_for_url(f"sqlite:///{directory}")

    outcome = run_import(session_scope_for(engine), EXAMPLE_CSV)

    assert outcome.code == 1
    assert outcome.lines == [
        "error: the database failed: OperationalError: unable to open database file. "
        "Nothing was written."
    ]


def test_database_not_migrated(engine_for_url: Callable[[str], sa.Engine], tmp_path: Path) -> None:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'caretbot.db'}")

    outcome = run_import(session_scope_for(engine), EXAMPLE_CSV)

    assert outcome.code == 1
    assert outcome.lines == [
        "error: the database failed: OperationalError: no such table: workspace. "
        "Nothing was written."
    ]


def test_database_error_mid_file_writes_nothing(
    engine_for_url: Callable[[str], sa.Engine], tmp_path: Path
) -> None:
    # Without the conversation tables, line 2 applies and line 3, which links a Slack thread,
    # fails. The rollback must undo line 2.
    url = f"sqlite:///{tmp_path / 'caretbot.db'}"
    upgrade(url)
    engine = engine_for_url(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE conversationevent"))
        connection.execute(sa.text("DROP TABLE conversation"))

    outcome = run_import(session_scope_for(engine), EXAMPLE_CSV)

    assert outcome.code == 1
    assert outcome.lines == [
        "error: the database failed: OperationalError: no such table: conversation. "
        "Nothing was written."
    ]
    with engine.connect() as connection:
        for table in ["workspace", "contact", "jobapplication"]:
            count = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, f"{table} has {count} rows"


def test_database_error_on_postgresql(
    db_url: str, session_scope: SessionScope, engine: sa.Engine
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce the length of VARCHAR columns")
    before = snapshot(engine)
    out = io.StringIO()

    # Workspace ids are VARCHAR(32), so PostgreSQL rejects this one.
    code = run_contact_import(
        EXAMPLE_CSV, session_scope=session_scope, workspace_id="T" * 33, dry_run=False, out=out
    )

    assert code == 1
    assert out.getvalue().splitlines() == [
        "error: the database failed: DataError: value too long for type character varying(32). "
        "Nothing was written."
    ]
    assert snapshot(engine) == before


# Dry run


def test_dry_run_writes_nothing(session_scope: SessionScope, engine: sa.Engine) -> None:
    before = snapshot(engine)

    outcome = run_import(session_scope, EXAMPLE_CSV, dry_run=True)

    assert outcome.code == 0, outcome.output
    assert outcome.lines[0] == (
        f"Dry run of '{EXAMPLE_CSV}': nothing was written. The import would do this:"
    )
    assert snapshot(engine) == before


def test_dry_run_matches_real_run(session_scope: SessionScope, engine: sa.Engine) -> None:
    dry = run_import(session_scope, EXAMPLE_CSV, dry_run=True)

    real = run_import(session_scope, EXAMPLE_CSV)

    assert real.code == 0, real.output
    assert dry.lines[1:] == real.lines[1:]


def test_dry_run_of_changes_writes_nothing(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    run_import(session_scope, EXAMPLE_CSV)
    before = snapshot(engine)
    row = csv_line(
        name="Grace Hopper",
        email="grace.hopper@example.org",
        job_title="Engineering Director",
        requisition_id="REQ-2000",
        applied_at="2024-06-01",
        active="yes",
        slack_channel="C04QJ8K2M1L",
        slack_thread_ts="1710754200.123456",
    )

    outcome = run_import(session_scope, write_csv(tmp_path, row), dry_run=True)

    assert outcome.code == 0, outcome.output
    assert "Applications: 1 created, 0 updated" in outcome.lines
    assert "Active applications: 1 activated, 1 deactivated" in outcome.lines
    assert "Conversations: 1 linked to a contact, 0 of them created" in outcome.lines
    assert snapshot(engine) == before


def test_dry_run_of_rejected_file(
    session_scope: SessionScope, engine: sa.Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, ada(email="bob@"))

    outcome = run_import(session_scope, path, dry_run=True)

    assert outcome.code == 1
    assert outcome.lines[1].startswith("line 2: email 'bob@' is invalid")
    assert contacts(engine) == []
