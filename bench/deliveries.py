"""Time ^deliver's Done: from the signed submission to its acknowledgement and the first DM.

caretbot runs in this process (bot.serving.LocalBot, with its outbox) against a Slack double,
so the double's clock and the timer here are the same monotonic clock. Each delivery gets its
own thread, contact and step-1 draft first, untimed; then the Done submission is posted and
timed. The delivery is stored before the acknowledgement, so the acknowledgement time
includes the stored delivery.

    python -m bench.deliveries [--count 200] [--postgres URL] [--doc PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.report import (
    DOC_PATH,
    describe_machine,
    describe_revision,
    markdown_table,
    write_section,
)
from bot import ids
from bot.serving import LocalBot
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import new_ts, view_submission
from bot.threads import ThreadRef
from storage import migrate
from storage.contacts import (
    link_conversation,
    set_active_application,
    upsert_application,
    upsert_contact,
)
from storage.conversations import ensure_workspace

TEAM = "T0DOUBLE"
CHANNEL = "C0BENCH"
AGENT = "U0AGENT"
RECRUITER = "U0RECRUIT"
SECRET = "bench-secret"
ACK_TARGET_MS = 100
DM_TARGET_MS = 300


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of the values."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def prepare(bot: LocalBot, slack: SlackDouble, number: int) -> str:
    """Store a contact and a draft for one delivery; return the draft's view id."""
    root = new_ts()
    slack.add_message(CHANNEL, root, AGENT, f"Candidate {number}")
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = upsert_contact(
            session, workspace_id=TEAM, name=f"Candidate {number}", email=f"c{number}@example.com"
        ).contact
        application = upsert_application(
            session, contact_id=contact.id, job_title="Data Engineer", source="linkedin"
        ).application
        set_active_application(session, application)
        link_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root, contact_id=contact.id
        )
    view_id = f"VBENCH{number:05d}"
    values = {
        ids.DELIVER_APPLICATION_BLOCK: {
            ids.DELIVER_APPLICATION_INPUT: _select(f"app:{application.id}")
        },
        ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: _select("qualified")},
        ids.DELIVER_NOTES_BLOCK: {
            ids.DELIVER_NOTES_INPUT: {"type": "plain_text_input", "value": "Strong SQL."}
        },
        ids.DELIVER_RATING_BLOCK: {ids.DELIVER_RATING_INPUT: _select("4", kind="radio_buttons")},
    }
    step1 = view_submission(
        ids.DELIVER_MODAL,
        user=AGENT,
        values=values,
        private_metadata=ThreadRef(TEAM, CHANNEL, root).to_metadata(),
        view_id=view_id,
        trigger_id="1.2.bench",
        hash="bench",
    )
    status, _headers, body = bot.post(step1)
    if status != 200 or json.loads(body).get("response_action") != "push":
        raise RuntimeError(f"step 1 of delivery {number} failed: HTTP {status} {body[:200]!r}")
    return view_id


def _select(value: str, *, kind: str = "static_select") -> dict:
    return {"type": kind, "selected_option": {"value": value}}


def deliver(bot: LocalBot, slack: SlackDouble, view_id: str, number: int) -> tuple[float, float]:
    """Post Done for a prepared draft; return the seconds to the ack and to the first DM."""
    done = view_submission(
        ids.DELIVER_RECIPIENTS_MODAL,
        user=AGENT,
        values={
            ids.DELIVER_USERS_BLOCK: {
                ids.DELIVER_USERS_INPUT: {
                    "type": "multi_users_select",
                    "selected_users": [RECRUITER],
                }
            }
        },
        private_metadata=json.dumps({"draft": view_id}),
        view_id=f"{view_id}P",
        trigger_id="1.2.bench",
        hash="bench",
    )
    started = time.monotonic()
    status, _headers, body = bot.post(done)
    acknowledged = time.monotonic()
    if status != 200 or json.loads(body) != {"response_action": "clear"}:
        raise RuntimeError(f"Done of delivery {number} failed: HTTP {status} {body[:200]!r}")
    dms = slack.wait_for(
        "chat.postMessage",
        count=number + 1,
        timeout=30,
        where=lambda call: call.args.get("channel") == RECRUITER,
    )
    return acknowledged - started, dms[number].at - started


def run(db_url: str, count: int) -> tuple[list[float], list[float]]:
    migrate.upgrade(db_url)
    with SlackDouble(team_id=TEAM) as slack:
        slack.add_user(AGENT, "ann")
        slack.add_user(RECRUITER, "rita")
        slack.add_channel(CHANNEL, "bench", members=[AGENT])
        bot = LocalBot(slack, db_url, signing_secret=SECRET).start()
        try:
            drafts = [prepare(bot, slack, number) for number in range(count)]
            bot.executor.wait_idle()
            acks: list[float] = []
            first_dms: list[float] = []
            for number, view_id in enumerate(drafts):
                ack, first_dm = deliver(bot, slack, view_id, number)
                acks.append(ack)
                first_dms.append(first_dm)
        finally:
            bot.stop()
    return acks, first_dms


def _row(name: str, acks: list[float], dms: list[float]) -> list[str]:
    def ms(value: float) -> str:
        return f"{value * 1000:.1f}"

    return [
        name,
        ms(statistics.median(acks)),
        ms(percentile(acks, 0.99)),
        ms(statistics.median(dms)),
        ms(percentile(dms, 0.99)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="deliveries to time")
    parser.add_argument("--postgres", metavar="URL", help="also run on this empty database")
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="page to write the section to")
    args = parser.parse_args(argv)

    results: list[tuple[str, list[float], list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="caretbot-bench-") as folder:
        acks, dms = run(f"sqlite:///{Path(folder) / 'bench.db'}", args.count)
        results.append(("SQLite", acks, dms))
    if args.postgres:
        acks, dms = run(args.postgres, args.count)
        results.append(("PostgreSQL", acks, dms))

    rows = [_row(name, acks, dms) for name, acks, dms in results]
    verdicts = []
    for name, acks, dms in results:
        ack_p99, dm_p99 = percentile(acks, 0.99) * 1000, percentile(dms, 0.99) * 1000
        verdicts.append(
            f"- {name}: acknowledgement p99 {ack_p99:.1f} ms (target under {ACK_TARGET_MS} ms: "
            f"{'met' if ack_p99 < ACK_TARGET_MS else 'NOT met'}); first DM p99 {dm_p99:.1f} ms "
            f"(target under {DM_TARGET_MS} ms: {'met' if dm_p99 < DM_TARGET_MS else 'NOT met'})."
        )
    command = "python -m bench.deliveries" + (" --postgres URL" if args.postgres else "")
    section = "\n".join(
        [
            "## Deliveries: from Done to the first hand-off DM",
            "",
            f"{args.count} deliveries, one at a time, each to one Slack user. The timer starts "
            "before the signed Done submission (the second step of the ^deliver modal) is "
            "posted. The acknowledgement is the HTTP response, after the delivery, its "
            "recipient and its outbox rows are committed. The first DM is when the Slack "
            "double received the hand-off's chat.postMessage from the outbox worker, which "
            "also calls users.info and chat.getPermalink first.",
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
                    "Ack median (ms)",
                    "Ack p99 (ms)",
                    "First DM median (ms)",
                    "First DM p99 (ms)",
                ],
                rows,
            ),
            "",
            *verdicts,
        ]
    )
    write_section(args.doc, "deliveries", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
