"""Build and publish each user's App Home, and rebuild it after changes that affect it.

Slack does not tell an app who has its home open, so caretbot rebuilds the home of the users
who opened it in the last RECENT_VIEWER_HOURS, and of those only the users a change affects:

- a conversation starts or stops waiting: its holder, or everyone when nobody holds it;
- a waiting conversation is claimed or taken over: the new and the previous holder, or
  everyone when nobody held it before;
- a delivery is stored or accepted: its recipients, the members of its teams included.

Changes only queue a note here. One background thread turns the notes into users, waits
REFRESH_DELAY_SECONDS so a burst of changes costs one rebuild, and rebuilds each user's home
at most once per MIN_INTERVAL_SECONDS, because Slack rate limits views.publish. For the same
reason, the thread stops at MAX_REBUILDS_PER_MINUTE homes a minute per workspace, counting
the homes published on opening, and homes past that wait their turn.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.commands.stat import WORKING_HOURS_SETTING, describe_schedule
from bot.recording import ThreadChanges
from bot.threads import ThreadRef
from bot.views.home import MAX_ROWS, HomeContent, home_view
from bot.working_hours import WorkingHours
from storage.db import SessionScope
from storage.messages import find_contact_by_slack_user
from storage.models import utcnow
from storage.queue import (
    delivery_workspace,
    find_thread_conversation,
    handoff_users,
    handoffs_for,
    recent_home_viewers,
    record_home_opened,
    waiting_queue,
)
from storage.settings import get_setting

log = logging.getLogger(__name__)

RECENT_VIEWER_HOURS = 8
REFRESH_DELAY_SECONDS = 2.0
MIN_INTERVAL_SECONDS = 10.0
# NOTE: an estimate of a safe rate, not measured against Slack, which rate limits
# views.publish per app and workspace.
MAX_REBUILDS_PER_MINUTE = 90
# A viewer's users.info profile is read again after this long, in case they moved to another
# time zone or an admin made them a guest (or a full member).
PROFILE_TTL_SECONDS = 600.0

# A home to rebuild: (workspace id, user id).
HomeKey = tuple[str, str]


@dataclass(frozen=True)
class ViewerProfile:
    """The fields of a viewer's users.info that their home uses."""

    time_zone: str
    guest: bool  # a multi-channel (is_restricted) or single-channel (is_ultra_restricted) guest


@dataclass(frozen=True)
class ThreadChange:
    """A conversation started or stopped waiting, changed holder (`claim`), or both."""

    thread: ThreadRef
    waiting_changed: bool = False
    claim: bool = False
    previous_holder: str | None = None


@dataclass(frozen=True)
class DeliveryChange:
    """A delivery was stored or one of its recipients accepted it."""

    delivery_id: int


class RefreshSchedule:
    """When each home is due for a rebuild; times are seconds of one monotonic clock.

    A home is due `delay` after the first change that affects it, and never sooner than
    `min_interval` after its last rebuild. Later changes before it is due add nothing. A
    workspace gets at most `max_per_minute` rebuilds in any 60 seconds, so further homes
    stay due until one of the last rebuilds is a minute old.
    """

    WINDOW_SECONDS = 60.0

    def __init__(
        self, *, delay: float, min_interval: float, max_per_minute: int = MAX_REBUILDS_PER_MINUTE
    ) -> None:
        if max_per_minute < 1:
            raise ValueError(f"max_per_minute must be at least 1, got {max_per_minute}")
        self._delay = delay
        self._min_interval = min_interval
        self._max_per_minute = max_per_minute
        self._due: dict[HomeKey, float] = {}
        self._last: dict[HomeKey, float] = {}
        # The times of each workspace's latest rebuilds; only the last max_per_minute matter.
        self._rebuilds: dict[str, deque[float]] = {}

    def add(self, key: HomeKey, now: float) -> None:
        if key in self._due:
            return
        earliest = self._last.get(key, float("-inf")) + self._min_interval
        self._due[key] = max(now + self._delay, earliest)

    def published(self, key: HomeKey, now: float) -> None:
        self._last[key] = now
        times = self._rebuilds.setdefault(key[0], deque(maxlen=self._max_per_minute))
        times.append(now)

    def next_due(self) -> float | None:
        """Return when the next home may be rebuilt, or None when none is due."""
        return min((self._start(key, at) for key, at in self._due.items()), default=None)

    def take_due(self, now: float) -> list[HomeKey]:
        """Remove and return the homes that may be rebuilt at `now`, oldest due first."""
        due = sorted((at, key) for key, at in self._due.items() if at <= now)
        room: dict[str, int] = {}
        taken = []
        for _at, key in due:
            team = key[0]
            if team not in room:
                room[team] = self._room(team, now)
            if room[team] <= 0:
                continue
            room[team] -= 1
            taken.append(key)
            del self._due[key]
        # A rebuild older than min_interval no longer delays the next one.
        self._last = {k: at for k, at in self._last.items() if at + self._min_interval > now}
        return taken

    def _room(self, team: str, now: float) -> int:
        times = self._rebuilds.get(team, ())
        in_window = sum(1 for at in times if at > now - self.WINDOW_SECONDS)
        return self._max_per_minute - in_window

    def _start(self, key: HomeKey, due_at: float) -> float:
        times = self._rebuilds.get(key[0])
        if times is None or len(times) < self._max_per_minute:
            return due_at
        # The window has room again once the oldest of the last max_per_minute rebuilds
        # is a minute old.
        return max(due_at, times[0] + self.WINDOW_SECONDS)

    def take_all(self) -> list[HomeKey]:
        keys = sorted(self._due, key=self._due.__getitem__)
        self._due.clear()
        return keys


