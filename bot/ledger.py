"""Handle each Slack event once, across retries, redeliveries, processes and restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from storage.db import SessionScope
from storage.events import claim_event, purge_events
from storage.models import utcnow

# Slack retries a failed event delivery three times within about five minutes. A day of keys
# also covers a Socket Mode reconnect that redelivers what was not acknowledged.
KEEP_EVENT_IDS = timedelta(days=1)
PURGE_EVERY = timedelta(hours=1)


class EventLedger:
    """Remembers handled event ids in the database and purges old ones now and then."""

    def __init__(
        self,
        session_scope: SessionScope,
        *,
        keep: timedelta = KEEP_EVENT_IDS,
        purge_every: timedelta = PURGE_EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_scope = session_scope
        self._keep = keep
        self._purge_every = purge_every
        self._clock = clock
        self._lock = threading.Lock()
        self._next_purge = clock()

    def first_time(self, event_id: str) -> bool:
        """Claim the event id; return False when it was handled before."""
        now = self._clock()
        with self._lock:
            purge_due = now >= self._next_purge
            if purge_due:
                self._next_purge = now + self._purge_every
        with self._session_scope() as session:
            fresh = claim_event(session, event_id, now=now)
            if purge_due:
                purge_events(session, older_than=now - self._keep)
        return fresh
