"""The CSV side of `caretbot import contacts`: read a file and validate its rows.

Nothing here touches the database. Reading and validation are pure and return frozen
dataclasses, which bot.contact_import applies.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.addresses import normalize_email, normalize_phone

COLUMNS = (
    "name",
    "email",
    "phone",
    "slack_user_id",
    "job_title",
    "job_location",
    "requisition_id",
    "source",
    "medium",
    "campaign",
    "referrer",
    "applied_at",
    "active",
    "slack_channel",
    "slack_thread_ts",
)
REQUIRED_COLUMNS = ("name", "job_title")

CSV_FORMAT_HELP = """\
FILE.csv is UTF-8 (a byte order mark is allowed) with a header row and one row per job
application. Columns, in any order and case: name, job_title (both required), email, phone,
slack_user_id, job_location, requisition_id, source, medium, campaign, referrer, applied_at,
active, slack_channel, slack_thread_ts. Every column but name and job_title may be absent or
blank. applied_at is an ISO 8601 date or date-time, and a date or a date-time without a time
zone is taken as UTC. active is true, false, yes, no, 1, 0 or blank. slack_channel and
slack_thread_ts (both or neither) link the contact to that Slack thread's conversation, which
is created when caretbot has none. A file with any invalid row is rejected whole and nothing
is written. --dry-run prints the changes without writing them.

Importing a file again updates the records it created instead of duplicating them, because
each row is matched to a stored contact and application. A row with an email or a phone
matches the contact with that email, else the contact with that phone. A row with neither
matches the contact with its slack_user_id. Failing that, it matches a contact with the same
name (trimmed, any case) that has no email and no phone, unless that contact has a different
slack_user_id. An application matches the contact's application with the same
requisition_id, else the one with the same job_title (any case), the same applied_at day in
UTC and no other requisition_id. A row with neither requisition_id nor applied_at matches the
application with the same job_title (any case) that has neither. A row that matches nothing
creates a record."""

_TRUE_VALUES = frozenset({"true", "yes", "1"})
_FALSE_VALUES = frozenset({"false", "no", "0"})

# Slack ids are capital letters and digits. The schema stores ids of up to 32 characters.
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
_SLACK_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,31}")
_SLACK_TS = re.compile(r"[0-9]{10}\.[0-9]{6}")


class ImportFileError(Exception):
    """A problem with the file as a whole. Each message names the value and the fix."""

    def __init__(self, *messages: str) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class RowError:
    """A reason why one CSV line was rejected, with lines counted from 1 at the top of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ThreadLink:
    """A Slack thread, by channel id and the ts of its root message."""

    channel_id: str
    thread_ts: str


@dataclass(frozen=True)
class ApplicationRow:
    """One valid CSV row, which is a contact and one of their job applications.

    None stands for a blank or absent cell.
    """

    line: int
    name: str
    job_title: str
    email: str | None = None  # lower case
    phone: str | None = None  # digits with an optional leading "+"
    slack_user_id: str | None = None
    job_location: str | None = None
    requisition_id: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    referrer: str | None = None
    applied_at: datetime | None = None  # aware, UTC
    active: bool | None = None
    thread: ThreadLink | None = None


@dataclass(frozen=True)
class ParsedFile:
    """The valid rows of a CSV file and the errors of its invalid ones."""

    rows: tuple[ApplicationRow, ...]
    errors: tuple[RowError, ...]


def read_contacts_csv(path: Path) -> ParsedFile:
    """Read and validate a contacts CSV, collecting the errors of every invalid row.

    Raises ImportFileError when the file as a whole is unusable: not found, not UTF-8, not CSV,
    empty, or with an invalid header.
    """
    records = _read_records(_read_text(path), path)
    if not records:
        raise ImportFileError(
            f"file '{path}' is empty: write a header row such as 'name,email,job_title' and "
            f"one row per job application."
        )

    header_line, header_cells = records[0]
    columns = _parse_header(header_line, header_cells)
    if len(records) == 1:
        raise ImportFileError(
            f"file '{path}' contains only a header row: add one row per job application."
        )

    rows: list[ApplicationRow] = []
    errors: list[RowError] = []
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            message = (
                f"has {len(cells)} cells but the header has {len(columns)} columns: check for a "
                f"missing or extra comma, and quote values that contain commas"
            )
            errors.append(RowError(line, message))
            continue
        row, row_errors = parse_row(line, dict(zip(columns, cells, strict=True)))
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return ParsedFile(rows=tuple(rows), errors=tuple(errors))


