"""`caretbot import contacts FILE.csv`: validate a CSV of job applications, then upsert it.

bot.contact_csv reads and validates the file. run_contact_import then applies the rows in one
session scope, so a file is written whole or not at all. Rows are matched to stored contacts and
applications by the rules in CSV_FORMAT_HELP, which storage.contacts.find_contact and
find_application implement.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlmodel import Session

from bot.contact_csv import (
    ApplicationRow,
    ImportFileError,
    RowError,
    ThreadLink,
    read_contacts_csv,
)
from storage.contacts import (
    deactivate_application,
    ensure_active_application,
    link_conversation,
    set_active_application,
    upsert_application,
    upsert_contact,
)
from storage.conversations import ensure_workspace
from storage.db import SessionScope
from storage.models import Contact, JobApplication

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportSummary:
    """The changes an import made, or with --dry-run would make, counted by database record."""

    rows: int
    unchanged_rows: int
    contacts_created: int
    contacts_updated: int
    applications_created: int
    applications_updated: int
    applications_activated: int
    applications_deactivated: int
    conversations_linked: int
    conversations_created: int
    details: tuple[str, ...]  # one line per changed row, then the activations made at the end

    def lines(self) -> list[str]:
        return [
            *self.details,
            f"Rows: {self.rows} read, {self.unchanged_rows} unchanged",
            f"Contacts: {self.contacts_created} created, {self.contacts_updated} updated",
            f"Applications: {self.applications_created} created, "
            f"{self.applications_updated} updated",
            f"Active applications: {self.applications_activated} activated, "
            f"{self.applications_deactivated} deactivated",
            f"Conversations: {self.conversations_linked} linked to a contact, "
            f"{self.conversations_created} of them created",
        ]


class _DiscardChanges(Exception):
    """Raised inside the session scope so that it rolls back instead of committing."""


def run_contact_import(
    path: Path, *, session_scope: SessionScope, workspace_id: str, dry_run: bool, out: TextIO
) -> int:
    """Import a contacts CSV into the workspace and print the summary or every error to out.

    Returns the process exit code: 0 when the file was imported (with dry_run, when it would
    be), 1 when it was rejected or the database failed. A rejected file, a database error and a
    dry run write nothing.
    """
    try:
        parsed = read_contacts_csv(path)
    except ImportFileError as error:
        for message in error.messages:
            print(f"error: {message}", file=out)
        logger.info("contact import rejected workspace=%s path=%s", workspace_id, path)
        return 1

    summary = None
    conflicts: list[RowError] = []
    if parsed.rows:
        try:
            with session_scope() as session:
                summary, conflicts = _apply_rows(session, workspace_id, parsed.rows)
                if dry_run or parsed.errors or conflicts:
                    raise _DiscardChanges
        except _DiscardChanges:
            pass
        except SQLAlchemyError as error:
            # The session scope has rolled back, so nothing of this file was committed.
            description = _describe_database_error(error)
            print(f"error: the database failed: {description}. Nothing was written.", file=out)
            logger.error(
                "contact import failed workspace=%s path=%s error=%s",
                workspace_id,
                path,
                description,
            )
            return 1

    errors = sorted([*parsed.errors, *conflicts], key=lambda error: error.line)
    if errors or summary is None:
        bad_lines = len({error.line for error in errors})
        rows_have = "1 row has" if bad_lines == 1 else f"{bad_lines} rows have"
        print(
            f"Rejected '{path}': {rows_have} errors, so nothing was written. "
            f"Fix them and import the file again.",
            file=out,
        )
        for error in errors:
            print(error, file=out)
        logger.info(
            "contact import rejected workspace=%s path=%s rows=%d", workspace_id, path, bad_lines
        )
        return 1

    if dry_run:
        print(f"Dry run of '{path}': nothing was written. The import would do this:", file=out)
    else:
        print(f"Imported '{path}':", file=out)
    for line in summary.lines():
        print(line, file=out)
    logger.info(
        "contact import finished workspace=%s dry_run=%s rows=%d contacts_created=%d "
        "applications_created=%d",
        workspace_id,
        dry_run,
        summary.rows,
        summary.contacts_created,
        summary.applications_created,
    )
    return 0


@dataclass
class _Tracker:
    """The ids that the rows touched and the lines that touched them, to count and cross-check."""

    contacts: dict[int, Contact] = field(default_factory=dict)
    contacts_created: set[int] = field(default_factory=set)
    contacts_updated: set[int] = field(default_factory=set)
    applications: dict[int, JobApplication] = field(default_factory=dict)
    applications_created: set[int] = field(default_factory=set)
    applications_updated: set[int] = field(default_factory=set)
    active_before: dict[int, bool] = field(default_factory=dict)  # by application id
    lines_by_application: defaultdict[int, list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    active_lines_by_contact: defaultdict[int, list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    inactive_ids_by_contact: defaultdict[int, set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    contacts_by_thread: defaultdict[ThreadLink, defaultdict[int, list[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    # contact id -> field name -> value -> lines that gave it
    contact_values: defaultdict[int, dict[str, defaultdict[str, list[int]]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    conversations_linked: set[int] = field(default_factory=set)
    conversations_created: set[int] = field(default_factory=set)
    details: list[str] = field(default_factory=list)

    def remember_application(self, application: JobApplication, *, was_active: bool) -> None:
        """Track the application. The first call for it records its state before the import."""
        assert application.id is not None
        self.applications[application.id] = application
        self.active_before.setdefault(application.id, was_active)


def _apply_rows(
    session: Session, workspace_id: str, rows: Sequence[ApplicationRow]
) -> tuple[ImportSummary, list[RowError]]:
    """Upsert every row, then give each touched contact an active application.

    Returns the summary and the errors that only the database can reveal, such as two rows that
    match the same stored contact and both have active=true. The caller rolls back on errors.
    """
    ensure_workspace(session, workspace_id)
    tracker = _Tracker()
    unchanged_rows = 0
    for row in rows:
        parts = _apply_row(session, workspace_id, row, tracker)
        if parts:
            tracker.details.append(f"line {row.line}: " + "; ".join(parts))
        else:
            unchanged_rows += 1

    for contact_id, contact in tracker.contacts.items():
        avoid_ids = tracker.inactive_ids_by_contact[contact_id]
        chosen = ensure_active_application(session, contact_id=contact_id, avoid_ids=avoid_ids)
        if chosen is not None:
            tracker.remember_application(chosen, was_active=False)
            tracker.details.append(
                f"after the rows: made {_describe(chosen)} of contact {contact.name!r} active, "
                f"because the contact had no active application"
            )

    final_active = {id_: tracker.applications[id_].active for id_ in tracker.active_before}
    summary = ImportSummary(
        rows=len(rows),
        unchanged_rows=unchanged_rows,
        contacts_created=len(tracker.contacts_created),
        contacts_updated=len(tracker.contacts_updated - tracker.contacts_created),
        applications_created=len(tracker.applications_created),
        applications_updated=len(tracker.applications_updated - tracker.applications_created),
        applications_activated=sum(
            final_active[id_] and not before for id_, before in tracker.active_before.items()
        ),
        applications_deactivated=sum(
            before and not final_active[id_] for id_, before in tracker.active_before.items()
        ),
        conversations_linked=len(tracker.conversations_linked),
        conversations_created=len(tracker.conversations_created),
        details=tuple(tracker.details),
    )
    return summary, _find_conflicts(tracker)


def _apply_row(
    session: Session, workspace_id: str, row: ApplicationRow, tracker: _Tracker
) -> list[str]:
    """Upsert one row's contact, application, activation and thread, and describe the changes."""
    contact, parts = _apply_contact(session, workspace_id, row, tracker)
    application, application_parts = _apply_application(session, contact, row, tracker)
    parts.extend(application_parts)
    # Right after the application's own change, "it" is shorter and cannot be misread.
    label = "it" if application_parts else _describe(application)
    parts.extend(_apply_activation(session, contact, application, label, row, tracker))
    if row.thread is not None:
        parts.extend(_apply_thread(session, workspace_id, contact, row.thread, row.line, tracker))
    return parts


