"""Outcome reports: periods, the figures stored per delivery, and the report of a period.

The funnel's stages, each counted in the period [start, end) of the workspace's time zone:

- applications: job applications of the workspace's contacts applied in the period
  (`applied_at`, or `created_at` when the application has no date);
- contacts: contacts added to caretbot in the period (`contact.created_at`);
- conversations started: conversations whose first team message was stored in the period;
- engaged: conversations in which both sides have written, where the side that wrote
  second wrote its first message in the period;
- delivered: deliveries with `delivered_at` in the period, which is also the timestamp that
  puts a delivery into the groups and the response times.

Message times are the times caretbot stored the messages (`message.received_at`).
NOTE: a message that caretbot read from Slack's history after joining a thread late counts
at the time it was read, not at the time it was posted. A caret command typed by the team
counts as a team message.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.errors import UserError
from bot.metrics import CONTACT, TEAM, TimedMessage, compute_metrics
from bot.outcomes import Status
from bot.router import parse_command
from bot.working_hours import WorkingHours, clock_seconds
from storage.db import SessionScope
from storage.messages import list_messages
from storage.models import Message
from storage.reports import (
    FIGURE_COLUMNS,
    GROUP_COLUMNS,
    FunnelCounts,
    count_funnel,
    count_outcomes,
    list_pending_figures,
    list_response_figures,
    store_figures,
    tune_report_session,
)
from storage.settings import get_setting

log = logging.getLogger(__name__)

GROUPS = GROUP_COLUMNS
DEFAULT_GROUP = "status"
DEFAULT_PERIOD = "30d"
NONE_GROUP = "(none)"
WORKING_HOURS_SETTING = "working_hours"
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Deliveries whose figures are computed and stored per transaction.
FIGURES_BATCH = 200

PERIOD_FORMS = (
    "`today`, `7d`, `30d`, `this month`, `last month` or two dates like `2026-11-01 2026-11-30`"
)
REPORT_USAGE = (
    "Usage: `/caret-report [period] [by status|source|medium|campaign|agent|recipient|reason|"
    f"job]`. The period is {PERIOD_FORMS}; the default is the last 30 days by status. "
    "Example: `/caret-report last month by source`."
)
EXPORT_USAGE = (
    f"Usage: `/caret-export [period]`. The period is {PERIOD_FORMS}; the default is the last "
    "30 days. Example: `/caret-export 2026-11-01 2026-11-30`."
)

# The four response times, in the order the answer and the chart show them: the stored
# column prefix and its label.
FIGURES = (
    ("contact_first_reply", "Contact's first reply"),
    ("team_first_response", "Agent's first response"),
    ("contact_response", "Contact's response time"),
    ("team_response", "Agent's response time"),
)


class ArgumentError(UserError):
    """Invalid command arguments; the message names the value and shows the usage."""


@dataclass(frozen=True)
class Period:
    """A span [start, end) of UTC datetimes, the words that name it, and its time zone."""

    start: datetime
    end: datetime
    label: str
    zone: ZoneInfo


@dataclass(frozen=True)
class GroupRow:
    """One group of the report: its value (None for "(none)"), count and split by status."""

    value: str | None
    deliveries: int
    by_status: dict[str, int]


@dataclass(frozen=True)
class FigureSummary:
    """The median and mean of one response time over the period's deliveries, in seconds."""

    label: str
    count: int
    work_median: float | None
    work_mean: float | None
    clock_median: float | None
    clock_mean: float | None


@dataclass(frozen=True)
class OutcomeReport:
    """Everything /caret-report shows for one period and grouping."""

    period: Period
    group: str
    deliveries: int
    rows: list[GroupRow]
    funnel: FunnelCounts
    figures: list[FigureSummary] = field(default_factory=list)

    def share(self, row: GroupRow) -> float:
        """Return the row's share of the period's deliveries, from 0 to 1."""
        return row.deliveries / self.deliveries if self.deliveries else 0.0


def parse_report_arguments(text: str, *, now: datetime, zone: ZoneInfo) -> tuple[Period, str]:
    """Read `[period] [by GROUP]`; raise ArgumentError with the usage when they are invalid."""
    words = text.lower().split()
    group = DEFAULT_GROUP
    if "by" in words:
        at = words.index("by")
        rest = words[at + 1 :]
        if not rest:
            raise ArgumentError(
                f"`by` needs a grouping after it: one of {', '.join(GROUPS)}. " + REPORT_USAGE
            )
        if len(rest) != 1 or rest[0] not in GROUPS:
            raise ArgumentError(
                f"`by {' '.join(rest)}` is not a grouping: group by one of {', '.join(GROUPS)}. "
                + REPORT_USAGE
            )
        group = rest[0]
        words = words[:at]
    return parse_period(words, now=now, zone=zone, usage=REPORT_USAGE), group


