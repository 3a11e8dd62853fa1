"""Benchmark ordinary chat messages posted to /slack/events: caretbot against bare Bolt.

    python -m bench.events [--quick] [--postgres URL] [--doc PATH | --no-doc]

Each target is served by its own `python -m bench.target` process. Every round measures,
per target, the throughput of N signed message events sent at concurrency C, then the
latency at a fixed offered rate. Rounds interleave the targets. The medians and per-round
figures go to the "events" section of docs/benchmarks.md (full runs only, unless --doc is
given). The exit status is 1 if any response was not HTTP 200.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import events_report, load, report
from bench.processes import (
    IDLE_TIMEOUT_SECONDS,
    TargetFailed,
    TargetProcess,
    available_cpus,
    cpu_seconds,
    machine_busy_seconds,
    wait_until_idle,
)
from bench.target import BOT_TOKEN, SIGNING_SECRET
from bot.config import ConfigError, read_database_url
from bot.slackdouble import SlackDouble, signed_headers
from bot.slackdouble.payloads import encode_for_http, message_event, new_ts
from bot.slackdouble.signing import SLACK_USER_AGENT
from storage import migrate

SECTION = "events"
CHANNEL = "C0CANDIDATES"
PERSON = "U0AGENT"
# Chat that a recruiter might type in a candidate's thread. None of it is a caret command.
CHAT_LINES = (
    "Thanks, I'll send the contract over this afternoon.",
    "She can start on the 3rd, and the salary band is fine.",
    "Can we move the call to Thursday? 10:30 works for me ^_^",
    "Reference check came back positive.",
)


@dataclass(frozen=True)
class RunSettings:
    """The size of a run: rounds, requests, concurrency and the offered rate."""

    rounds: int = 5
    concurrency: int = 16
    requests: int = 2000
    warmup: int = 200
    rate: float = 100.0
    duration: float = 10.0

    @property
    def open_loop_requests(self) -> int:
        return round(self.rate * self.duration)


FULL = RunSettings()
QUICK = RunSettings(rounds=1, requests=200, warmup=50, duration=2.0)


@dataclass(frozen=True)
class RoundResult:
    """One target's figures in one round. Latencies are in seconds."""

    round: int
    label: str
    # Responses per second, and events per second counting until the target went idle.
    throughput: float
    processed_throughput: float | None
    cpu_per_request: float | None
    # Share of the machine's CPU time that other processes used in the throughput phase.
    other_load: float | None
    p50: float
    p99: float
    max_send_lag: float
    errors: Counter[str]


def build_requests(count: int, port: int) -> list[bytes]:
    """Sign `count` distinct message events in one thread, with the current timestamp."""
    thread_ts = new_ts()
    requests = []
    for index in range(count):
        payload = message_event(
            CHAT_LINES[index % len(CHAT_LINES)], user=PERSON, channel=CHANNEL, thread_ts=thread_ts
        )
        body, content_type = encode_for_http(payload)
        headers = {
            "Content-Type": content_type,
            "User-Agent": SLACK_USER_AGENT,
            **signed_headers(body, SIGNING_SECRET),
        }
        requests.append(load.build_post(port, "/slack/events", body, headers))
    return requests


def measure(target: TargetProcess, settings: RunSettings, round_number: int) -> RoundResult:
    """Warm the target up, then measure its throughput and its latency at the offered rate."""
    errors: Counter[str] = Counter()

    warmup = build_requests(settings.warmup, target.port)
    errors += _run_phase(load.run_closed_loop(target.port, warmup, settings.concurrency)).errors
    _settle(target)

    requests = build_requests(settings.requests, target.port)
    before = _CpuSample.take(target.pid)
    closed = _run_phase(load.run_closed_loop(target.port, requests, settings.concurrency))
    idle_at = _settle(target)
    after = _CpuSample.take(target.pid)
    processed_throughput = None
    if idle_at is not None:
        processed_throughput = settings.requests / (idle_at - closed.started_at)
    errors += closed.errors
    cpu_per_request = None
    if before.target is not None and after.target is not None:
        cpu_per_request = (after.target - before.target) / settings.requests

    requests = build_requests(settings.open_loop_requests, target.port)
    opened = _run_phase(load.run_open_loop(target.port, requests, settings.rate))
    _settle(target)
    errors += opened.errors
    target.check_running()

    return RoundResult(
        round=round_number,
        label=target.label,
        throughput=closed.throughput,
        processed_throughput=processed_throughput,
        cpu_per_request=cpu_per_request,
        other_load=_CpuSample.other_load(before, after),
        p50=opened.percentile(0.50),
        p99=opened.percentile(0.99),
        max_send_lag=opened.max_send_lag,
        errors=errors,
    )


