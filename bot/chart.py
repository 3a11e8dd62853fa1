"""The PNG bar chart of a report: the groups split by status, the funnel, the response times.

matplotlib is imported on the first chart, not at start-up, because importing
matplotlib.figure took 1.1 s on the 2-CPU machine of docs/benchmarks.md (python -X importtime).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.reports import OutcomeReport, status_label
from bot.views.report import describe_period

_HOURS = 3600


def render_report_chart(report: OutcomeReport, labels: Sequence[str]) -> bytes:
    """Draw the report's numbers as three bar charts in one PNG and return its bytes.

    `labels` are the plain-text labels of the first len(labels) groups, as shown in the answer.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = report.rows[: len(labels)]
    figure = Figure(figsize=(10, 12), dpi=100, layout="constrained")
    groups_axes, funnel_axes, times_axes = figure.subplots(3, 1, height_ratios=(3, 1.4, 1.6))
    figure.suptitle(f"Deliveries by {report.group}, {describe_period(report.period)}")

    statuses = list(dict.fromkeys(status for row in rows for status in row.by_status))
    left = [0] * len(rows)
    positions = list(range(len(rows)))
    for status in statuses:
        counts = [row.by_status.get(status, 0) for row in rows]
        groups_axes.barh(positions, counts, left=left, label=status_label(status))
        left = [before + count for before, count in zip(left, counts, strict=True)]
    groups_axes.set_yticks(positions, [_shorten(label) for label in labels])
    groups_axes.invert_yaxis()
    groups_axes.set_xlabel("deliveries")
    # Counts are whole numbers: no tick at 0.25 of a delivery.
    groups_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    groups_axes.set_title(f"{report.deliveries} deliveries")
    if statuses:
        groups_axes.legend(loc="lower right", fontsize="small")

    funnel = report.funnel
    stages = ["Applications", "Contacts added", "Started", "Engaged", "Delivered"]
    values = [
        funnel.applications,
        funnel.contacts,
        funnel.started,
        funnel.engaged,
        funnel.delivered,
    ]
    funnel_axes.bar(stages, values, color="tab:blue")
    funnel_axes.bar_label(funnel_axes.containers[0])
    funnel_axes.set_title("Funnel")
    funnel_axes.yaxis.set_major_locator(MaxNLocator(integer=True))

    names = [figure_summary.label for figure_summary in report.figures]
    series = (
        ("median, working hours", "work_median"),
        ("mean, working hours", "work_mean"),
        ("median, clock", "clock_median"),
        ("mean, clock", "clock_mean"),
    )
    width = 0.2
    for index, (label, attribute) in enumerate(series):
        hours = [(getattr(summary, attribute) or 0) / _HOURS for summary in report.figures]
        offsets = [position + (index - 1.5) * width for position in range(len(names))]
        times_axes.bar(offsets, hours, width=width, label=label)
    times_axes.set_xticks(range(len(names)), names)
    times_axes.set_ylabel("hours")
    times_axes.set_title("Response times (no bar: no reply yet)")
    times_axes.legend(fontsize="small")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _shorten(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