def parse_export_arguments(text: str, *, now: datetime, zone: ZoneInfo) -> Period:
    """Read `[period]`; raise ArgumentError with the usage when it is invalid."""
    return parse_period(text.lower().split(), now=now, zone=zone, usage=EXPORT_USAGE)


def parse_period(words: Sequence[str], *, now: datetime, zone: ZoneInfo, usage: str) -> Period:
    """Turn a period's words into a Period in `zone`; no words mean the last 30 days."""
    phrase = " ".join(words) or DEFAULT_PERIOD
    local_now = now.astimezone(zone)
    today = local_now.date()
    if phrase in ("7d", "30d"):
        days = int(phrase[:-1])
        now = now.astimezone(UTC)
        return Period(now - timedelta(days=days), now, f"the last {days} days", zone)
    if phrase == "today":
        return Period(
            _midnight(today, zone), _midnight(today + timedelta(days=1), zone), "today", zone
        )
    if phrase == "this month":
        first = today.replace(day=1)
        return Period(
            _midnight(first, zone), _midnight(_next_month(first), zone), "this month", zone
        )
    if phrase == "last month":
        first = _previous_month(today.replace(day=1))
        return Period(
            _midnight(first, zone), _midnight(_next_month(first), zone), "last month", zone
        )
    if len(words) == 2 and all(_DATE_SHAPE.fullmatch(word) for word in words):
        first, last = (_parse_date(word, usage) for word in words)
        if last < first:
            raise ArgumentError(
                f"The period {words[0]} to {words[1]} ends before it starts: give the earlier "
                f"date first. {usage}"
            )
        return Period(
            _midnight(first, zone),
            _midnight(last + timedelta(days=1), zone),
            f"{first.isoformat()} to {last.isoformat()}",
            zone,
        )
    raise ArgumentError(f"`{phrase}` is not a period. {usage}")


# Years a report may name: far enough for any record, near enough that every date converts
# to UTC in every zone (Python's dates end at 9999-12-31).
FIRST_YEAR = 1970
LAST_YEAR = 2999


def _parse_date(word: str, usage: str) -> date:
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise ArgumentError(f"`{word}` is not a date like 2026-11-30. {usage}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ArgumentError(
            f"`{word}` is outside the years {FIRST_YEAR} to {LAST_YEAR} that a report covers. "
            f"{usage}"
        )
    return day


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # In UTC, because Python subtracts and compares two datetimes of one zone by wall time.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _next_month(first: date) -> date:
    return first + timedelta(days=calendar.monthrange(first.year, first.month)[1])


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def workspace_hours(
    session_scope: SessionScope, client: WebClient, workspace_id: str, user_id: str
) -> WorkingHours:
    """Return the workspace's working hours; their zone is also the zone of its periods.

    Without the working_hours setting: Monday to Friday 09:00 to 17:00 in the requester's
    users.info time zone, because Slack's API gives no time zone for a workspace.
    """
    with session_scope() as session:
        stored = get_setting(session, workspace_id, WORKING_HOURS_SETTING)
    if stored:
        try:
            return WorkingHours.from_settings(stored)
        except (TypeError, ValueError) as failure:
            log.warning("working hours setting invalid team=%s error=%s", workspace_id, failure)
    zone = client.users_info(user=user_id)["user"].get("tz") or "UTC"
    try:
        return WorkingHours.default(zone)
    except ValueError:
        return WorkingHours.default("UTC")


def delivery_figures(
    messages: Sequence[Message], *, delivered_at: datetime, hours: WorkingHours
) -> dict[str, float | None]:
    """Compute a delivery's stored figures from its conversation's messages up to delivery.

    Caret commands and caretbot's own messages are not replies, as in ^stat.
    """
    timed = sorted(
        (
            TimedMessage(at=datetime.fromtimestamp(float(message.ts), UTC), side=message.side)
            for message in messages
            if message.side in (CONTACT, TEAM) and parse_command(message.text) is None
        ),
        key=lambda message: message.at.timestamp(),
    )
    timed = [message for message in timed if message.at <= delivered_at]
    start = timed[0].at if timed else delivered_at
    values: dict[str, float | None] = {}
    for suffix, measure in (("work", hours.working_seconds), ("clock", clock_seconds)):
        metrics = compute_metrics(
            timed,
            measure=measure,
            created_at=start,
            claimed_at=None,
            delivered_at=None,
            now=delivered_at,
        )
        values[f"contact_first_reply_{suffix}"] = metrics.contact_first_reply
        values[f"team_first_response_{suffix}"] = metrics.team_first_response
        values[f"contact_response_{suffix}"] = metrics.contact_responses.mean
        values[f"team_response_{suffix}"] = metrics.team_responses.mean
    return values