def _apply_contact(
    session: Session, workspace_id: str, row: ApplicationRow, tracker: _Tracker
) -> tuple[Contact, list[str]]:
    result = upsert_contact(
        session,
        workspace_id=workspace_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        slack_user_id=row.slack_user_id,
    )
    contact = result.contact
    assert contact.id is not None
    tracker.contacts[contact.id] = contact
    given: dict[str, str | None] = {
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "slack_user_id": row.slack_user_id,
    }
    for column, value in given.items():
        if value is not None:
            values = tracker.contact_values[contact.id].setdefault(column, defaultdict(list))
            values[value].append(row.line)
    if result.created:
        tracker.contacts_created.add(contact.id)
        return contact, [f"created contact {contact.name!r}"]
    if result.changed_fields:
        tracker.contacts_updated.add(contact.id)
        return contact, [f"updated contact {contact.name!r}: {', '.join(result.changed_fields)}"]
    return contact, []


def _apply_application(
    session: Session, contact: Contact, row: ApplicationRow, tracker: _Tracker
) -> tuple[JobApplication, list[str]]:
    assert contact.id is not None
    result = upsert_application(
        session,
        contact_id=contact.id,
        job_title=row.job_title,
        requisition_id=row.requisition_id,
        applied_at=row.applied_at,
        job_location=row.job_location,
        source=row.source,
        medium=row.medium,
        campaign=row.campaign,
        referrer=row.referrer,
    )
    application = result.application
    assert application.id is not None
    # An upsert leaves active alone, and a row that changed it earlier has recorded it already.
    tracker.remember_application(application, was_active=application.active)
    tracker.lines_by_application[application.id].append(row.line)
    if result.created:
        tracker.applications_created.add(application.id)
        return application, [f"created {_describe(application)}"]
    if result.changed_fields:
        tracker.applications_updated.add(application.id)
        fields = ", ".join(result.changed_fields)
        return application, [f"updated {_describe(application)}: {fields}"]
    return application, []


