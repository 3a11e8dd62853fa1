"""Benchmark render_transcript on one long conversation.

    python -m bench.transcript [--messages N] [--runs R]

Builds a conversation of N messages (default 10,000) with markup in most texts, edits,
deletions, files, multi-line texts, and a note and a delivery every 50 messages. After one
untimed render, it renders the transcript R times (default 7) with the garbage collector on,
and prints the median, minimum and maximum wall time and the median CPU time of the process.
Nothing is written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.transcript import (
    TranscriptDelivery,
    TranscriptHeader,
    TranscriptMessage,
    TranscriptNote,
    render_transcript,
)

ZONE = ZoneInfo("America/New_York")
# The conversation crosses New York's switch to daylight saving time at 07:00 UTC.
START = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
USER_NAMES = {f"U{index:04d}": f"Team Member {index}" for index in range(50)}
TEXTS = (
    "Thanks <@U0001>, I'll send the contract over this afternoon.",
    "See <https://jobs.example/req/42?ref=slack&amp;src=dm|the job ad> and <#C0HIRE|hiring>.",
    "Plain words with no markup at all, which most chat is.",
    "Line one of a longer answer\nline two\n\nline four &lt;with brackets&gt;",
    "<!here> the call moved to <!date^1710000000^{date_short} {time}|Mar 9, 11:00>",
    "Mail <mailto:zoe@example.com|zoe@example.com> or ping <!subteam^S0REC|@recruiters>",
)


def build_conversation(
    count: int,
) -> tuple[list[TranscriptMessage], list[TranscriptNote], list[TranscriptDelivery]]:
    messages = []
    notes = []
    deliveries = []
    for index in range(count):
        at = START + timedelta(seconds=37 * index)
        side = ("contact", "team", "bot")[index % 3]
        edited = index % 10 == 0
        messages.append(
            TranscriptMessage(
                ts=f"{int(at.timestamp())}.{index:06d}",
                at=at,
                author_name="Zoë Müller" if side == "contact" else f"Team Member {index % 50}",
                side=side,
                text=TEXTS[index % len(TEXTS)],
                files=("resume.pdf",) if index % 25 == 0 else (),
                edited_at=at + timedelta(minutes=2) if edited else None,
                deleted=index % 97 == 0,
                revisions=("first draft", "second draft") if edited else (),
            )
        )
        if index % 50 == 0:
            notes.append(TranscriptNote(at, "Team Member 1", "Follow up with <@U0002>"))
            deliveries.append(
                TranscriptDelivery(at, "Team Member 1", "Qualified", 4, "Strong", ("U0003",))
            )
    return messages, notes, deliveries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages to render")
    parser.add_argument("--runs", type=int, default=7, help="number of timed renders")
    options = parser.parse_args(argv)

    messages, notes, deliveries = build_conversation(options.messages)
    header = TranscriptHeader("Zoë Müller", "Backend Engineer", "Team Member 1", START)

    def render() -> str:
        return render_transcript(
            header, messages, notes, deliveries, zone=ZONE, user_names=USER_NAMES
        )

    transcript = render()
    seconds = []
    cpu_seconds = []
    for _ in range(options.runs):
        started = time.perf_counter()
        cpu_started = time.process_time()
        render()
        cpu_seconds.append(time.process_time() - cpu_started)
        seconds.append(time.perf_counter() - started)

    print(
        f"render_transcript: {options.messages} messages, {len(notes)} notes, "
        f"{len(deliveries)} deliveries, {transcript.count(chr(10))} lines, "
        f"{len(transcript.encode('utf-8'))} bytes"
    )
    wall = f"median {statistics.median(seconds) * 1000:.1f} ms"
    spread = f"min {min(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"
    cpu = f"median CPU {statistics.median(cpu_seconds) * 1000:.1f} ms"
    machine = f"Python {platform.python_version()}, {platform.machine()}"
    print(f"{wall}, {spread}, {cpu} over {options.runs} runs ({machine})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
