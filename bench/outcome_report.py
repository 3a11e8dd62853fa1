"""Time `/caret-report 30d by source` on a million deliveries against its bare SQL queries.

bench.report_data generates the database once (or reuses it). caretbot then runs in this
process (bot.serving.LocalBot) against a Slack double, whose clock is the timer's monotonic
clock. Each round times two things, in alternating order:

- the report: from the signed slash command's POST to the answer that reached the double's
  response_url, and to the chart's files.completeUploadExternal;
- the bare queries: the SQL statements the report runs (storage.reports builds them),
  compiled with the same period beforehand, run one after another on one DBAPI connection
  with fetchall, without SQLAlchemy's ORM, Python aggregation, Bolt, HTTP or Slack. On
  PostgreSQL they run with the report's planner settings (POSTGRES_REPORT_SETTINGS).

One untimed round goes first, because the first chart imports matplotlib.

    python -m bench.outcome_report [--postgres URL] [--rounds 11] [--doc PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from bench.report import (
    DOC_PATH,
    describe_machine,
    describe_revision,
    markdown_table,
    write_section,
)
from bench.report_data import TEAM, generate
from bot.reports import parse_report_arguments
from bot.serving import LocalBot
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import slash_command
from storage.db import create_db_engine
from storage.models import utcnow
from storage.reports import (
    POSTGRES_REPORT_SETTINGS,
    figures_statement,
    funnel_statements,
    outcome_statement,
    pending_statement,
)

DEFAULT_SQLITE = "sqlite:////tmp/caretbot-report-bench.db"
COMMAND_TEXT = "30d by source"
ADMIN = "U0ADMIN"
ZONE = "Europe/Berlin"
CHANNEL = "C0BENCH000"
SECRET = "bench-secret"
TARGET_SECONDS = 1.0
TARGET_RATIO = 2.0


def bare_queries(engine: sa.Engine) -> list[str]:
    """Compile the report's statements for the period `30d` as of now."""
    from zoneinfo import ZoneInfo

    period, group = parse_report_arguments(COMMAND_TEXT, now=utcnow(), zone=ZoneInfo(ZONE))
    bounds = {"workspace_id": TEAM, "start": period.start, "end": period.end}
    statements = [
        pending_statement(**bounds),
        outcome_statement(**bounds, group=group),
        *funnel_statements(**bounds).values(),
        figures_statement(**bounds),
    ]
    return [
        str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        for statement in statements
    ]


def time_bare(engine: sa.Engine) -> tuple[float, int]:
    """Run the bare queries once; return the seconds and the period's delivery count."""
    queries = bare_queries(engine)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            # The report's transaction runs with these, so the bare queries do too.
            for statement in POSTGRES_REPORT_SETTINGS:
                cursor.execute(statement)
        started = time.monotonic()
        results = []
        for query in queries:
            cursor.execute(query)
            results.append(cursor.fetchall())
        elapsed = time.monotonic() - started
        connection.rollback()
    finally:
        connection.close()
    delivered = results[2 + 4][0][0]  # pending, outcomes, then the funnel's five counts
    return elapsed, int(delivered)


def time_report(bot: LocalBot, slack: SlackDouble) -> tuple[float, float, str]:
    """Run the command once; return the seconds to the answer and to the chart, and its text."""
    answers = len(slack.calls_to("response_url"))
    charts = len(slack.calls_to("files.completeUploadExternal"))
    payload = slash_command(
        "/caret-report",
        COMMAND_TEXT,
        user=ADMIN,
        channel=CHANNEL,
        trigger_id=slack.issue_trigger_id(user_id=ADMIN),
        response_url=slack.new_response_url(user=ADMIN, channel=CHANNEL),
        team=TEAM,
    )
    started = time.monotonic()
    status, _headers, _body = bot.post(payload)
    if status != 200:
        raise RuntimeError(f"/caret-report failed: HTTP {status}")
    answer = slack.wait_for("response_url", count=answers + 1, timeout=60)[answers]
    chart = slack.wait_for("files.completeUploadExternal", count=charts + 1, timeout=60)[charts]
    bot.executor.wait_idle(timeout=60)
    if not answer.ok or not chart.ok:
        raise RuntimeError(f"the report failed: {answer.error or chart.error}")
    return answer.at - started, chart.at - started, answer.args["blocks"][0]["text"]["text"]


