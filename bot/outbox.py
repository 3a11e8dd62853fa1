"""Send outbox messages after their commit, retrying what Slack or the network delays."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage.db import SessionScope
from storage.models import OutboxMessage, utcnow
from storage.outbox import claim_due, mark_failed, mark_retry, mark_sent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=5)
LEASE = timedelta(minutes=2)
POLL_INTERVAL = 5.0  # seconds between looks for due messages when nobody wakes the worker


@dataclass(frozen=True)
class Landed:
    """The channel and ts of a sent message, kept so the message can be updated later."""

    channel_id: str | None = None
    message_ts: str | None = None
    # True when the sender marked the row sent itself, in the transaction of its own writes.
    recorded: bool = False


class PermanentFailure(Exception):
    """A send that retrying cannot fix; the message says why."""


class TransientFailure(Exception):
    """A send that the other side asked to try again later, such as an SMTP 4xx reply."""


Sender = Callable[[OutboxMessage, WebClient], Landed | None]


class OutboxWorker:
    """Sends due outbox messages on a background thread, or on demand with run_once()."""

    def __init__(
        self,
        session_scope: SessionScope,
        client: WebClient,
        senders: dict[str, Sender],
        *,
        on_failure: Callable[[OutboxMessage, str], None] | None = None,
        on_start: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self._session_scope = session_scope
        self._client = client
        self._senders = senders
        self._on_failure = on_failure
        self.on_start = on_start  # runs once on the worker thread, before its first round
        self._clock = clock
        self._poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        """Look for due messages now, for example right after a commit that added some."""
        self._wake.set()

    def _loop(self) -> None:
        start_task = self.on_start
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if start_task is not None:
                    start_task()
                    start_task = None
                while self.run_once():
                    pass
            except Exception:
                # The database may be briefly unreachable; the next round tries again.
                log.exception("outbox round failed")
            self._wake.wait(self._poll_interval)

    def run_once(self) -> int:
        """Send every message due now; return how many were tried."""
        with self._run_lock:
            now = self._clock()
            with self._session_scope() as session:
                due = claim_due(session, now=now, lease=LEASE)
            for message in due:
                self._send(message)
            return len(due)

    def _send(self, message: OutboxMessage) -> None:
        assert message.id is not None
        sender = self._senders.get(message.kind)
        fields = f"outbox_id={message.id} kind={message.kind} delivery={message.delivery_id}"
        try:
            if sender is None:
                raise PermanentFailure(f"no sender for outbox kind {message.kind!r}")
            landed = sender(message, self._client) or Landed()
        except SlackApiError as failure:
            self._after_slack_error(message, failure, fields)
            return
        except PermanentFailure as failure:
            self._fail(message, str(failure), fields)
            return
        except TransientFailure as failure:
            self._retry_later(message, str(failure), None, fields)
            return
        except OSError as failure:
            self._retry_later(message, f"network error: {failure}", None, fields)
            return
        except Exception as failure:  # noqa: BLE001 (a bug or a database error in one sender)
            # Raising here would end the round, so the rest of the claimed batch would stay
            # leased until LEASE runs out, and this message would stall every later batch.
            # Counted as an attempt instead, it fails for good after MAX_ATTEMPTS.
            log.exception("outbox sender raised %s", fields)
            self._retry_later(message, f"unexpected error: {failure!r}", None, fields)
            return

        if not landed.recorded:
            with self._session_scope() as session:
                mark_sent(
                    session, message.id, channel_id=landed.channel_id, message_ts=landed.message_ts
                )
        log.info("outbox sent %s attempts=%s", fields, message.attempts + 1)

    def _after_slack_error(
        self, message: OutboxMessage, failure: SlackApiError, fields: str
    ) -> None:
        assert message.id is not None
        status = failure.response.status_code
        error = failure.response.get("error") or f"HTTP {status}"
        if status == 429:
            retry_after = failure.response.headers.get(
                "Retry-After"
            ) or failure.response.headers.get("retry-after")
            delay = timedelta(seconds=int(retry_after)) if str(retry_after).isdigit() else None
            self._retry_later(message, "ratelimited", delay, fields)
        elif status >= 500:
            self._retry_later(message, f"HTTP {status}", None, fields)
        else:
            self._fail(message, error, fields)

    def _fail(self, message: OutboxMessage, error: str, fields: str) -> None:
        assert message.id is not None
        log.warning("outbox send failed %s error=%s", fields, error)
        with self._session_scope() as session:
            mark_failed(session, message.id, error=error)
        if self._on_failure is not None:
            self._on_failure(message, error)

    def _retry_later(
        self, message: OutboxMessage, error: str, delay: timedelta | None, fields: str
    ) -> None:
        assert message.id is not None
        attempts = message.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self._fail(message, f"{error} (after {attempts} attempts)", fields)
            return
        if delay is None:
            # Exponential backoff with jitter, so several processes do not retry in step.
            seconds = min(2**attempts, MAX_BACKOFF.total_seconds())
            delay = timedelta(seconds=seconds * random.uniform(0.5, 1.0))
        log.info(
            "outbox retry %s attempts=%s error=%s in=%.1fs",
            fields,
            attempts,
            error,
            delay.total_seconds(),
        )
        with self._session_scope() as session:
            mark_retry(session, message.id, error=error, next_attempt_at=self._clock() + delay)
        self._wake_at(delay)

    def _wake_at(self, delay: timedelta) -> None:
        if delay.total_seconds() < self._poll_interval:
            timer = threading.Timer(delay.total_seconds(), self._wake.set)
            timer.daemon = True
            timer.start()