def fill_figures(
    session_scope: SessionScope, *, workspace_id: str, period: Period, hours: WorkingHours
) -> int:
    """Compute and store the figures of the period's deliveries that have none; return how many.

    Figures are computed once, in working hours of the schedule that applies when they are
    computed: a later change of working_hours does not change stored figures.
    """
    with session_scope() as session:
        pending = list_pending_figures(
            session, workspace_id=workspace_id, start=period.start, end=period.end
        )
    for offset in range(0, len(pending), FIGURES_BATCH):
        batch = pending[offset : offset + FIGURES_BATCH]
        with session_scope() as session:
            computed = [
                (
                    item.delivery_id,
                    delivery_figures(
                        list_messages(session, item.conversation_id),
                        delivered_at=item.delivered_at,
                        hours=hours,
                    ),
                )
                for item in batch
            ]
            store_figures(session, computed)
    if pending:
        log.info("figures computed team=%s deliveries=%d", workspace_id, len(pending))
    return len(pending)


def build_report(
    session_scope: SessionScope, *, workspace_id: str, period: Period, group: str
) -> OutcomeReport:
    """Read the period's counts, funnel and stored figures into one report."""
    with session_scope() as session:
        tune_report_session(session)
        counts = count_outcomes(
            session, workspace_id=workspace_id, start=period.start, end=period.end, group=group
        )
        funnel = count_funnel(
            session, workspace_id=workspace_id, start=period.start, end=period.end
        )
        figure_rows = list_response_figures(
            session, workspace_id=workspace_id, start=period.start, end=period.end
        )
    return OutcomeReport(
        period=period,
        group=group,
        deliveries=funnel.delivered,
        rows=_group_rows(counts),
        funnel=funnel,
        figures=summarize_figures(figure_rows),
    )


def _group_rows(counts: Sequence[tuple[str | None, str, int]]) -> list[GroupRow]:
    by_value: dict[str | None, dict[str, int]] = {}
    for value, status, deliveries in counts:
        # An empty text is no value either, so it joins "(none)".
        key = value or None
        statuses = by_value.setdefault(key, {})
        statuses[status] = statuses.get(status, 0) + deliveries
    rows = [
        GroupRow(
            value=value, deliveries=sum(statuses.values()), by_status=_in_status_order(statuses)
        )
        for value, statuses in by_value.items()
    ]
    # Largest groups first; "(none)" after the others of its size; then statuses in their
    # usual order and other values by name.
    order = {status.value: index for index, status in enumerate(Status)}
    return sorted(
        rows,
        key=lambda row: (
            -row.deliveries,
            row.value is None,
            order.get(row.value or "", len(order)),
            row.value or "",
        ),
    )


def _in_status_order(statuses: dict[str, int]) -> dict[str, int]:
    known = [status.value for status in Status if status.value in statuses]
    unknown = sorted(status for status in statuses if status not in known)
    return {status: statuses[status] for status in known + unknown}


def summarize_figures(rows: Sequence[Sequence[float | None]]) -> list[FigureSummary]:
    """Return the median and mean of each response time over the rows of stored figures.

    numpy does the arithmetic: a month of a large workspace has tens of thousands of rows, and
    the statistics module took about 0.2 s for them on the benchmark machine.
    """
    import numpy as np

    table = np.array(rows, dtype=float).reshape(len(rows), len(FIGURE_COLUMNS))
    columns = {name: table[:, index] for index, name in enumerate(FIGURE_COLUMNS)}
    summaries = []
    for prefix, label in FIGURES:
        work = columns[f"{prefix}_work"]
        clock = columns[f"{prefix}_clock"]
        work = work[~np.isnan(work)]
        clock = clock[~np.isnan(clock)]
        summaries.append(
            FigureSummary(
                label=label,
                count=len(clock),
                work_median=float(np.median(work)) if len(work) else None,
                work_mean=float(np.mean(work)) if len(work) else None,
                clock_median=float(np.median(clock)) if len(clock) else None,
                clock_mean=float(np.mean(clock)) if len(clock) else None,
            )
        )
    return summaries


def status_label(status: str) -> str:
    """Return a status's label, or the stored value for a status that is no longer defined."""
    try:
        return Status(status).label
    except ValueError:
        return status