@dataclass(frozen=True)
class _CpuSample:
    """CPU times in seconds at one moment: the target's, this process's and the machine's."""

    wall: float
    target: float | None
    own: float
    machine: float | None

    @classmethod
    def take(cls, pid: int) -> _CpuSample:
        return cls(
            wall=time.monotonic(),
            target=cpu_seconds(pid),
            own=time.process_time(),
            machine=machine_busy_seconds(),
        )

    @staticmethod
    def other_load(before: _CpuSample, after: _CpuSample) -> float | None:
        """Return the share of all CPUs' time between two samples that neither the load
        generator nor the target used, from 0 to 1, or None if it cannot be read."""
        if None in (before.target, after.target, before.machine, after.machine):
            return None
        ours = (after.own - before.own) + (after.target - before.target)
        others = (after.machine - before.machine) - ours
        capacity = (after.wall - before.wall) * available_cpus()
        return min(1.0, max(0.0, others / capacity))


def _run_phase(phase: Coroutine[Any, Any, load.PhaseResult]) -> load.PhaseResult:
    with load.garbage_collection_paused():
        return asyncio.run(phase)


def _settle(target: TargetProcess) -> float | None:
    idle_at = wait_until_idle(target.pid)
    if idle_at is None and cpu_seconds(target.pid) is not None:
        print(
            f"bench.events: warning: target {target.label!r} was still using CPU "
            f"{IDLE_TIMEOUT_SECONDS:g} s after the phase ended, so the next phase may include "
            f"its work",
            file=sys.stderr,
        )
    return idle_at


def run_rounds(targets: Sequence[TargetProcess], settings: RunSettings) -> list[RoundResult]:
    """Measure every target once per round, in the same order each round."""
    results = []
    for round_number in range(1, settings.rounds + 1):
        for target in targets:
            result = measure(target, settings, round_number)
            results.append(result)
            print(f"round {round_number}/{settings.rounds} {_progress(result)}", file=sys.stderr)
    return results


def _progress(result: RoundResult) -> str:
    cpu = "n/a" if result.cpu_per_request is None else f"{result.cpu_per_request * 1e3:.2f}"
    processed = "n/a"
    if result.processed_throughput is not None:
        processed = f"{result.processed_throughput:.0f}"
    return (
        f"{result.label}: {result.throughput:.0f} responses/s, {processed} processed/s, "
        f"CPU {cpu} ms/event, "
        f"other load {_percent(result.other_load)}, "
        f"p50 {result.p50 * 1e3:.1f} ms, p99 {result.p99 * 1e3:.1f} ms, "
        f"max send lag {result.max_send_lag * 1e3:.1f} ms, errors {sum(result.errors.values())}"
    )


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.events",
        description="Benchmark ordinary chat messages to /slack/events: caretbot against a "
        "bare Bolt app, each served by its own process on 127.0.0.1.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK.rounds} round, {QUICK.warmup} warm-up and {QUICK.requests} "
        f"requests, {QUICK.duration:g} s at the offered rate. It writes no doc unless --doc "
        f"is given.",
    )

    size = parser.add_argument_group("run size (defaults are for a full run)")
    size.add_argument(
        "--rounds", type=_positive_int, help=f"rounds per target (default {FULL.rounds})"
    )
    size.add_argument(
        "--concurrency",
        type=_positive_int,
        help=f"connections in the throughput phase (default {FULL.concurrency})",
    )
    size.add_argument(
        "--requests",
        type=_positive_int,
        help=f"requests in the throughput phase (default {FULL.requests})",
    )
    size.add_argument(
        "--warmup",
        type=_non_negative_int,
        help=f"warm-up requests before each throughput phase (default {FULL.warmup})",
    )
    size.add_argument(
        "--rate",
        type=_positive_float,
        help=f"offered rate of the latency phase, in events/s (default {FULL.rate:g})",
    )
    size.add_argument(
        "--duration",
        type=_positive_float,
        help=f"length of the latency phase, in seconds (default {FULL.duration:g})",
    )

    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run caretbot on this PostgreSQL database, which the run migrates (use one "
        "you can throw away)",
    )

    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--doc",
        type=Path,
        metavar="PATH",
        help=f"page to write the section to (default for full runs: {report.DOC_PATH})",
    )
    output.add_argument("--no-doc", action="store_true", help="print the section only")
    return parser


