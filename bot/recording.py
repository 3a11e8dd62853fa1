"""Store every message of the threads caretbot is in, and keep each thread's unread marker.

Each message is stored with its side. It is "contact" when any of these holds:

- the author is the Slack user linked to a contact of the workspace (Contact.slack_user_id);
- the message metadata names a contact of the workspace, as
  `{"event_type": <any>, "event_payload": {"contact_id": 42}}` (an int or a digit string);
- the author is a bot listed in the workspace setting "contact_bot_ids" (a list of bot ids);
- the channel is shared with another organization (Slack Connect) and the author's home team,
  the event's `user_team`, is not this workspace.

It is "bot" for caretbot's own messages, which never change the unread state, and "team" for
everyone else. A contact's message makes the conversation wait and puts the unread marker on
the thread's root message. A reply from a person on the team takes the marker off again.

create_app turns off Bolt's ignoring_self_events, which would otherwise drop caretbot's own
messages before any listener sees them.

The message listener only queues each event (MessageRecorder.enqueue). One writer thread
stores the queue in batches, one transaction each (group commit), and a second thread makes
the Slack calls that a committed batch calls for. record() stores one event at once, on the
calling thread, by the same rules.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.router import parse_command
from bot.threads import ThreadRef
from bot.views.claim import claimed_text
from storage.claims import autoclaim_enabled, claim_conversation
from storage.conversations import (
    ThreadKey,
    get_or_create_conversation,
    get_or_create_conversation_ids,
)
from storage.db import SessionScope
from storage.messages import (
    NewMessage,
    ThreadMessage,
    UnreadState,
    clear_unread,
    contact_exists,
    edit_message,
    find_contact_by_slack_user,
    find_contact_users,
    lock_unread_states,
    mark_message_deleted,
    mark_unread,
    set_unread_state,
    store_message,
    store_messages,
)
from storage.models import Conversation, utcnow
from storage.settings import get_setting

log = logging.getLogger(__name__)

CONTACT_BOT_IDS_SETTING = "contact_bot_ids"
UNREAD_REACTION_SETTING = "unread_reaction"
DEFAULT_UNREAD_REACTION = "red_circle"

# Subtypes that are ordinary messages. bot_message is how an integration without a bot user
# posts, and such an integration may speak for the contact (CONTACT_BOT_IDS_SETTING). Other
# subtypes (joins, topic changes, ...) are not part of the conversation.
ORDINARY_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "bot_message"})
EDITED_SUBTYPE = "message_changed"
DELETED_SUBTYPE = "message_deleted"


@dataclass(frozen=True)
class IncomingMessage:
    """A new message from a message event: its thread, its author and its text."""

    thread: ThreadRef
    ts: str
    user_id: str | None
    bot_id: str | None
    text: str
    file_names: tuple[str, ...]
    subtype: str | None
    metadata_contact_id: int | None
    from_other_organization: bool

    @property
    def is_reply(self) -> bool:
        return self.ts != self.thread.thread_ts

    @property
    def is_person(self) -> bool:
        return self.user_id is not None and self.bot_id is None


@dataclass
class ThreadChanges:
    """The Slack changes that a stored message calls for, made after the commit."""

    marker: str | None = None  # "add" or "remove" the unread reaction
    reaction: str = DEFAULT_UNREAD_REACTION
    claimed_by: str | None = None  # autoclaim gave the conversation to this user


# Receives (thread, changes) pairs of conversations whose unread state or holder changed.
ChangeObserver = Callable[[list[tuple[ThreadRef, ThreadChanges]]], None]


# Group commit: after the first queued event the writer waits up to BATCH_WINDOW_SECONDS for
# more, then stores up to MAX_BATCH events in one transaction. An event that someone waits
# for (a caret command's message, flush(), stop()) ends the wait at once.
MAX_BATCH = 500
BATCH_WINDOW_SECONDS = 0.02
# Conversation ids never change once created, so the writer keeps them. Past this many it
# starts the cache afresh.
MAX_CACHED_CONVERSATIONS = 100_000
# How long a caret command waits for its message to be stored before it runs anyway.
COMMAND_WAIT_SECONDS = 10.0

_NEW, _EDIT, _DELETE, _FLUSH, _STOP = "new", "edit", "delete", "flush", "stop"


@dataclass(frozen=True)
class _Queued:
    """One entry of the writer's queue: a message event, or a flush or stop marker."""

    kind: str
    body: dict[str, Any] | None = None
    message: IncomingMessage | None = None
    caretbot: bool = False
    client: WebClient | None = None
    received_at: datetime | None = None
    # Set once this entry and every earlier one are stored and their Slack calls are made.
    done: threading.Event | None = None


