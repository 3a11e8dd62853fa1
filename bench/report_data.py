"""Generate a workspace with a million deliveries for the /caret-report benchmark.

The data spreads over two years up to the time of generation, with more work on weekdays
and in office hours, and a workload that grows over time. Each conversation has one to
five messages that alternate between the team and the contact, about one in eleven
conversations is delivered twice, and sources, agents, jobs and statuses follow skewed
weights. The response-time figures are stored with each delivery, as a report leaves them
after its first run. The clock figures follow from the generated messages. The
working-hours figures are a random 20 % to 50 % of them, not computed from a schedule.

Rows go in with executemany on SQLite and COPY on PostgreSQL, 50,000 at a time, into a
database migrated to head. A database that already holds data of the same size and seed
is reused.

    python -m bench.report_data --db sqlite:////tmp/caretbot-report-bench.db [--deliveries N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from storage import migrate
from storage.db import create_db_engine

TEAM = "T0BENCH"
GENERATOR_SETTING = "bench_report_data"
GENERATOR_VERSION = 2
SPAN_DAYS = 730
BATCH = 50_000
CHANNELS = 200

SOURCES = (
    ("linkedin", 30), ("indeed", 18), ("referral", 12), ("careers-site", 10),
    ("glassdoor", 6), ("stackoverflow", 4), ("github", 3), ("agency", 3), ("meetup", 2),
    ("event", 2), ("twitter", 1), (None, 9),
)  # fmt: skip
MEDIUMS = (
    ("paid-social", 30), ("organic", 30), ("paid-search", 15), ("email", 10), (None, 15),
)  # fmt: skip
STATUSES = (
    ("qualified", 20), ("review", 10), ("not_qualified", 30), ("not_interested", 20),
    ("spam", 10), ("other", 10),
)  # fmt: skip
REASONS = {
    "not_qualified": ("No SQL", "Too junior", "Location", "Salary", "Other"),
    "not_interested": ("Accepted another offer", "Salary", "Remote only", "Other"),
}
CAMPAIGNS = tuple(f"campaign-{number:02d}" for number in range(30))
JOBS = tuple(f"Job title {number:02d}" for number in range(50))
AGENTS = tuple(f"U0AGENT{number:02d}" for number in range(40))
RECRUITERS = tuple(f"U0RECRUIT{number:02d}" for number in range(20))


def _choice(rng: np.random.Generator, options: Sequence[tuple[Any, int]], size: int) -> list:
    weights = np.array([weight for _value, weight in options], dtype=float)
    picks = rng.choice(len(options), size=size, p=weights / weights.sum())
    return [options[index][0] for index in picks]


def _zipf_pick(rng: np.random.Generator, values: Sequence[Any], size: int) -> list:
    weights = 1.0 / np.arange(1, len(values) + 1)
    picks = rng.choice(len(values), size=size, p=weights / weights.sum())
    return [values[index] for index in picks]


def _start_times(rng: np.random.Generator, count: int, end: float) -> np.ndarray:
    """Return conversation start times in seconds since the epoch, weighted as described."""
    first_day = end - SPAN_DAYS * 86400
    days = np.arange(SPAN_DAYS)
    weekday = (((first_day // 86400) + days + 3) % 7) < 5  # 1970-01-01 was a Thursday
    weights = np.where(weekday, 1.0, 0.25) * (1.0 + days / SPAN_DAYS)
    picked = rng.choice(SPAN_DAYS, size=count, p=weights / weights.sum())
    hour = np.clip(rng.normal(12.5, 3.0, size=count), 0, 23.99)
    return first_day + picked * 86400.0 + hour * 3600.0


def _lognormal(rng: np.random.Generator, median_seconds: float, size: int) -> np.ndarray:
    return rng.lognormal(np.log(median_seconds), 1.0, size=size)


class Writer:
    """Bulk insert rows into one table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    def stamp(self, seconds: float | None) -> str | None:
        """Return a naive UTC timestamp as the columns store it; SQLAlchemy writes %f."""
        if seconds is None:
            return None
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def boolean(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def insert(self, table: str, columns: Sequence[str], rows: Iterator[tuple]) -> int:
        count = 0
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    self._write(cursor, table, columns, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self._write(cursor, table, columns, batch)
                count += len(batch)
            connection.commit()
        finally:
            connection.close()
        return count

    def _write(self, cursor: Any, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def existing_generation(engine: sa.Engine) -> dict[str, Any] | None:
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT value FROM workspacesetting WHERE workspace_id = :team AND key = :key"),
            {"team": TEAM, "key": GENERATOR_SETTING},
        ).scalar()
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else value


def generate(db_url: str, deliveries: int, *, seed: int = 7, log: Callable = print) -> dict:
    """Fill the database unless it contains this generation already; return its description."""
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    try:
        found = existing_generation(engine)
        expected = {"version": GENERATOR_VERSION, "deliveries": deliveries, "seed": seed}
        if found and all(found.get(key) == value for key, value in expected.items()):
            log(f"reusing the data generated at {found['generated_at']}")
            return found
        if found:
            raise SystemExit(
                f"{db_url} already contains other generated data ({found}): give an empty database."
            )
        description = _fill(engine, deliveries, seed, log)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO workspacesetting (workspace_id, key, value, updated_at) "
                    "VALUES (:team, :key, :value, :now)"
                ),
                {
                    "team": TEAM,
                    "key": GENERATOR_SETTING,
                    "value": json.dumps(description),
                    "now": datetime.now(UTC).replace(tzinfo=None),
                },
            )
            # Fresh statistics, so that both planners see the real sizes.
            connection.execute(sa.text("ANALYZE"))
        return description
    finally:
        engine.dispose()


