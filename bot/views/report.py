"""The ephemeral answers of /caret-report and /caret-export."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.reports import NONE_GROUP, OutcomeReport, Period, status_label
from bot.views.text import SECTION_TEXT_LIMIT, escape_mrkdwn, user_mention
from bot.working_hours import format_duration

# Slack allows 50 blocks in a message and 3,000 characters in a section's text. The groups
# beyond this many are summed up in one line, which keeps the answer far inside both limits.
MAX_GROUPS_SHOWN = 25
_TIME_FORMAT = "%Y-%m-%d %H:%M"

PREPARING_REPORT_TEXT = "Preparing the report…"
PREPARING_EXPORT_TEXT = "Preparing the export…"
CHART_SENT_TEXT = "The chart of these numbers is in your DM with caretbot."


def group_label(group: str, value: str | None) -> str:
    """Return a group value as mrkdwn: a mention for a Slack user, escaped text otherwise."""
    if value is None:
        return NONE_GROUP
    if group == "agent":
        return user_mention(value)
    if group == "recipient":
        kind, _, rest = value.partition(":")
        if kind == "user":
            return user_mention(rest)
        if kind == "team":
            return f"team {escape_mrkdwn(rest)}"
        return escape_mrkdwn(rest)
    if group == "status":
        return escape_mrkdwn(status_label(value))
    return escape_mrkdwn(value)


def describe_period(period: Period) -> str:
    """Describe a period with its bounds, e.g. "last month (2026-11-01 00:00 up to …)"."""
    start = period.start.astimezone(period.zone).strftime(_TIME_FORMAT)
    end = period.end.astimezone(period.zone).strftime(_TIME_FORMAT)
    return f"{period.label} ({start} up to {end}, {period.zone.key})"


def report_blocks(report: OutcomeReport, *, chart_note: str | None) -> list[Block]:
    """Build the answer: the groups with their status split, the funnel, the response times."""
    heading = (
        f"*Deliveries by {report.group}*, {escape_mrkdwn(describe_period(report.period))}: "
        f"{report.deliveries} in all."
    )
    if report.group == "recipient":
        heading += (
            " A delivery with several recipients counts once for each, so the groups add up "
            "to more than the deliveries; shares are of all deliveries."
        )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=heading))]
    blocks.extend(_group_sections(report))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_funnel_text(report))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_figures_text(report))))
    if chart_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=chart_note)]))
    return blocks


def report_fallback_text(report: OutcomeReport) -> str:
    """Return the notification text of the answer."""
    return f"Deliveries by {report.group}, {describe_period(report.period)}: {report.deliveries}"


def _group_sections(report: OutcomeReport) -> list[Block]:
    if not report.rows:
        return [SectionBlock(text=MarkdownTextObject(text="No deliveries in this period."))]
    lines = []
    for row in report.rows[:MAX_GROUPS_SHOWN]:
        split = " · ".join(
            f"{escape_mrkdwn(status_label(status))} {count}"
            for status, count in row.by_status.items()
        )
        line = (
            f"*{group_label(report.group, row.value)}*: {row.deliveries} ({report.share(row):.1%})"
        )
        if report.group != "status":
            line += f" — {split}"
        lines.append(line)
    hidden = report.rows[MAX_GROUPS_SHOWN:]
    if hidden:
        lines.append(
            f"…and {len(hidden)} more groups with {sum(row.deliveries for row in hidden)} "
            f"deliveries in all. `/caret-export` gives every delivery."
        )
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in _chunks(lines)]


def _chunks(lines: list[str]) -> list[str]:
    # A group label is at most a few hundred characters, so a line never fills a section.
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT_LIMIT:
            chunks.append(current)
            candidate = line[:SECTION_TEXT_LIMIT]
        current = candidate
    chunks.append(current)
    return chunks


def _funnel_text(report: OutcomeReport) -> str:
    funnel = report.funnel
    return (
        "*Funnel*\n"
        f"Applications: {funnel.applications}\n"
        f"Contacts added: {funnel.contacts}\n"
        f"Conversations started (the team wrote): {funnel.started}\n"
        f"Engaged (both sides wrote): {funnel.engaged}\n"
        f"Delivered: {funnel.delivered}"
    )


def _figures_text(report: OutcomeReport) -> str:
    lines = ["*Response times* (median / mean per delivery)"]
    for figure in report.figures:
        if figure.count == 0:
            lines.append(f"{figure.label}: none yet")
            continue
        lines.append(
            f"{figure.label}: {_duration(figure.work_median)} / {_duration(figure.work_mean)} "
            f"in working hours, {_duration(figure.clock_median)} / "
            f"{_duration(figure.clock_mean)} on the clock "
            f"({figure.count} {'delivery' if figure.count == 1 else 'deliveries'})"
        )
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(seconds)


def export_sent_text(period: Period, rows: int) -> str:
    """Return the answer to /caret-export after the file reached the DM."""
    return (
        f"The deliveries of {escape_mrkdwn(describe_period(period))} are in your DM with "
        f"caretbot: {rows} rows, one per delivery and recipient."
    )


def export_empty_text(period: Period) -> str:
    return f"No deliveries in {escape_mrkdwn(describe_period(period))}, so there is no file."


def chart_labels(report: OutcomeReport, names: Mapping[str, str]) -> list[str]:
    """Return plain-text labels of the shown groups for the chart, with users' names."""
    labels = []
    for row in report.rows[:MAX_GROUPS_SHOWN]:
        value = row.value
        if value is None:
            labels.append(NONE_GROUP)
        elif report.group == "agent":
            labels.append(names.get(value, value))
        elif report.group == "recipient":
            kind, _, rest = value.partition(":")
            labels.append(names.get(rest, rest) if kind == "user" else rest)
        elif report.group == "status":
            labels.append(status_label(value))
        else:
            labels.append(value)
    return labels