class MessageRecorder:
    """Stores message events; the message listener queues every event before anything else.

    The writer thread starts with the first enqueue(). stop() stores what is queued and ends
    the thread. It also runs at interpreter exit if no caller stopped the recorder.
    """

    def __init__(
        self,
        session_scope: SessionScope,
        *,
        max_batch: int = MAX_BATCH,
        batch_window: float = BATCH_WINDOW_SECONDS,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._session_scope = session_scope
        self._max_batch = max_batch
        self._batch_window = batch_window
        # NOTE: the queue has no bound. Bolt acknowledges each event before its listener runs
        # and queues listeners without a bound too, so blocking here would only move the
        # backlog of a database that falls behind into Bolt's executor.
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._urgent = threading.Event()
        # Guards the state below, so no event is queued behind the stop marker.
        self._state_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._stopped = False
        self._notifier = _SlackNotifier()
        self._conversation_ids: dict[ThreadKey, int] = {}
        self._observers: list[ChangeObserver] = []

    def observe(self, observer: ChangeObserver) -> None:
        """Call `observer` with each committed batch's changes to unread state and holder.

        It runs on the writer's thread, so it must only queue the work it needs.
        """
        self._observers.append(observer)

    def _tell_observers(self, changes: list[tuple[ThreadRef, ThreadChanges]]) -> None:
        for observer in self._observers:
            try:
                observer(changes)
            except Exception:  # noqa: BLE001 (the messages are stored; only a side effect failed)
                log.exception("message change observer failed changes=%d", len(changes))

    def record(self, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Store a new, edited or deleted message, and ignore every other message event."""
        event = body.get("event") or {}
        # A DM with caretbot is no conversation with a contact.
        if event.get("channel_type") == "im":
            return
        subtype = event.get("subtype")
        try:
            if subtype in ORDINARY_SUBTYPES:
                self._record_new(body, context, client)
            elif subtype == EDITED_SUBTYPE:
                self._record_edit(body)
            elif subtype == DELETED_SUBTYPE:
                self._record_deletion(body)
        except SQLAlchemyError:
            # Logged, not raised, so the command in the message still runs and a contact gets no
            # error message.
            _log_not_stored(body)

    def enqueue(
        self,
        body: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        *,
        wait: bool = False,
    ) -> None:
        """Queue a message event for the writer, which stores it as record() would.

        With `wait`, block until the event and every one queued before it are stored and
        their Slack calls are made, or COMMAND_WAIT_SECONDS have passed. After stop(), the
        event is recorded at once on the calling thread.
        """
        event = body.get("event") or {}
        if event.get("channel_type") == "im":
            return
        entry = _queued_event(body, context, client, wait=wait)
        if entry is None:
            return
        with self._state_lock:
            if self._stopped:
                entry = None
            else:
                self._start_locked()
                self._put(entry)
        if entry is None:
            self.record(body, context, client)
            return
        if entry.done is not None and not entry.done.wait(COMMAND_WAIT_SECONDS):
            log.warning(
                "waiting for the message writer timed out after %ss, running the command anyway "
                "team=%s channel=%s ts=%s",
                COMMAND_WAIT_SECONDS,
                body.get("team_id"),
                event.get("channel"),
                event.get("ts"),
            )

    def flush(self, timeout: float = 10.0) -> None:
        """Block until every event queued before the call is stored and its Slack calls made.

        Raises TimeoutError after `timeout` seconds.
        """
        done = threading.Event()
        with self._state_lock:
            if self._writer is None or self._stopped:
                return
            self._put(_Queued(_FLUSH, done=done))
        if not done.wait(timeout):
            raise TimeoutError(
                f"flushing the message writer timed out after {timeout}s with "
                f"{self._queue.qsize()} events still queued"
            )

    def stop(self, timeout: float = 30.0) -> None:
        """Store every queued event, make its Slack calls, and end the writer's threads.

        Later events are recorded on the enqueuing thread. A second call does nothing.
        """
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            writer = self._writer
            if writer is not None:
                self._put(_Queued(_STOP))
        atexit.unregister(self.stop)
        if writer is None:
            return
        writer.join(timeout)
        if writer.is_alive():
            log.error(
                "stopping the message writer timed out after %ss with %d events still queued",
                timeout,
                self._queue.qsize(),
            )
        self._notifier.stop(timeout)

    def _start_locked(self) -> None:
        if self._writer is not None:
            return
        self._notifier.start()
        self._writer = threading.Thread(target=self._run_writer, name="message-writer", daemon=True)
        self._writer.start()
        # Daemon threads die with the interpreter, so queued events are stored first.
        atexit.register(self.stop)
        log.info(
            "message writer started max_batch=%s batch_window=%ss",
            self._max_batch,
            self._batch_window,
        )

    def _put(self, entry: _Queued) -> None:
        self._queue.put(entry)
        if entry.done is not None or entry.kind == _STOP:
            self._urgent.set()

    def _run_writer(self) -> None:
        while True:
            batch = self._take_batch()
            stopping = batch[-1].kind == _STOP
            try:
                self._write(batch)
            except Exception:  # noqa: BLE001 (the writer must outlive a bug in one batch)
                log.exception("message batch failed events=%d", len(batch))
                for entry in batch:
                    if entry.done is not None:
                        entry.done.set()
            if stopping:
                log.info("message writer stopped")
                return

    def _take_batch(self) -> list[_Queued]:
        """Return the next batch; it ends with the stop marker if one was taken."""
        batch = [self._queue.get()]
        if batch[0].done is None and batch[0].kind != _STOP:
            self._urgent.wait(self._batch_window)
        # Cleared before the queue is read, so an urgent entry queued from here on sets it again.
        self._urgent.clear()
        while len(batch) < self._max_batch and batch[-1].kind != _STOP:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[_Queued]) -> None:
        events = [entry for entry in batch if entry.kind in (_NEW, _EDIT, _DELETE)]
        changes: list[_SlackChange] = []
        if events:
            changes = self._store_batch(events)
        if changes and self._observers:
            self._tell_observers([(change.thread, change.changes) for change in changes])
        done = [entry.done for entry in batch if entry.done is not None]
        if changes or done:
            self._notifier.submit(changes, done)

    def _store_batch(self, events: list[_Queued]) -> list[_SlackChange]:
        started = time.perf_counter()
        try:
            with self._session_scope() as session:
                stored = _BatchStore(session, self._conversation_ids).store(events)
        except Exception:  # noqa: BLE001 (one bad event must not lose the batch)
            log.exception("message batch not stored, storing its %d events one by one", len(events))
            # A cached id may name a conversation that is gone, so the next batch reads them again.
            self._conversation_ids.clear()
            return self._store_one_by_one(events)

        if len(self._conversation_ids) + len(stored.conversation_ids) > MAX_CACHED_CONVERSATIONS:
            self._conversation_ids.clear()
        self._conversation_ids.update(stored.conversation_ids)
        log.debug(
            "message batch stored events=%d inserted=%d changes=%d seconds=%.4f",
            len(events),
            stored.inserted,
            len(stored.changes),
            time.perf_counter() - started,
        )
        return stored.changes

    def _store_one_by_one(self, events: list[_Queued]) -> list[_SlackChange]:
        changes = []
        for entry in events:
            assert entry.body is not None
            try:
                change = self._store_one(entry)
            except Exception:  # noqa: BLE001 (a database error or a bug in this event alone)
                _log_not_stored(entry.body)
                continue
            if change is not None:
                changes.append(change)
        return changes

    def _store_one(self, entry: _Queued) -> _SlackChange | None:
        assert entry.body is not None
        if entry.kind == _EDIT:
            self._record_edit(entry.body)
            return None
        if entry.kind == _DELETE:
            self._record_deletion(entry.body)
            return None
        assert entry.message is not None and entry.client is not None
        changes = self._store_new(entry.message, caretbot=entry.caretbot, now=entry.received_at)
        if changes is None:
            return None
        return _SlackChange(entry.client, entry.message.thread, changes)

    def _record_new(self, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        message = parse_incoming(body)
        if message is None:
            return
        changes = self._store_new(message, caretbot=is_caretbot(message, context))
        if changes is not None:
            _apply(client, message.thread, changes)
            if changes.marker is not None or changes.claimed_by is not None:
                self._tell_observers([(message.thread, changes)])

    def _store_new(
        self, message: IncomingMessage, *, caretbot: bool, now: datetime | None = None
    ) -> ThreadChanges | None:
        """Store one new message in its own transaction and return the Slack changes it needs."""
        thread = message.thread
        with self._session_scope() as session:
            conversation = get_or_create_conversation(
                session,
                workspace_id=thread.team,
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
            )
            side = side_of(message, caretbot=caretbot, lookups=_SessionLookups(session))
            stored = store_message(session, conversation, _new_message(message, side), now=now)
            changes = _thread_changes(session, conversation, message, side) if stored else None

        log.debug(
            "message stored=%s side=%s team=%s channel=%s thread=%s ts=%s",
            stored,
            side,
            thread.team,
            thread.channel,
            thread.thread_ts,
            message.ts,
        )
        return changes

    def _record_edit(self, body: dict[str, Any]) -> None:
        with self._session_scope() as session:
            _store_edit(session, body)

    def _record_deletion(self, body: dict[str, Any]) -> None:
        with self._session_scope() as session:
            _store_deletion(session, body)


def _queued_event(
    body: dict[str, Any], context: BoltContext, client: WebClient, *, wait: bool
) -> _Queued | None:
    """Parse what the writer needs, on the listener's thread. Return None to ignore the event."""
    event = body["event"]
    subtype = event.get("subtype")
    done = threading.Event() if wait else None
    if subtype in ORDINARY_SUBTYPES:
        message = parse_incoming(body)
        if message is None:
            return None
        return _Queued(
            _NEW,
            body=body,
            message=message,
            caretbot=is_caretbot(message, context),
            client=client,
            received_at=utcnow(),
            done=done,
        )
    if subtype == EDITED_SUBTYPE:
        return _Queued(_EDIT, body=body, done=done)
    if subtype == DELETED_SUBTYPE:
        return _Queued(_DELETE, body=body, done=done)
    return None


def _log_not_stored(body: dict[str, Any]) -> None:
    event = body.get("event") or {}
    log.exception(
        "message not stored team=%s channel=%s ts=%s subtype=%s",
        body.get("team_id"),
        event.get("channel"),
        event.get("ts"),
        event.get("subtype"),
    )


def _new_message(message: IncomingMessage, side: str) -> NewMessage:
    return NewMessage(
        ts=message.ts,
        side=side,
        text=message.text,
        user_id=message.user_id,
        bot_id=message.bot_id,
        subtype=message.subtype,
        file_names=message.file_names,
    )


def _store_edit(session: Session, body: dict[str, Any]) -> None:
    event = body["event"]
    message = event.get("message") or {}
    channel, ts = event.get("channel"), message.get("ts")
    if not channel or not ts:
        return
    edited = message.get("edited") or {}
    edited_at = ts_to_datetime(edited.get("ts") or event.get("event_ts") or event["ts"])
    revision = edit_message(
        session,
        workspace_id=body["team_id"],
        channel_id=channel,
        ts=ts,
        text=message.get("text") or "",
        file_names=file_names_of(message),
        edited_at=edited_at,
        edited_by=edited.get("user"),
    )
    log.debug(
        "message edit revised=%s team=%s channel=%s ts=%s",
        revision is not None,
        body["team_id"],
        channel,
        ts,
    )


def _store_deletion(session: Session, body: dict[str, Any]) -> None:
    event = body["event"]
    channel = event.get("channel")
    ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    if not channel or not ts:
        return
    marked = mark_message_deleted(session, workspace_id=body["team_id"], channel_id=channel, ts=ts)
    log.debug(
        "message deletion marked=%s team=%s channel=%s ts=%s",
        marked,
        body["team_id"],
        channel,
        ts,
    )


def parse_incoming(body: dict[str, Any]) -> IncomingMessage | None:
    """Parse a new message event; return None when it names no channel or ts."""
    event = body["event"]
    if not event.get("channel") or not event.get("ts"):
        return None
    return IncomingMessage(
        thread=ThreadRef.of_message(body["team_id"], event),
        ts=event["ts"],
        user_id=event.get("user"),
        bot_id=event.get("bot_id"),
        text=event.get("text") or "",
        file_names=file_names_of(event),
        subtype=event.get("subtype"),
        metadata_contact_id=metadata_contact_id(event),
        from_other_organization=is_from_other_organization(body),
    )


def file_names_of(message: dict[str, Any]) -> tuple[str, ...]:
    """Return the names of a message's files; a file Slack hides details of gives its id."""
    names = []
    for file in message.get("files") or []:
        if isinstance(file, dict):
            names.append(file.get("name") or file.get("title") or file.get("id") or "")
    return tuple(names)


def metadata_contact_id(message: dict[str, Any]) -> int | None:
    """Return the contact id in the message metadata's event_payload, if it names one.

    NOTE: Slack delivers event_payload in message events only for the metadata event types
    that the app's manifest lists under metadata_subscriptions. For other types it sends the
    event_type alone, and the manifest lists none yet.
    """
    metadata = message.get("metadata")
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    value = payload.get("contact_id") if isinstance(payload, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def is_from_other_organization(body: dict[str, Any]) -> bool:
    """Tell whether the author is a member of another organization in a Slack Connect channel.

    In channels shared between organizations, message events carry `user_team`, the team the
    author belongs to.
    TODO: in an Enterprise Grid org, a colleague from a sibling workspace also has another
    user_team and counts as the contact here.
    """
    if body.get("is_ext_shared_channel") is not True:
        return False
    user_team = body["event"].get("user_team")
    return bool(user_team) and user_team != body.get("team_id")


def is_caretbot(message: IncomingMessage, context: BoltContext) -> bool:
    if message.user_id is not None and message.user_id == context.bot_user_id:
        return True
    return message.bot_id is not None and message.bot_id == context.bot_id


class SideLookups(Protocol):
    """The stored facts that the side rules read."""

    def is_contact_user(self, workspace_id: str, user_id: str) -> bool: ...

    def contact_exists(self, workspace_id: str, contact_id: int) -> bool: ...

    def contact_bot_ids(self, workspace_id: str) -> frozenset[str]: ...


def decide_side(session: Session, message: IncomingMessage, context: BoltContext) -> str:
    """Return "contact", "team" or "bot" by the rules in this module's docstring."""
    return side_of(
        message, caretbot=is_caretbot(message, context), lookups=_SessionLookups(session)
    )


def side_of(message: IncomingMessage, *, caretbot: bool, lookups: SideLookups) -> str:
    """Return "contact", "team" or "bot" by the rules in this module's docstring.

    `caretbot` is True when caretbot itself posted the message (see is_caretbot).
    """
    if caretbot:
        return "bot"
    team = message.thread.team
    if message.user_id is not None and lookups.is_contact_user(team, message.user_id):
        return "contact"
    if message.metadata_contact_id is not None and lookups.contact_exists(
        team, message.metadata_contact_id
    ):
        return "contact"
    if message.bot_id is not None and message.bot_id in lookups.contact_bot_ids(team):
        return "contact"
    if message.from_other_organization:
        return "contact"
    return "team"


class _SessionLookups:
    """Side lookups that query the session every time."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def is_contact_user(self, workspace_id: str, user_id: str) -> bool:
        return is_contact_user(self._session, workspace_id, user_id)

    def contact_exists(self, workspace_id: str, contact_id: int) -> bool:
        return contact_exists(self._session, workspace_id=workspace_id, contact_id=contact_id)

    def contact_bot_ids(self, workspace_id: str) -> frozenset[str]:
        return contact_bot_ids(self._session, workspace_id)


class _BatchLookups:
    """Side lookups, marker names and autoclaim preferences, each read once per batch.

    They live for one transaction only, so no other process's change can go stale in them.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._contact_users: dict[str, set[str]] = {}
        self._checked_users: dict[str, set[str]] = {}
        self._contacts: dict[tuple[str, int], bool] = {}
        self._bot_ids: dict[str, frozenset[str]] = {}
        self._reactions: dict[str, str] = {}
        self._autoclaim: dict[tuple[str, str], bool] = {}

    def read_contact_users(self, workspace_id: str, user_ids: Iterable[str]) -> None:
        """Look up which of these users are contacts, in one query."""
        checked = self._checked_users.setdefault(workspace_id, set())
        unchecked = set(user_ids) - checked
        if not unchecked:
            return
        found = find_contact_users(self._session, workspace_id=workspace_id, user_ids=unchecked)
        self._contact_users.setdefault(workspace_id, set()).update(found)
        checked.update(unchecked)

    def is_contact_user(self, workspace_id: str, user_id: str) -> bool:
        if user_id not in self._checked_users.get(workspace_id, ()):
            self.read_contact_users(workspace_id, (user_id,))
        return user_id in self._contact_users[workspace_id]

    def contact_exists(self, workspace_id: str, contact_id: int) -> bool:
        key = (workspace_id, contact_id)
        if key not in self._contacts:
            self._contacts[key] = contact_exists(
                self._session, workspace_id=workspace_id, contact_id=contact_id
            )
        return self._contacts[key]

    def contact_bot_ids(self, workspace_id: str) -> frozenset[str]:
        if workspace_id not in self._bot_ids:
            self._bot_ids[workspace_id] = contact_bot_ids(self._session, workspace_id)
        return self._bot_ids[workspace_id]

    def unread_reaction(self, workspace_id: str) -> str:
        if workspace_id not in self._reactions:
            self._reactions[workspace_id] = unread_reaction(self._session, workspace_id)
        return self._reactions[workspace_id]

    def autoclaim_enabled(self, workspace_id: str, user_id: str) -> bool:
        key = (workspace_id, user_id)
        if key not in self._autoclaim:
            self._autoclaim[key] = autoclaim_enabled(self._session, workspace_id, user_id)
        return self._autoclaim[key]


def contact_bot_ids(session: Session, workspace_id: str) -> frozenset[str]:
    value = get_setting(session, workspace_id, CONTACT_BOT_IDS_SETTING)
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


def unread_reaction(session: Session, workspace_id: str) -> str:
    """Return the emoji name of the unread marker, without colons."""
    value = get_setting(session, workspace_id, UNREAD_REACTION_SETTING)
    name = value.strip().strip(":") if isinstance(value, str) else ""
    return name or DEFAULT_UNREAD_REACTION


def _thread_changes(
    session: Session, conversation: Conversation, message: IncomingMessage, side: str
) -> ThreadChanges:
    """Update the conversation for a newly stored message; return what Slack must show."""
    assert conversation.id is not None
    team = conversation.workspace_id
    changes = ThreadChanges()
    if side == "contact":
        if mark_unread(session, conversation.id):
            changes.marker = "add"
            changes.reaction = unread_reaction(session, team)
        return changes

    if not ends_wait(message, side):
        return changes
    assert message.user_id is not None
    if clear_unread(session, conversation.id):
        changes.marker = "remove"
        changes.reaction = unread_reaction(session, team)
    if (
        message.is_reply
        and conversation.claimed_by is None
        and autoclaim_enabled(session, team, message.user_id)
    ):
        outcome = claim_conversation(
            session, conversation.id, user_id=message.user_id, source="autoclaim"
        )
        if outcome.won:
            changes.claimed_by = message.user_id
    return changes


def ends_wait(message: IncomingMessage, side: str) -> bool:
    """Tell whether a stored message ends the conversation's wait for the team.

    Only a person's reply does. Another app's message, or a caret command typed for caretbot,
    leaves the conversation waiting.
    """
    return side == "team" and message.is_person and parse_command(message.text) is None


@dataclass(frozen=True)
class _SlackChange:
    """The Slack calls that one conversation's stored messages call for."""

    client: WebClient
    thread: ThreadRef
    changes: ThreadChanges


@dataclass
class _StoredBatch:
    """The result of one batch: the conversation ids it used and the Slack calls it needs."""

    conversation_ids: dict[ThreadKey, int]
    inserted: int = 0
    changes: list[_SlackChange] = field(default_factory=list)


@dataclass(frozen=True)
class _StoredMessage:
    entry: _Queued
    message: IncomingMessage
    side: str


class _BatchStore:
    """Stores one batch of queued events in the caller's transaction.

    New messages go in first, with one INSERT. Edits and deletions follow in the order they
    arrived, so they also find messages that arrived earlier in the same batch.
    """

    def __init__(self, session: Session, known_conversations: dict[ThreadKey, int]) -> None:
        self._session = session
        self._known = known_conversations
        self._lookups = _BatchLookups(session)

    def store(self, events: list[_Queued]) -> _StoredBatch:
        new = _first_of_each_message([entry for entry in events if entry.kind == _NEW])
        conversation_ids = self._conversation_ids(new)
        batch = _StoredBatch(conversation_ids)
        if new:
            stored = self._insert(new, conversation_ids)
            batch.inserted = len(stored)
            batch.changes = self._thread_changes(stored, conversation_ids)
        for entry in events:
            assert entry.body is not None
            if entry.kind == _EDIT:
                _store_edit(self._session, entry.body)
            elif entry.kind == _DELETE:
                _store_deletion(self._session, entry.body)
        return batch

    def _conversation_ids(self, new: list[_Queued]) -> dict[ThreadKey, int]:
        keys = {_thread_key(entry) for entry in new}
        ids = {key: self._known[key] for key in keys if key in self._known}
        missing = keys - ids.keys()
        if missing:
            ids.update(get_or_create_conversation_ids(self._session, missing))
        return ids

    def _insert(
        self, new: list[_Queued], conversation_ids: dict[ThreadKey, int]
    ) -> list[_StoredMessage]:
        users_by_team: dict[str, set[str]] = {}
        for entry in new:
            assert entry.message is not None
            if not entry.caretbot and entry.message.user_id is not None:
                users_by_team.setdefault(entry.message.thread.team, set()).add(
                    entry.message.user_id
                )
        for team, user_ids in users_by_team.items():
            self._lookups.read_contact_users(team, user_ids)

        candidates = []
        rows = []
        for entry in new:
            message = entry.message
            assert message is not None and entry.received_at is not None
            side = side_of(message, caretbot=entry.caretbot, lookups=self._lookups)
            thread = message.thread
            candidates.append(_StoredMessage(entry, message, side))
            rows.append(
                ThreadMessage(
                    conversation_id=conversation_ids[_thread_key(entry)],
                    workspace_id=thread.team,
                    channel_id=thread.channel,
                    thread_ts=thread.thread_ts,
                    message=_new_message(message, side),
                    received_at=entry.received_at,
                )
            )
        inserted = store_messages(self._session, rows)
        return [
            candidate
            for candidate, row in zip(candidates, rows, strict=True)
            if row.key in inserted
        ]

    def _thread_changes(
        self, stored: list[_StoredMessage], conversation_ids: dict[ThreadKey, int]
    ) -> list[_SlackChange]:
        """Replay the batch's messages on each conversation's unread state and holder.

        The result equals storing them one by one, but each conversation is read and written
        once, and a marker that one message adds and a later one removes is never sent.
        """
        by_conversation: dict[int, list[_StoredMessage]] = {}
        for item in stored:
            if item.side == "contact" or ends_wait(item.message, item.side):
                conversation_id = conversation_ids[_thread_key(item.entry)]
                by_conversation.setdefault(conversation_id, []).append(item)
        states = lock_unread_states(self._session, by_conversation.keys())
        changes = []
        for conversation_id in sorted(by_conversation):
            items = by_conversation[conversation_id]
            change = self._replay(conversation_id, states[conversation_id], items)
            if change is not None:
                changes.append(change)
        return changes

    def _replay(
        self, conversation_id: int, before: UnreadState, items: list[_StoredMessage]
    ) -> _SlackChange | None:
        unread, unread_since, holder = before.unread, before.unread_since, before.claimed_by
        claimed_by = None
        for item in items:
            message = item.message
            if item.side == "contact":
                if not unread:
                    unread, unread_since = True, item.entry.received_at
                continue
            unread, unread_since = False, None
            assert message.user_id is not None
            if (
                message.is_reply
                and holder is None
                and self._lookups.autoclaim_enabled(message.thread.team, message.user_id)
            ):
                outcome = claim_conversation(
                    self._session, conversation_id, user_id=message.user_id, source="autoclaim"
                )
                holder = outcome.holder
                if outcome.won:
                    claimed_by = message.user_id

        if (unread, unread_since) != (before.unread, before.unread_since):
            set_unread_state(
                self._session, conversation_id, unread=unread, unread_since=unread_since
            )
        changes = ThreadChanges(claimed_by=claimed_by)
        if unread != before.unread:
            changes.marker = "add" if unread else "remove"
            changes.reaction = self._lookups.unread_reaction(items[0].message.thread.team)
        if changes.marker is None and changes.claimed_by is None:
            return None
        last = items[-1]
        assert last.entry.client is not None
        return _SlackChange(last.entry.client, last.message.thread, changes)


def _thread_key(entry: _Queued) -> ThreadKey:
    assert entry.message is not None
    thread = entry.message.thread
    return (thread.team, thread.channel, thread.thread_ts)


def _first_of_each_message(entries: list[_Queued]) -> list[_Queued]:
    """Drop redeliveries within the batch: the first event of each (team, channel, ts) stays."""
    seen: set[tuple[str, str, str]] = set()
    first = []
    for entry in entries:
        assert entry.message is not None
        thread = entry.message.thread
        key = (thread.team, thread.channel, entry.message.ts)
        if key not in seen:
            seen.add(key)
            first.append(entry)
    return first


class _SlackNotifier:
    """The thread that makes the Slack calls of committed batches, in the order of the commits.

    One thread keeps a conversation's reactions.add and reactions.remove in commit order, and
    a slow Web API call never holds up the writer's next transaction.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[list[_SlackChange], list[threading.Event]] | None]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="message-slack-calls", daemon=True)
        self._thread.start()

    def submit(self, changes: list[_SlackChange], done: list[threading.Event]) -> None:
        """Queue the calls, then set the events once they and every earlier call are made."""
        self._queue.put((changes, done))

    def stop(self, timeout: float) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("stopping the message Slack calls timed out after %ss", timeout)

    def _run(self) -> None:
        while (task := self._queue.get()) is not None:
            changes, done = task
            for change in changes:
                try:
                    _apply(change.client, change.thread, change.changes)
                except Exception:  # noqa: BLE001 (a network error must not end the thread)
                    thread = change.thread
                    log.exception(
                        "unread marker or autoclaim reply not sent team=%s channel=%s thread=%s",
                        thread.team,
                        thread.channel,
                        thread.thread_ts,
                    )
            for event in done:
                event.set()


def _apply(client: WebClient, thread: ThreadRef, changes: ThreadChanges) -> None:
    # NOTE: the writer's one Slack-calls thread keeps one process's calls in commit order. A
    # contact's message and a team reply that two processes, or record() on two threads,
    # handle at the same moment can still send reactions.add and reactions.remove in the
    # opposite order of their commits. The marker then stays on a conversation that no longer
    # waits, until ^read takes it off.
    if changes.marker == "add":
        add_unread_marker(client, thread, changes.reaction)
    elif changes.marker == "remove":
        remove_unread_marker(client, thread, changes.reaction)
    if changes.claimed_by is not None:
        try:
            client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=claimed_text(changes.claimed_by),
            )
        except SlackApiError as failure:
            log.warning(
                "autoclaim not announced team=%s channel=%s thread=%s user=%s error=%s",
                thread.team,
                thread.channel,
                thread.thread_ts,
                changes.claimed_by,
                failure.response.get("error"),
            )
        log.info(
            "conversation autoclaimed team=%s channel=%s thread=%s user=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            changes.claimed_by,
        )


def add_unread_marker(client: WebClient, thread: ThreadRef, reaction: str) -> None:
    """React on the thread's root message; a marker that is there already is fine."""
    _react(client.reactions_add, "already_reacted", thread, reaction)


def remove_unread_marker(client: WebClient, thread: ThreadRef, reaction: str) -> None:
    """Take caretbot's reaction off the thread's root message; a missing one is fine."""
    _react(client.reactions_remove, "no_reaction", thread, reaction)


def _react(method: Any, harmless_error: str, thread: ThreadRef, reaction: str) -> None:
    try:
        method(channel=thread.channel, timestamp=thread.thread_ts, name=reaction)
    except SlackApiError as failure:
        error = failure.response.get("error")
        if error == harmless_error:
            return
        # The stored unread state is right; only the marker in Slack lags behind it.
        log.warning(
            "unread marker not changed team=%s channel=%s thread=%s reaction=%s error=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            reaction,
            error,
        )


def is_contact_user(session: Session, workspace_id: str, user_id: str) -> bool:
    """Tell whether the Slack user is linked to a contact of the workspace."""
    return (
        find_contact_by_slack_user(session, workspace_id=workspace_id, user_id=user_id) is not None
    )


def ts_to_datetime(ts: str) -> datetime:
    """Convert a Slack ts ("1733270000.000100", seconds since the epoch) to an aware time."""
    return datetime.fromtimestamp(float(ts), UTC)