def parse_row(line: int, cells: Mapping[str, str]) -> tuple[ApplicationRow | None, list[RowError]]:
    """Validate one row's cells, keyed by column name.

    Returns the row and no errors, or None and every error of the row. Cells are trimmed, and a
    blank or absent cell becomes None.
    """
    values: dict[str, Any] = {
        column: (cells.get(column) or "").strip() or None for column in COLUMNS
    }
    errors = [
        f"{column} is missing: every row needs {what}"
        for column, what in (("name", "the candidate's name"), ("job_title", "the job applied for"))
        if values[column] is None
    ]
    errors.extend(_check_thread_pair(values["slack_channel"], values["slack_thread_ts"]))
    for column, (parse, expected) in _CELL_PARSERS.items():
        value = values[column]
        if value is None:
            continue
        try:
            values[column] = parse(value)
        except ValueError:
            errors.append(f"{column} {value!r} is invalid: expected {expected}")

    if errors:
        return None, [RowError(line, message) for message in errors]
    channel_id = values.pop("slack_channel")
    thread_ts = values.pop("slack_thread_ts")
    thread = ThreadLink(channel_id, thread_ts) if channel_id and thread_ts else None
    return ApplicationRow(line=line, thread=thread, **values), []


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"file '{path}' was not found: check the path.") from None
    except IsADirectoryError:
        raise ImportFileError(f"'{path}' is a directory: give the path of a .csv file.") from None
    except OSError as error:
        raise ImportFileError(
            f"file '{path}' could not be read ({error.strerror}): check its permissions."
        ) from None

    try:
        # "utf-8-sig" drops the byte order mark that Excel writes at the start of "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFileError(
            f"file '{path}' is not valid UTF-8: byte 0x{data[error.start]:02x} on line {line} "
            f"cannot be decoded. Save the file as UTF-8 (in Excel: 'CSV UTF-8') and import it "
            f"again."
        ) from None


def _read_records(text: str, path: Path) -> list[tuple[int, list[str]]]:
    """Return each non-blank record with the line it starts on, counting lines from 1."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    start_line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as error:
            raise ImportFileError(
                f"file '{path}' is not valid CSV at line {start_line}: {error}. Check that every "
                f"quoted value has its closing quote."
            ) from None
        # A quoted value can contain line breaks, so a record starts after the previous one ends.
        if any(cell.strip() for cell in cells):
            records.append((start_line, cells))
        start_line = reader.line_num + 1


def _parse_header(line: int, cells: Sequence[str]) -> list[str]:
    """Return the column names in lower case, or raise ImportFileError listing every problem."""
    names = [cell.strip() for cell in cells]
    columns = [name.lower() for name in names]
    problems = []

    if "" in columns:
        problems.append(
            f"line {line}: the header has an empty column name: remove the extra comma or name "
            f"the column."
        )
    unknown = [repr(name) for name in names if name and name.lower() not in COLUMNS]
    if unknown:
        problems.append(
            f"line {line}: the header has unknown column(s) {', '.join(unknown)}: rename them to "
            f"one of {', '.join(COLUMNS)}, or remove them."
        )
    repeated = sorted({column for column in columns if column and columns.count(column) > 1})
    if repeated:
        names = ", ".join(repr(column) for column in repeated)
        problems.append(f"line {line}: the header repeats column(s) {names}: keep one of each.")
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        names = ", ".join(repr(column) for column in missing)
        problems.append(
            f"line {line}: the header is missing required column(s) {names}: add them to the "
            f"header row, which must be the first line of the file."
        )
    if problems:
        raise ImportFileError(*problems)
    return columns


def _parse_email(value: str) -> str:
    address = normalize_email(value)
    if address is None:
        raise ValueError(value)
    return address


def _parse_phone(value: str) -> str:
    digits = normalize_phone(value)
    if digits is None:
        raise ValueError(value)
    return digits


def _parse_timestamp(value: str) -> datetime:
    # Python 3.11's fromisoformat accepts most ISO 8601 forms, including a bare date.
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # An offset can move a time on 0001-01-01 or 9999-12-31 out of datetime's range.
        raise ValueError(value) from None


def _parse_active(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE_VALUES:
        return True
    if lowered in _FALSE_VALUES:
        return False
    raise ValueError(value)


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(value)
        return value

    return parse


# The parser and the expected form of each column with a syntax. Other columns are free text.
_CELL_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "email": (_parse_email, "an address like name@example.com"),
    "phone": (
        _parse_phone,
        "7 to 15 digits with an optional leading +, like +1 415 555 0132 (spaces, dots, dashes "
        "and parentheses are ignored)",
    ),
    "slack_user_id": (
        _matcher(_SLACK_USER_ID),
        "a Slack member id like U012AB3CD (U or W, then capital letters and digits), "
        "as shown under 'Copy member ID' in the member's Slack profile",
    ),
    "applied_at": (
        _parse_timestamp,
        "an ISO 8601 date or date-time like 2024-03-01 or 2024-03-01T14:30:00+01:00 "
        "(without a time zone it is taken as UTC)",
    ),
    "active": (_parse_active, "true, false, yes, no, 1, 0 or a blank cell"),
    "slack_channel": (
        _matcher(_SLACK_CHANNEL_ID),
        "a Slack channel id like C012AB3CD (C, G or D, then capital letters and digits), "
        "not a channel name; it is shown at the bottom of the channel's details",
    ),
    "slack_thread_ts": (
        _matcher(_SLACK_TS),
        "a Slack message timestamp like 1712345678.123456; a thread link ending in "
        "p1712345678123456 contains it without the dot",
    ),
}


def _check_thread_pair(channel: str | None, thread_ts: str | None) -> list[str]:
    if thread_ts and not channel:
        return [
            f"slack_thread_ts {thread_ts!r} is given without slack_channel: give both to link "
            f"a Slack thread, or neither"
        ]
    if channel and not thread_ts:
        return [
            f"slack_channel {channel!r} is given without slack_thread_ts: give both to link "
            f"a Slack thread, or neither"
        ]
    return []
