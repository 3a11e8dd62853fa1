"""Periods, figure summaries and the report view, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.reports import (
    ArgumentError,
    GroupRow,
    OutcomeReport,
    Period,
    parse_export_arguments,
    parse_report_arguments,
    summarize_figures,
)
from bot.views.report import MAX_GROUPS_SHOWN, group_label, report_blocks
from storage.reports import FunnelCounts

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 2026-03-04 10:30 in Berlin (UTC+1).
NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def local(*parts):
    return datetime(*parts, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", local(2026, 3, 4), local(2026, 3, 5)),
        ("this month", local(2026, 3, 1), local(2026, 4, 1)),
        ("last month", local(2026, 2, 1), local(2026, 3, 1)),
        ("2026-02-27 2026-03-02", local(2026, 2, 27), local(2026, 3, 3)),
        ("2026-03-04 2026-03-04", local(2026, 3, 4), local(2026, 3, 5)),
    ],
)
def test_calendar_periods(text, start, end):
    period, group = parse_report_arguments(text, now=NOW, zone=BERLIN)

    assert period.start == start
    assert period.end == end
    assert group == "status"


def test_last_month_in_january():
    period = parse_export_arguments(
        "last month", now=datetime(2026, 1, 10, tzinfo=UTC), zone=BERLIN
    )

    assert period.start == local(2025, 12, 1)
    assert period.end == local(2026, 1, 1)


def test_day_periods_end_now():
    period, _ = parse_report_arguments("7D BY Source", now=NOW, zone=BERLIN)

    assert period.end == NOW
    assert (NOW - period.start).days == 7
    assert period.label == "the last 7 days"


def test_month_across_daylight_saving_change():
    period, _ = parse_report_arguments(
        "this month", now=datetime(2026, 3, 30, tzinfo=UTC), zone=BERLIN
    )

    assert period.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert (period.end - period.start).total_seconds() == 31 * 86400 - 3600


@pytest.mark.parametrize(
    "text", ["yesterday", "by", "by status source", "7d 30d", "2026-13-01 2026-13-02"]
)
def test_invalid_arguments_raise_with_usage(text):
    with pytest.raises(ArgumentError) as raised:
        parse_report_arguments(text, now=NOW, zone=BERLIN)

    assert "Usage: `/caret-report" in raised.value.message


def test_summary_medians_and_means_skip_missing():
    rows = [
        (60.0, 120.0, None, None, 10.0, 10.0, None, None),
        (180.0, 240.0, None, None, None, None, None, None),
        (None, None, None, None, 30.0, 50.0, None, None),
    ]

    first_reply, first_response, contact, team = summarize_figures(rows)

    assert (first_reply.count, first_reply.work_median, first_reply.clock_mean) == (2, 120.0, 180.0)
    assert first_response.count == 0
    assert first_response.work_median is None
    assert (contact.work_mean, contact.clock_median) == (20.0, 30.0)
    assert team.clock_mean is None


def test_summary_of_no_rows():
    summaries = summarize_figures([])

    assert [summary.count for summary in summaries] == [0, 0, 0, 0]


def test_group_labels_escape_text_and_mention_users():
    assert group_label("source", "<!channel> & co") == "&lt;!channel&gt; &amp; co"
    assert group_label("agent", "U012AB3CD") == "<@U012AB3CD>"
    assert group_label("recipient", "team:Sales <EU>") == "team Sales &lt;EU&gt;"
    assert group_label("recipient", "email:a@example.com") == "a@example.com"
    assert group_label("status", "not_interested") == "Not Interested"
    assert group_label("job", None) == "(none)"


def test_long_group_labels_stay_within_section_limit():
    rows = [
        GroupRow(value=f"{number:03d}" + "x" * 400, deliveries=1, by_status={"spam": 1})
        for number in range(40)
    ]
    report = OutcomeReport(
        period=Period(local(2026, 3, 1), local(2026, 4, 1), "this month", BERLIN),
        group="campaign",
        deliveries=40,
        rows=rows,
        funnel=FunnelCounts(0, 0, 0, 0, 40),
        figures=summarize_figures([]),
    )

    blocks = [block.to_dict() for block in report_blocks(report, chart_note=None)]

    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert len(blocks) <= 50
    shown = sum(text.count("(2.5%)") for text in sections)
    assert shown == MAX_GROUPS_SHOWN
    assert "…and 15 more groups with 15 deliveries in all." in "\n".join(sections)