def run(db_url: str, rounds: int, deliveries: int) -> dict:
    description = generate(db_url, deliveries)
    engine = create_db_engine(db_url)
    with SlackDouble(team_id=TEAM) as slack:
        slack.add_user(ADMIN, "ada", real_name="Ada Admin", is_admin=True, tz=ZONE)
        bot = LocalBot(slack, db_url, signing_secret=SECRET).start(outbox=False)
        try:
            time_report(bot, slack)
            time_bare(engine)
            answers, charts, bares, ratios = [], [], [], []
            for number in range(rounds):
                if number % 2:
                    bare, delivered = time_bare(engine)
                    answer, chart, heading = time_report(bot, slack)
                else:
                    answer, chart, heading = time_report(bot, slack)
                    bare, delivered = time_bare(engine)
                # The period moves with the clock between the two, so a delivery may cross
                # its start; anything more is a mismatch.
                reported = int(heading.rpartition(": ")[2].split()[0])
                if abs(reported - delivered) > max(5, delivered // 1000):
                    raise RuntimeError(f"the report and the bare count differ: {heading!r}")
                answers.append(answer)
                charts.append(chart)
                bares.append(bare)
                ratios.append(answer / bare)
        finally:
            bot.stop()
            engine.dispose()
    return {
        "description": description,
        "delivered": delivered,
        "answers": answers,
        "charts": charts,
        "bares": bares,
        "ratios": ratios,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", default=DEFAULT_SQLITE, help="SQLite database URL")
    parser.add_argument("--postgres", metavar="URL", help="also run on this database")
    parser.add_argument("--rounds", type=int, default=11, help="timed rounds per database")
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="page to write the section to")
    args = parser.parse_args(argv)

    results = [("SQLite", run(args.sqlite, args.rounds, args.deliveries))]
    if args.postgres:
        results.append(("PostgreSQL", run(args.postgres, args.rounds, args.deliveries)))

    rows, verdicts = [], []
    for name, result in results:
        answer = statistics.median(result["answers"])
        bare = statistics.median(result["bares"])
        ratio = statistics.median(result["ratios"])
        rows.append(
            [
                name,
                f"{result['delivered']:,}",
                _ms(answer),
                _ms(max(result["answers"])),
                _ms(bare),
                f"{ratio:.2f}",
                f"{min(result['ratios']):.2f} to {max(result['ratios']):.2f}",
                _ms(statistics.median(result["charts"])),
            ]
        )
        verdicts.append(
            f"- {name}: the answer took {_ms(answer)} ms in the median (target under "
            f"{_ms(TARGET_SECONDS)} ms: {'met' if answer < TARGET_SECONDS else 'NOT met'}), "
            f"{ratio:.2f} times the bare queries of the same round (target at most "
            f"{TARGET_RATIO:.0f}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})."
        )
    command = "python -m bench.outcome_report"
    if args.sqlite != DEFAULT_SQLITE:
        command += f" --sqlite '{args.sqlite}'"
    if args.postgres:
        shown = sa.engine.make_url(args.postgres).render_as_string(hide_password=True)
        command += f" --postgres '{shown}'"
    generated = results[0][1]["description"]
    section = "\n".join(
        [
            "## Reports: `/caret-report 30d by source` on a million deliveries",
            "",
            f"{args.deliveries:,} deliveries of {generated['conversations']:,} conversations "
            "over two years, with their contacts, applications, messages and recipients, "
            "generated by `bench.report_data` (its docstring describes the spread). The "
            "response-time figures are stored already, as after a first report. The answer "
            "is the time from the signed slash command's POST to the ephemeral answer "
            "reaching the Slack double's response_url; the chart is the time to its upload "
            "into the admin's DM. The bare queries are the report's SQL statements "
            "(pending figures, counts by source and status, the five funnel counts, the "
            "stored figures), run on one DBAPI connection in the same round. "
            f"{args.rounds} timed rounds after one untimed round, in alternating order. "
            "The machine is shared with other work, so compare the ratio more than the "
            "absolute times. The SQLite database is generated into "
            f"`{DEFAULT_SQLITE.removeprefix('sqlite:///')}` and reused by later runs, and the "
            "PostgreSQL one into the database (or schema) of the URL.",
            "",
            "Command, from the repository root with the virtual environment active:",
            "",
            f"    {command}",
            "",
            f"Run on {describe_revision()}. {describe_machine()}",
            "",
            markdown_table(
                [
                    "Database",
                    "Deliveries in the period",
                    "Answer median (ms)",
                    "Answer max (ms)",
                    "Bare queries median (ms)",
                    "Answer / bare, median of rounds",
                    "Answer / bare, range",
                    "Chart median (ms)",
                ],
                rows,
            ),
            "",
            *verdicts,
        ]
    )
    write_section(args.doc, "outcome-report", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