def _apply_activation(
    session: Session,
    contact: Contact,
    application: JobApplication,
    label: str,
    row: ApplicationRow,
    tracker: _Tracker,
) -> list[str]:
    assert contact.id is not None and application.id is not None
    parts = []
    if row.active is True:
        tracker.active_lines_by_contact[contact.id].append(row.line)
        activation = set_active_application(session, application)
        if activation.changed:
            parts.append(f"made {label} active")
        for other in activation.deactivated:
            tracker.remember_application(other, was_active=True)
            parts.append(f"made {_describe(other)} inactive")
    elif row.active is False:
        tracker.inactive_ids_by_contact[contact.id].add(application.id)
        if deactivate_application(session, application):
            parts.append(f"made {label} inactive")
    return parts


def _apply_thread(
    session: Session,
    workspace_id: str,
    contact: Contact,
    thread: ThreadLink,
    line: int,
    tracker: _Tracker,
) -> list[str]:
    assert contact.id is not None
    tracker.contacts_by_thread[thread][contact.id].append(line)
    link = link_conversation(
        session,
        workspace_id=workspace_id,
        channel_id=thread.channel_id,
        thread_ts=thread.thread_ts,
        contact_id=contact.id,
    )
    conversation_id = link.conversation.id
    assert conversation_id is not None
    if link.created:
        tracker.conversations_created.add(conversation_id)
    if not link.changed:
        return []

    tracker.conversations_linked.add(conversation_id)
    moved = ""
    if link.previous_contact_id is not None:
        previous = session.get(Contact, link.previous_contact_id)
        assert previous is not None
        moved = f", which was linked to contact {previous.name!r}"
    return [
        f"linked thread {thread.channel_id}/{thread.thread_ts} to contact {contact.name!r}{moved}"
    ]


def _find_conflicts(tracker: _Tracker) -> list[RowError]:
    """Return an error on each line of a group of rows that contradict each other."""
    errors = []
    for contact_id, values_by_field in tracker.contact_values.items():
        name = tracker.contacts[contact_id].name
        for column, lines_by_value in values_by_field.items():
            if len(lines_by_value) > 1:
                lines = sorted(line for group in lines_by_value.values() for line in group)
                values = ", ".join(repr(value) for value in lines_by_value)
                # Rows that disagree would overwrite each other, and again on every re-import.
                message = (
                    f"{_join_lines(lines)} are the same contact {name!r} but give different "
                    f"{column} values {values}: make them agree, or leave the cell blank on all "
                    f"rows but one"
                )
                errors.extend(RowError(line, message) for line in lines)
    for contact_id, lines in tracker.active_lines_by_contact.items():
        if len(lines) > 1:
            name = tracker.contacts[contact_id].name
            message = (
                f"active is true on {_join_lines(lines)}, which are the same contact {name!r}: "
                f"set active=true on at most one row per contact"
            )
            errors.extend(RowError(line, message) for line in lines)
    for application_id, lines in tracker.lines_by_application.items():
        if len(lines) > 1:
            application = tracker.applications[application_id]
            message = (
                f"{_join_lines(lines)} are the same {_describe(application)}, matched by "
                f"requisition_id, by job_title and applied date, or by job_title alone when "
                f"both are blank: merge them into one row"
            )
            errors.extend(RowError(line, message) for line in lines)
    for thread, lines_by_contact in tracker.contacts_by_thread.items():
        if len(lines_by_contact) > 1:
            lines = sorted(line for group in lines_by_contact.values() for line in group)
            message = (
                f"slack thread {thread.channel_id}/{thread.thread_ts} is linked to different "
                f"contacts on {_join_lines(lines)}: link each thread to one contact"
            )
            errors.extend(RowError(line, message) for line in lines)
    return errors


def _describe_database_error(error: SQLAlchemyError) -> str:
    """Return the error's type and message on one line, without its SQL and parameters."""
    # str() of a StatementError appends the SQL statement, its parameters and a link to
    # SQLAlchemy's documentation. The driver's own exception in orig has the message alone.
    cause = error.orig if isinstance(error, StatementError) and error.orig else error
    # psycopg's str() adds the failing SQL line and a caret, so use its diag fields instead.
    diag = getattr(cause, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        detail = getattr(diag, "message_detail", None)
        message = f"{primary}. {detail}" if detail else primary
    else:
        message = str(cause)
    return f"{type(error).__name__}: {' '.join(message.split()).rstrip('.')}"


def _describe(application: JobApplication) -> str:
    requisition = f" ({application.requisition_id})" if application.requisition_id else ""
    return f"application {application.job_title!r}{requisition}"


def _join_lines(lines: Sequence[int]) -> str:
    numbers = [str(line) for line in sorted(lines)]
    return f"lines {', '.join(numbers[:-1])} and {numbers[-1]}"
