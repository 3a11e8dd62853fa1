"""Time compute_metrics on one long conversation, on the clock and in working hours.

The conversation has 10,000 messages over about 90 days, from a fixed random seed, with
times in UTC as storage returns them. Each side writes runs of one to a few messages. Gaps
are mostly seconds to minutes, sometimes about an hour and now and then most of a day.

The script prints the median, minimum and maximum of 15 interleaved rounds for each
measure. "Working hours, new schedule" builds a new WorkingHours in each round, so its time
includes filling the working-interval cache. "Working hours, reused schedule" shares one
WorkingHours across the rounds, as a long-running process can.

Run from the repository root with the virtual environment active:

    python -m bench.stats
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.metrics import CONTACT, TEAM, ConversationMetrics, TimedMessage, compute_metrics
from bot.working_hours import WorkingHours, clock_seconds, format_duration

COMMAND = "python -m bench.stats"
MESSAGE_COUNT = 10_000
SPAN = timedelta(days=90)
RUNS = 15
SEED = 20260302
SETTINGS = {
    "time_zone": "Europe/Berlin",
    "weekly": {day: [["09:00", "12:30"], ["13:30", "17:30"]] for day in ("mon", "tue", "wed")}
    | {"thu": [["09:00", "17:00"]], "fri": [["09:00", "15:00"]]},
    "holidays": ["2026-04-03", "2026-04-06", "2026-05-01"],
}
# Monday 09:00 in Berlin. The conversation spans the change to summer time on 2026-03-29.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def build_conversation() -> list[TimedMessage]:
    """Build the conversation: alternating runs of messages, scaled to fill SPAN."""
    randomness = random.Random(SEED)
    gaps = []
    for _ in range(MESSAGE_COUNT - 1):
        draw = randomness.random()
        if draw < 0.70:
            gaps.append(randomness.expovariate(1 / 120))
        elif draw < 0.95:
            gaps.append(randomness.expovariate(1 / 3600))
        else:
            gaps.append(randomness.expovariate(1 / 50_000))
    scale = SPAN.total_seconds() / sum(gaps)

    side = TEAM
    moment = START
    messages = [TimedMessage(at=moment, side=side)]
    for gap in gaps:
        # Runs of one side are 1.7 messages long on average.
        if randomness.random() < 0.6:
            side = CONTACT if side == TEAM else TEAM
        moment += timedelta(seconds=gap * scale)
        messages.append(TimedMessage(at=moment, side=side))
    return messages


def time_rounds(runs: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Call each run once per round, for RUNS rounds, and return its wall times in seconds.

    Interleaving the runs exposes them to the same load on a shared machine.
    """
    durations: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(RUNS):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            durations[name].append(time.perf_counter() - started)
    return durations


def main() -> int:
    messages = build_conversation()
    end = messages[-1].at

    def run_with(measure: Callable[[datetime, datetime], float]) -> ConversationMetrics:
        return compute_metrics(
            messages,
            measure=measure,
            created_at=START,
            claimed_at=START + timedelta(minutes=5),
            delivered_at=end,
            now=end + timedelta(hours=1),
        )

    reused_schedule = WorkingHours.from_settings(SETTINGS)
    timings = time_rounds(
        {
            "Clock time": lambda: run_with(clock_seconds),
            "Working hours, new schedule": lambda: run_with(
                WorkingHours.from_settings(SETTINGS).working_seconds
            ),
            "Working hours, reused schedule": lambda: run_with(reused_schedule.working_seconds),
        }
    )
    on_the_clock = run_with(clock_seconds)
    working = run_with(reused_schedule.working_seconds)

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"Command: {COMMAND}")
    print(
        f"Machine: {cpus} CPUs ({platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {sys.version.split()[0]}"
    )
    print(
        f"Conversation: {len(messages)} messages from {START:%Y-%m-%d} to {end:%Y-%m-%d}, "
        f"{on_the_clock.contact_responses.count} contact replies and "
        f"{on_the_clock.team_responses.count} team replies"
    )
    print(
        f"Team's mean response time: {format_duration(on_the_clock.team_responses.mean or 0)} "
        f"on the clock, {format_duration(working.team_responses.mean or 0)} in working hours"
    )
    print(f"compute_metrics, {RUNS} interleaved rounds, in ms:")
    for name, durations in timings.items():
        print(
            f"  {name}: median {statistics.median(durations) * 1000:.1f}, "
            f"min {min(durations) * 1000:.1f}, max {max(durations) * 1000:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