class HomeRefresher:
    """Publishes App Homes: at once when a user opens theirs, later after a change.

    The background thread starts with the first change; stop() ends it and drops what is
    still due.
    """

    def __init__(
        self,
        session_scope: SessionScope,
        client: WebClient,
        *,
        delay: float = REFRESH_DELAY_SECONDS,
        min_interval: float = MIN_INTERVAL_SECONDS,
        max_per_minute: int = MAX_REBUILDS_PER_MINUTE,
        recent_hours: float = RECENT_VIEWER_HOURS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_scope = session_scope
        self._client = client
        self._commands: Collection[str] = ()
        self._recent = timedelta(hours=recent_hours)
        self._clock = clock
        self._schedule = RefreshSchedule(
            delay=delay, min_interval=min_interval, max_per_minute=max_per_minute
        )
        self._wake = threading.Condition()
        self._changes: list[ThreadChange | DeliveryChange] = []
        self._flushes: list[threading.Event] = []
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._workspace_url: str | None = None
        self._profiles: dict[str, tuple[ViewerProfile, float]] = {}

    def use_commands(self, commands: Collection[str]) -> None:
        """List these caret commands in the help part; the collection is read at every build."""
        self._commands = commands

    # Called by the flows that change what a home shows

    def opened(self, team: str, user: str) -> None:
        """Record that the user opened the home, and publish it on the calling thread."""
        with self._session_scope() as session:
            record_home_opened(session, workspace_id=team, user_id=user)
        self.publish(team, user)

    def thread_changed(
        self,
        thread: ThreadRef,
        *,
        waiting_changed: bool = False,
        claim: bool = False,
        previous_holder: str | None = None,
    ) -> None:
        """Queue a change of a conversation's wait (`waiting_changed`) or holder (`claim`)."""
        change = ThreadChange(
            thread, waiting_changed=waiting_changed, claim=claim, previous_holder=previous_holder
        )
        self._add(change)

    def delivery_changed(self, delivery_id: int) -> None:
        # NOTE: an email recipient reaches a Slack user only once the outbox has looked the
        # address up. When that happens after this change is read, the user's home shows
        # the hand-off at their next visit.
        self._add(DeliveryChange(delivery_id))

    def recorded(self, changes: Iterable[tuple[ThreadRef, ThreadChanges]]) -> None:
        """Take the changes that stored messages made: a wait began or ended, or an autoclaim."""
        for thread, change in changes:
            waiting_changed = change.marker is not None
            claimed = change.claimed_by is not None
            if waiting_changed or claimed:
                self.thread_changed(thread, waiting_changed=waiting_changed, claim=claimed)

    # The background thread

    def flush(self, timeout: float = 10.0) -> None:
        """Rebuild at once every home that the changes queued so far affect.

        Raises TimeoutError after `timeout` seconds.
        """
        done = threading.Event()
        with self._wake:
            if self._thread is None or self._stopped:
                return
            self._flushes.append(done)
            self._wake.notify()
        if not done.wait(timeout):
            raise TimeoutError(f"rebuilding the App Homes timed out after {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """End the background thread and drop the homes still due; a second call does nothing."""
        with self._wake:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
            self._wake.notify()
        atexit.unregister(self.stop)
        if thread is not None:
            thread.join(timeout)

    def _add(self, change: ThreadChange | DeliveryChange) -> None:
        with self._wake:
            if self._stopped:
                return
            self._changes.append(change)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="home-refresh", daemon=True)
                self._thread.start()
                atexit.register(self.stop)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wait_for_work()
                if self._stopped:
                    return
                changes, self._changes = self._changes, []
                flushes, self._flushes = self._flushes, []
            try:
                keys = self._affected(changes) if changes else set()
            except SQLAlchemyError:
                log.exception("App Home changes not read changes=%d", len(changes))
                keys = set()
            with self._wake:
                now = self._clock()
                for key in sorted(keys):
                    self._schedule.add(key, now)
                due = self._schedule.take_all() if flushes else self._schedule.take_due(now)
            for team, user in due:
                self._publish_logged(team, user)
            for done in flushes:
                done.set()

    def _wait_for_work(self) -> None:
        while not (self._stopped or self._changes or self._flushes):
            next_due = self._schedule.next_due()
            if next_due is None:
                self._wake.wait()
                continue
            remaining = next_due - self._clock()
            if remaining <= 0:
                return
            self._wake.wait(remaining)

    def _affected(self, changes: list[ThreadChange | DeliveryChange]) -> set[HomeKey]:
        """Return the recent viewers whose home the changes alter."""
        since = utcnow() - self._recent
        keys: set[HomeKey] = set()
        with self._session_scope() as session:
            for change in changes:
                if isinstance(change, DeliveryChange):
                    team = delivery_workspace(session, change.delivery_id)
                    if team is None:
                        continue
                    among: Collection[str] | None = handoff_users(session, change.delivery_id)
                else:
                    team = change.thread.team
                    among = self._thread_users(session, change)
                    if among is not None and not among:
                        continue
                viewers = recent_home_viewers(session, workspace_id=team, since=since, among=among)
                keys.update((team, user) for user in viewers)
        return keys

    def _thread_users(self, session: Session, change: ThreadChange) -> set[str] | None:
        """Return whose queue the change alters, None meaning every viewer of the workspace."""
        thread = change.thread
        state = find_thread_conversation(
            session,
            workspace_id=thread.team,
            channel_id=thread.channel,
            thread_ts=thread.thread_ts,
        )
        if state is None:
            return set()
        holder, waiting = state
        # The queue lists waiting conversations only, so a claim of any other changes nothing.
        if not change.waiting_changed and not waiting:
            return set()
        # Everyone saw the conversation as unclaimed before the change, or sees it now.
        if holder is None or (change.claim and change.previous_holder is None):
            return None
        return {user for user in (holder, change.previous_holder) if user}

    # Building one home

    def publish(self, team: str, user: str) -> None:
        """Build the user's home from the database and publish it with views.publish."""
        content = self._content(team, user)
        try:
            self._client.views_publish(user_id=user, view=home_view(content))
        finally:
            # A rejected call counts too, so failing calls cannot outrun the cap.
            with self._wake:
                self._schedule.published((team, user), self._clock())

    def _publish_logged(self, team: str, user: str) -> None:
        try:
            self.publish(team, user)
        except SlackApiError as failure:
            log.warning(
                "App Home not published team=%s user=%s error=%s",
                team,
                user,
                failure.response.get("error"),
            )
        except Exception:  # noqa: BLE001 (a bug in one home must not end the thread)
            log.exception("App Home not built team=%s user=%s", team, user)

    def _content(self, team: str, user: str) -> HomeContent:
        # The queue shows other contacts' names and threads, so only team members see it. An
        # unknown profile counts as outside the team: a Slack error must not show a guest
        # the queue.
        profile = self._profile(user)
        now = utcnow()
        stored_hours = None
        with self._session_scope() as session:
            contact_id = find_contact_by_slack_user(session, workspace_id=team, user_id=user)
            member = profile is not None and not profile.guest and contact_id is None
            handoffs = handoffs_for(session, workspace_id=team, user_id=user, limit=MAX_ROWS)
            if not member:
                queue = None
            else:
                queue = waiting_queue(session, workspace_id=team, user_id=user, limit=MAX_ROWS)
                stored_hours = get_setting(session, team, WORKING_HOURS_SETTING)
        if queue is None or profile is None:
            waits: dict[int, float] = {}
            schedule = ""
        else:
            hours = self._working_hours(team, profile.time_zone, stored_hours)
            waits = {
                row.conversation_id: hours.working_seconds(row.waiting_since, now)
                for row in queue.mine + queue.unclaimed
            }
            schedule = describe_schedule(hours)
        return HomeContent(
            queue=queue,
            handoffs=handoffs,
            waits=waits,
            schedule=schedule,
            workspace_url=self._url(),
            now=now,
            available=set(self._commands),
        )

    def _working_hours(self, team: str, time_zone: str, stored: object) -> WorkingHours:
        if stored:
            try:
                return WorkingHours.from_settings(stored)  # type: ignore[arg-type]
            except (TypeError, ValueError) as failure:
                log.warning("working hours setting invalid team=%s error=%s", team, failure)
        # As ^stat does: Monday to Friday 09:00 to 17:00 in the viewer's time zone, since
        # Slack's API gives no time zone for a workspace.
        try:
            return WorkingHours.default(time_zone)
        except ValueError:
            return WorkingHours.default("UTC")

    def _profile(self, user: str) -> ViewerProfile | None:
        """Return the viewer's cached users.info profile, or None when Slack rejects the call."""
        cached = self._profiles.get(user)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            info = self._client.users_info(user=user)["user"]
        except SlackApiError as failure:
            # Not cached, so the next build asks again.
            log.warning(
                "viewer profile unknown, home shows hand-offs only user=%s error=%s",
                user,
                failure.response.get("error"),
            )
            return None
        profile = ViewerProfile(
            time_zone=info.get("tz") or "UTC",
            guest=bool(info.get("is_restricted") or info.get("is_ultra_restricted")),
        )
        self._profiles[user] = (profile, now + PROFILE_TTL_SECONDS)
        return profile

    def _url(self) -> str | None:
        # One token serves one workspace, so one auth.test gives every thread link its domain.
        if self._workspace_url is None:
            try:
                self._workspace_url = self._client.auth_test().get("url")
            except SlackApiError as failure:
                log.warning(
                    "workspace url unknown, home rows get no links error=%s",
                    failure.response.get("error"),
                )
        return self._workspace_url