def _run_settings(args: argparse.Namespace) -> RunSettings:
    base = QUICK if args.quick else FULL
    names = ("rounds", "concurrency", "requests", "warmup", "rate", "duration")
    overrides = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return replace(base, **overrides)


def _shown_command(argv: Sequence[str]) -> str:
    """Return the command line for the doc, with any database password hidden."""
    words = list(argv)
    for index, word in enumerate(words):
        if word == "--postgres" and index + 1 < len(words):
            words[index + 1] = _hide_password(words[index + 1])
        elif word.startswith("--postgres="):
            words[index] = "--postgres=" + _hide_password(word.removeprefix("--postgres="))
    return shlex.join(["python", "-m", "bench.events", *words])


def _hide_password(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _target_specs(args: argparse.Namespace, temp_dir: Path) -> list[tuple[str, list[str]]]:
    """Migrate the databases and return each target's label and bench.target arguments."""
    sqlite_url = f"sqlite:///{temp_dir / 'caretbot.db'}"
    migrate.upgrade(sqlite_url)
    specs = [
        ("bare Bolt", ["bare"]),
        ("caretbot, SQLite", ["caretbot", "--database-url", sqlite_url]),
    ]
    if args.postgres:
        postgres_url = read_database_url({"DATABASE_URL": args.postgres})
        migrate.upgrade(postgres_url)
        specs.append(("caretbot, PostgreSQL", ["caretbot", "--database-url", postgres_url]))
    return specs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and return the exit status.

    The status is 0 on success, 1 when a request failed or a target stopped, and 2 when the
    databases cannot be prepared. Invalid options raise SystemExit(2), as argparse does.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    settings = _run_settings(args)
    if settings.duration > load.PHASE_TIME_LIMIT_SECONDS:
        parser.error(
            f"--duration {settings.duration:g} is invalid: the maximum is "
            f"{load.PHASE_TIME_LIMIT_SECONDS:g} s, because request signatures expire after 5 "
            f"minutes"
        )
    if settings.open_loop_requests < 1:
        parser.error(
            f"--rate {settings.rate:g} for --duration {settings.duration:g} s sends no events. "
            f"Raise --rate or --duration."
        )
    doc_path = args.doc
    if doc_path is None and not (args.no_doc or args.quick):
        doc_path = report.DOC_PATH
    # Read before the run, because the code may change while it runs.
    revision = report.describe_revision()

    with tempfile.TemporaryDirectory(prefix="caretbot-bench-") as temp_name:
        temp_dir = Path(temp_name)
        try:
            specs = _target_specs(args, temp_dir)
        except (ConfigError, sa.exc.SQLAlchemyError) as failure:
            print(f"bench.events: cannot prepare the databases: {failure}", file=sys.stderr)
            return 2
        with SlackDouble(bot_token=BOT_TOKEN) as double:
            targets = [
                TargetProcess(
                    label,
                    [*target_args, "--api-url", double.base_url],
                    temp_dir / f"target-{index}.log",
                )
                for index, (label, target_args) in enumerate(specs)
            ]
            try:
                for target in targets:
                    target.start()
                calls_before = len(double.calls)
                results = run_rounds(targets, settings)
                api_calls = len(double.calls) - calls_before
            except TargetFailed as failure:
                print(f"bench.events: {failure}", file=sys.stderr)
                return 1
            except OSError as failure:
                # Raised when a phase cannot open its connections to a target.
                print(f"bench.events: cannot connect to a target: {failure}", file=sys.stderr)
                return 1
            finally:
                for target in targets:
                    target.stop()

        logged_errors = {target.label: target.logged_errors() for target in targets}

    section = events_report.format_section(
        results,
        [label for label, _ in specs],
        settings,
        command=_shown_command(argv),
        revision=revision,
        api_calls=api_calls,
        logged_errors={label: len(lines) for label, lines in logged_errors.items()},
    )
    print(section)
    failed = False
    errors: Counter[str] = sum((result.errors for result in results), Counter())
    if errors:
        listed = ", ".join(f"{reason}: {count}" for reason, count in errors.most_common())
        print(f"bench.events: failed requests: {listed}", file=sys.stderr)
        failed = True
    for label, lines in logged_errors.items():
        if lines:
            shown = "\n".join(lines[:5])
            print(
                f"bench.events: target {label!r} logged {len(lines)} ERROR lines, the first:\n"
                f"{shown}",
                file=sys.stderr,
            )
            failed = True
    if failed:
        return 1
    if doc_path is not None:
        report.write_section(doc_path, SECTION, section)
        print(f"bench.events: wrote section {SECTION!r} of {doc_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