def _fill(engine: sa.Engine, deliveries: int, seed: int, log: Callable) -> dict:
    rng = np.random.default_rng(seed)
    writer = Writer(engine)
    stamp = writer.stamp
    now = time.time()
    conversations = round(deliveries / 1.1)
    second_deliveries = deliveries - conversations
    started = time.monotonic()

    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO workspace (id, name, created_at) VALUES (:id, :name, :at)"),
            {"id": TEAM, "name": "Benchmark", "at": datetime.now(UTC).replace(tzinfo=None)},
        )

    # Conversations in the order they started, as caretbot stores them, and their messages.
    starts = np.sort(_start_times(rng, conversations, now - 10 * 86400))
    message_counts = rng.choice([1, 2, 3, 4, 5], size=conversations, p=[0.15, 0.2, 0.3, 0.2, 0.15])
    contact_first = rng.random(conversations) < 0.1
    total = int(message_counts.sum())
    owner = np.repeat(np.arange(conversations), message_counts)
    first_of_owner = np.repeat(np.cumsum(message_counts) - message_counts, message_counts)
    number = np.arange(total) - first_of_owner
    gaps = np.where(number == 0, 0.0, _lognormal(rng, 2 * 3600, total))
    cumulative = np.cumsum(gaps)
    message_at = starts[owner] + cumulative - cumulative[first_of_owner]
    # Sides alternate from the first writer. Each reply's gap is its response time, and each
    # side's first reply is its first response time.
    is_contact = contact_first[owner] ^ (number % 2 == 1)
    last_message = message_at[np.cumsum(message_counts) - 1]
    figures = np.full((conversations, 4), np.nan)  # first reply, first response, means
    for column, side_mask in ((0, is_contact), (1, ~is_contact)):
        replies = np.flatnonzero(side_mask & (number > 0))
        sums = np.bincount(owner[replies], weights=gaps[replies], minlength=conversations)
        counts = np.bincount(owner[replies], minlength=conversations)
        # np.unique returns the first index of each owner, which is its earliest reply.
        firsts = replies[np.unique(owner[replies], return_index=True)[1]]
        figures[owner[firsts], column] = gaps[firsts]
        replied = counts > 0
        figures[replied, column + 2] = sums[replied] / counts[replied]

    # Contacts, applications (one per conversation and 10 % more), conversations.
    applied = starts - _lognormal(rng, 3 * 86400, conversations)
    count = writer.insert(
        "contact",
        ("id", "workspace_id", "name", "email", "phone", "slack_user_id", "created_at"),
        (
            (number + 1, TEAM, f"Candidate {number}", f"c{number}@example.com", None, None,
             stamp(applied[number] + 60))
            for number in range(conversations)
        ),
    )  # fmt: skip
    sources = _choice(rng, SOURCES, conversations)
    mediums = _choice(rng, MEDIUMS, conversations)
    campaigns = [
        value if rng_value < 0.5 else None
        for value, rng_value in zip(
            _zipf_pick(rng, CAMPAIGNS, conversations), rng.random(conversations), strict=True
        )
    ]
    jobs = _zipf_pick(rng, JOBS, conversations)
    extra = conversations // 10
    extra_contacts = rng.integers(0, conversations, size=extra)
    extra_applied = now - rng.random(extra) * SPAN_DAYS * 86400

    def application_rows() -> Iterator[tuple]:
        for number in range(conversations):
            yield (
                number + 1, number + 1, jobs[number], "Remote", None, sources[number],
                mediums[number], campaigns[number], None, stamp(applied[number]),
                writer.boolean(True), "delivered", stamp(applied[number] + 60),
            )  # fmt: skip
        for offset in range(extra):
            yield (
                conversations + offset + 1, int(extra_contacts[offset]) + 1, jobs[offset],
                None, None, sources[offset], None, None, None, stamp(extra_applied[offset]),
                writer.boolean(False), "open", stamp(extra_applied[offset] + 60),
            )  # fmt: skip

    count += writer.insert(
        "jobapplication",
        ("id", "contact_id", "job_title", "job_location", "requisition_id", "source", "medium",
         "campaign", "referrer", "applied_at", "active", "state", "created_at"),
        application_rows(),
    )  # fmt: skip
    count += writer.insert(
        "conversation",
        ("id", "workspace_id", "channel_id", "thread_ts", "contact_id", "state", "unread",
         "created_at"),
        (
            (number + 1, TEAM, f"C0BENCH{number % CHANNELS:03d}",
             f"{int(starts[number])}.{number // CHANNELS:06d}", number + 1, "delivered",
             writer.boolean(False), stamp(starts[number]))
            for number in range(conversations)
        ),
    )  # fmt: skip
    log(f"contacts, applications, conversations: {count} in {time.monotonic() - started:.0f} s")

    def message_rows() -> Iterator[tuple]:
        # In time order, as messages arrive.
        for index in np.argsort(message_at, kind="stable"):
            conversation = int(owner[index])
            side = "contact" if is_contact[index] else "team"
            serial = (conversation // CHANNELS) * 8 + int(number[index])
            yield (
                TEAM,
                conversation + 1,
                f"C0BENCH{conversation % CHANNELS:03d}",
                f"{int(starts[conversation])}.{conversation // CHANNELS:06d}",
                f"{int(message_at[index])}.{serial:06d}",
                "U0CONTACT" if side == "contact" else AGENTS[conversation % len(AGENTS)],
                None,
                side,
                None,
                "Generated message",
                "[]",
                stamp(message_at[index]),
                None,
                None,
            )

    count = writer.insert(
        "message",
        ("workspace_id", "conversation_id", "channel_id", "thread_ts", "ts", "user_id", "bot_id",
         "side", "subtype", "text", "file_names", "received_at", "edited_at", "deleted_at"),
        message_rows(),
    )  # fmt: skip
    log(f"messages: {count} in {time.monotonic() - started:.0f} s")

    # Deliveries: one per conversation, and a second one for some, and their recipients.
    delivered = last_message + _lognormal(rng, 86400, conversations)
    again = rng.choice(conversations, size=second_deliveries, replace=False)
    redelivered = delivered[again] + _lognormal(rng, 5 * 86400, second_deliveries)
    # Delivery ids in time order, as caretbot stores them; a second delivery names the first.
    unordered_at = np.minimum(np.concatenate([delivered, redelivered]), now - 60)
    order = np.argsort(unordered_at, kind="stable")
    delivered_at = unordered_at[order]
    conversation_of = np.concatenate([np.arange(conversations), again])[order]
    first_delivery_id = np.empty(conversations, dtype=np.int64)
    is_first = order < conversations
    first_delivery_id[conversation_of[is_first]] = np.flatnonzero(is_first) + 1
    statuses = _choice(rng, STATUSES, deliveries)
    agents = _zipf_pick(rng, AGENTS, deliveries)
    working_share = rng.uniform(0.2, 0.5, size=(deliveries, 4))

    def delivery_rows() -> Iterator[tuple]:
        for number in range(deliveries):
            conversation = int(conversation_of[number])
            status = statuses[number]
            reasons = REASONS.get(status)
            reason = reasons[number % len(reasons)] if reasons else None
            clock = figures[conversation]
            values = []
            for index in range(4):
                seconds = None if np.isnan(clock[index]) else float(clock[index])
                work = None if seconds is None else seconds * working_share[number, index]
                values.extend((work, seconds))
            yield (
                number + 1, TEAM, conversation + 1, conversation + 1, conversation + 1,
                None if is_first[number] else int(first_delivery_id[conversation]),
                f"bench-{number}",
                status, reason, "Generated reason" if reason else None, "Generated notes",
                4 if status in ("qualified", "review") else None, agents[number],
                stamp(delivered_at[number]), *values, stamp(delivered_at[number]),
            )  # fmt: skip

    count = writer.insert(
        "delivery",
        ("id", "workspace_id", "conversation_id", "contact_id", "application_id",
         "previous_delivery_id", "submission_key", "status", "reason", "reason_text", "notes",
         "rating", "delivered_by", "delivered_at", "contact_first_reply_work",
         "contact_first_reply_clock", "team_first_response_work", "team_first_response_clock",
         "contact_response_work", "contact_response_clock", "team_response_work",
         "team_response_clock", "figures_at"),
        delivery_rows(),
    )  # fmt: skip
    recipient_counts = rng.choice([1, 2], size=deliveries, p=[0.8, 0.2])

    def recipient_rows() -> Iterator[tuple]:
        for number in range(deliveries):
            if statuses[number] not in ("qualified", "review"):
                continue
            for offset in range(recipient_counts[number]):
                user = RECRUITERS[(number + offset) % len(RECRUITERS)]
                yield (number + 1, "user", user, None, None, "notified", None, None, None)

    count += writer.insert(
        "deliveryrecipient",
        ("delivery_id", "kind", "user_id", "team_id", "email", "state", "error", "accepted_by",
         "accepted_at"),
        recipient_rows(),
    )  # fmt: skip
    log(f"deliveries and recipients: {count} in {time.monotonic() - started:.0f} s")
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("contact", "jobapplication", "conversation", "delivery"):
                connection.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    return {
        "version": GENERATOR_VERSION,
        "deliveries": deliveries,
        "seed": seed,
        "conversations": conversations,
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL, outside the repository")
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.db, args.deliveries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
