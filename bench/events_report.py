"""The "events" section of docs/benchmarks.md, written from bench.events' results."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench import load, report

if TYPE_CHECKING:
    from bench.events import RoundResult, RunSettings

THROUGHPUT_TARGET_RATIO = 0.7
P99_TARGET_SECONDS = 0.050


@dataclass(frozen=True)
class Medians:
    """One target's medians across rounds. Latencies are in seconds."""

    throughput: float
    processed_throughput: float | None
    cpu_per_request: float | None
    p50: float
    p99: float
    worst_p99: float


def summarize(results: Sequence[RoundResult], label: str) -> Medians:
    """Return the medians across rounds of one target's figures."""
    mine = [result for result in results if result.label == label]
    processed = [result.processed_throughput for result in mine]
    cpu = [result.cpu_per_request for result in mine]
    return Medians(
        throughput=statistics.median(result.throughput for result in mine),
        processed_throughput=_median_of_known(processed),
        cpu_per_request=_median_of_known(cpu),
        p50=statistics.median(result.p50 for result in mine),
        p99=statistics.median(result.p99 for result in mine),
        worst_p99=max(result.p99 for result in mine),
    )


def _median_of_known(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def format_section(
    results: Sequence[RoundResult],
    labels: Sequence[str],
    settings: RunSettings,
    *,
    command: str,
    revision: str,
    api_calls: int,
    logged_errors: dict[str, int],
) -> str:
    """Return the markdown of the section: command, medians, ratios, targets, rounds.

    `labels` lists the targets in round order, and the first one is the baseline.
    `revision` describes the code measured, as report.describe_revision() returns it.
    `logged_errors` counts the ERROR lines in each target's log, by label.
    """
    medians = {label: summarize(results, label) for label in labels}
    parts = [
        "## Events: ordinary chat messages",
        "Signed `message` events, each a person's plain chat in a thread (no caret command), "
        "POSTed to `/slack/events` of caretbot and of a bare Bolt app with one no-op `message` "
        "listener. Each target is served by its own `python -m bench.target` process.",
        "Command, from the repository root with the virtual environment active:",
        f"    {command}",
        f"Run on {revision}. Machine: {report.describe_machine()}",
        _settings_paragraph(results, settings, api_calls, logged_errors),
        f"### Medians over {settings.rounds} {_plural(settings.rounds, 'round')}",
        _medians_table(medians, settings),
        "### caretbot / bare Bolt",
        _ratios_table(medians, labels),
        "### Targets",
        _verdicts(results, medians, labels, settings),
        "### Per round",
        _rounds_table(results, labels[0]),
        _how_to_read(settings),
    ]
    return "\n\n".join(parts)


def _settings_paragraph(
    results: Sequence[RoundResult],
    settings: RunSettings,
    api_calls: int,
    logged_errors: dict[str, int],
) -> str:
    per_round = settings.warmup + settings.requests + settings.open_loop_requests
    requests = len(results) * per_round
    errors = sum(sum(result.errors.values()) for result in results)
    logged = ", ".join(f"{label} {count}" for label, count in logged_errors.items())
    return (
        f"Settings: {settings.rounds} {_plural(settings.rounds, 'round')} per target. "
        f"Throughput: {settings.requests} requests at concurrency {settings.concurrency}, "
        f"after {settings.warmup} warm-up requests. Latency: {settings.rate:g} events/s for "
        f"{settings.duration:g} s ({settings.open_loop_requests} events), open loop. "
        f"Errors: {errors} of {requests} requests failed (a status other than 200, a "
        f"timeout or a dropped connection). ERROR lines in the targets' logs: {logged}. "
        f"Web API calls that the targets made during the rounds: {api_calls}."
    )


def _medians_table(medians: dict[str, Medians], settings: RunSettings) -> str:
    rate = f"{settings.rate:g}/s"
    headers = [
        "Target",
        "Responses/s",
        "Processed events/s",
        "Server CPU (ms/event)",
        f"p50 at {rate} (ms)",
        f"p99 at {rate} (ms)",
    ]
    rows = [
        [
            label,
            f"{figures.throughput:.0f}",
            _rate(figures.processed_throughput),
            _ms(figures.cpu_per_request, 2),
            _ms(figures.p50),
            _ms(figures.p99),
        ]
        for label, figures in medians.items()
    ]
    return report.markdown_table(headers, rows)


def _ratios_table(medians: dict[str, Medians], labels: Sequence[str]) -> str:
    baseline = medians[labels[0]]
    rows = []
    for label in labels[1:]:
        figures = medians[label]
        rows.append(
            [
                label,
                _ratio(figures.throughput, baseline.throughput),
                _ratio(figures.processed_throughput, baseline.processed_throughput),
                _ratio(figures.cpu_per_request, baseline.cpu_per_request),
                _ratio(figures.p50, baseline.p50),
                _ratio(figures.p99, baseline.p99),
            ]
        )
    headers = ["Target", "Responses/s", "Processed events/s", "Server CPU", "p50", "p99"]
    return report.markdown_table(headers, rows)


def _verdicts(
    results: Sequence[RoundResult],
    medians: dict[str, Medians],
    labels: Sequence[str],
    settings: RunSettings,
) -> str:
    baseline = medians[labels[0]]
    lines = []
    for label in labels[1:]:
        figures = medians[label]
        round_ratios = _round_ratios(results, label, labels[0])
        responses = _throughput_verdict(
            "Responses per second", figures.throughput, baseline.throughput
        )
        processed = _throughput_verdict(
            "Processed events per second",
            figures.processed_throughput,
            baseline.processed_throughput,
        )
        p99_met = figures.p99 < P99_TARGET_SECONDS
        p99 = (
            f"The median p99 at {settings.rate:g} events/s is {_ms(figures.p99)} ms, and "
            f"{_ms(figures.worst_p99)} ms in the worst round (target: under "
            f"{P99_TARGET_SECONDS * 1e3:g} ms): {'met' if p99_met else 'NOT met'}."
        )
        lines.append(
            f"- {label}: {responses} Within single rounds that ratio ranged from "
            f"{min(round_ratios):.2f} to {max(round_ratios):.2f}. {processed} {p99}"
        )
    return "\n".join(lines)


def _throughput_verdict(what: str, value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return f"{what}: not measured."
    ratio = value / baseline
    met = ratio >= THROUGHPUT_TARGET_RATIO
    return (
        f"{what} are {ratio:.2f} of bare Bolt's (target: at least "
        f"{THROUGHPUT_TARGET_RATIO:g}): {'met' if met else 'NOT met'}."
    )


def _round_ratios(results: Sequence[RoundResult], label: str, baseline_label: str) -> list[float]:
    baseline_throughput = _throughput_by_round(results, baseline_label)
    return [
        result.throughput / baseline_throughput[result.round]
        for result in results
        if result.label == label
    ]


def _throughput_by_round(results: Sequence[RoundResult], label: str) -> dict[int, float]:
    return {result.round: result.throughput for result in results if result.label == label}


def _processed_by_round(results: Sequence[RoundResult], label: str) -> dict[int, float | None]:
    return {
        result.round: result.processed_throughput for result in results if result.label == label
    }


def _rounds_table(results: Sequence[RoundResult], baseline_label: str) -> str:
    baseline_throughput = _throughput_by_round(results, baseline_label)
    baseline_processed = _processed_by_round(results, baseline_label)
    headers = [
        "Round",
        "Target",
        "Responses/s",
        "/ bare",
        "Processed/s",
        "/ bare",
        "Server CPU (ms/event)",
        "p50 (ms)",
        "p99 (ms)",
        "Max send lag (ms)",
        "Other load (%)",
        "Errors",
    ]
    rows = [
        [
            str(result.round),
            result.label,
            f"{result.throughput:.0f}",
            _ratio(result.throughput, baseline_throughput[result.round]),
            _rate(result.processed_throughput),
            _ratio(result.processed_throughput, baseline_processed[result.round]),
            _ms(result.cpu_per_request, 2),
            _ms(result.p50),
            _ms(result.p99),
            _ms(result.max_send_lag),
            _percent(result.other_load),
            str(sum(result.errors.values())),
        ]
        for result in results
    ]
    return report.markdown_table(headers, rows)


def _how_to_read(settings: RunSettings) -> str:
    events = settings.open_loop_requests
    rank = events - load.nearest_rank(0.99, events) + 1
    lines = [
        "### How to read it",
        "",
        f"- Throughput is closed loop: {settings.concurrency} keep-alive connections each send "
        f"the next request as soon as the previous response arrives. Responses/s is "
        f"{settings.requests} requests divided by the time until the last response arrived.",
        "- Bolt acknowledges an event before its listener runs (process_before_response=False), "
        "so listener work can queue up behind the responses. Processed events/s divides the "
        "same requests by the time until the target process stopped using CPU, so it counts "
        "that backlog. When it is far below responses/s, the app acknowledges events faster "
        "than it can handle them.",
        "- The load generator shares the machine's CPUs with the server, so both figures are "
        "lower bounds on what the server alone could do. Both targets pay the same generator "
        "cost, which is why the ratios are the figures to compare.",
        f"- Server CPU is the user and system time of the target process, all threads, from "
        f"the start of the throughput phase until the process went idle, divided by "
        f"{settings.requests}. It includes the listener, but not the work of a database "
        f"server. It is counted in clock ticks, usually 10 ms each.",
        f"- Latency is open loop: event i is sent at start + i / {settings.rate:g} s, whether or "
        f"not earlier responses have arrived. Its latency runs from that scheduled time to the "
        f"end of its response, so time spent queued counts. The p99 of {events} events is the "
        f"{_ordinal(rank)} slowest (nearest rank). Max send lag is how far the generator fell "
        f"behind its schedule at worst. A lag close to a round's p99 means the generator, not "
        f"the server, was slow in that round.",
        "- Other load is the share of the machine's CPU time in the throughput phase that "
        "neither the load generator nor the measured target used: other processes, the kernel "
        "and time the hypervisor gave to other machines (steal). A PostgreSQL server on the same "
        "machine counts as other load too. A round with high other load measured a slower "
        "machine, so compare it with the rounds beside it.",
        "- Ratios divide caretbot's median by bare Bolt's. A throughput ratio below 1 means "
        "caretbot is slower. For CPU and latency, a ratio above 1 means caretbot is slower.",
        "- Each round measures bare Bolt first, then each caretbot target, so a slow drift in "
        "the machine's load affects every target alike. The per-round ratio compares targets "
        "measured within the same minute.",
    ]
    return "\n".join(lines)


def _ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return "n/a"
    return f"{value / baseline:.2f}"


def _ms(seconds: float | None, digits: int = 1) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.{digits}f}"


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}"


def _rate(per_second: float | None) -> str:
    return "n/a" if per_second is None else f"{per_second:.0f}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
