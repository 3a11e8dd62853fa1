"""Fill in the messages of a thread that caretbot missed, once per conversation.

caretbot records messages from the events it receives (bot/recording.py), so a thread that
started before caretbot joined the channel, or while it was down, lacks messages. The first
^transcript or ^stat on a conversation reads the whole thread with conversations.replies and
stores every message not stored yet, with the side rules of live recording. Then a
"backfilled" event on the conversation's trail makes later calls return at once.

Backfilled messages carry their current text only. Slack's history has no earlier texts, so
an edit made before caretbot arrived keeps no revision. A backfill changes neither the unread
state nor the claim, because those follow live messages.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.errors import UserError
from bot.recording import ORDINARY_SUBTYPES, decide_side, parse_incoming
from bot.threads import ThreadRef
from storage.conversations import get_or_create_conversation, list_events, record_event
from storage.db import SessionScope
from storage.messages import NewMessage, store_message

log = logging.getLogger(__name__)

BACKFILLED_EVENT = "backfilled"

# Messages requested per conversations.replies page. Slack may return fewer, and since
# 2025-05-29 it returns at most 15 to new apps distributed outside the Slack Marketplace
# (docs.slack.dev, reference/methods/conversations.replies).
PAGE_LIMIT = 200

# A rate-limited call gets HTTP 429 with a Retry-After header in seconds. The same page is
# retried after that wait, at most MAX_RATE_LIMIT_RETRIES times, and the waits of one backfill
# add up to at most MAX_RATE_LIMIT_WAIT_SECONDS. Slack rates conversations.replies as Tier 3
# (50+ calls per minute), but the non-Marketplace apps above get 1 call per minute.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RATE_LIMIT_WAIT_SECONDS = 300
DEFAULT_RETRY_AFTER_SECONDS = 1

# A thread_not_found for the root ts means Slack has no such message, so there is nothing to
# fill in, and the conversation is marked backfilled like any other.
THREAD_NOT_FOUND = "thread_not_found"


class BackfillError(UserError):
    """A failed read of a thread's history from Slack, with a message for the requester.

    The message names the cause and the fix. `slack_error` is the error name that Slack
    returned, such as "not_in_channel".
    """

    def __init__(self, message: str, *, slack_error: str) -> None:
        super().__init__(message)
        self.slack_error = slack_error


def ensure_backfilled(
    session_scope: SessionScope,
    client: WebClient,
    thread: ThreadRef,
    *,
    bot_user_id: str | None,
    bot_id: str | None,
) -> int:
    """Store the thread's missing messages, once per conversation, and return how many.

    `bot_user_id` and `bot_id` are caretbot's own, so that its messages get the side "bot".
    Returns 0 without calling Slack when the conversation was backfilled before. Raises
    BackfillError when Slack refuses the history or keeps rate-limiting. The pages stored
    until then stay stored, and the next call reads the thread again.

    NOTE: two calls on the same conversation at the same moment both read the thread. Each
    message is still stored once, but the trail gets two "backfilled" events. A message posted
    while the backfill runs may be stored from the history before its event arrives, and then
    it sets no unread marker.
    """
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        assert conversation.id is not None
        if any(event.kind == BACKFILLED_EVENT for event in list_events(session, conversation.id)):
            return 0

    reader = ThreadReader(client, thread)
    started = time.monotonic()
    # decide_side reads only these two ids from the Bolt context.
    context = BoltContext(bot_user_id=bot_user_id, bot_id=bot_id)
    shared = reader.is_ext_shared()
    pages = added = 0
    outcome = "read"
    try:
        for page in reader.pages():
            pages += 1
            added += _store_page(session_scope, thread, page, shared=shared, context=context)
    except ThreadNotFound:
        outcome = THREAD_NOT_FOUND

    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        detail: dict[str, Any] = {"pages": pages, "messages_added": added}
        if outcome != "read":
            detail["outcome"] = outcome
        record_event(session, conversation, BACKFILLED_EVENT, actor=None, detail=detail)
    log.info(
        "thread backfilled team=%s channel=%s thread=%s pages=%d added=%d outcome=%s "
        "rate_limit_wait=%ds seconds=%.2f",
        thread.team,
        thread.channel,
        thread.thread_ts,
        pages,
        added,
        outcome,
        reader.waited_seconds,
        time.monotonic() - started,
    )
    return added


class ThreadNotFound(Exception):
    """conversations.replies returned thread_not_found for the thread's root ts."""


class ThreadReader:
    """Reads one thread from Slack page by page, waiting out rate limits.

    The reader uses a copy of the app's client without slack_sdk's RateLimitErrorRetryHandler,
    which the app configures to retry a 429 twice. This reader instead retries each page
    within the bounds above and logs every wait with the thread's ids. The copy keeps the
    client's other retry handlers (connection and server errors).
    """

    def __init__(self, client: WebClient, thread: ThreadRef) -> None:
        self._client = copy.copy(client)
        self._client.retry_handlers = [
            handler
            for handler in client.retry_handlers
            if not isinstance(handler, RateLimitErrorRetryHandler)
        ]
        self._thread = thread
        self.waited_seconds = 0

    def is_ext_shared(self) -> bool:
        """Tell whether the channel is shared with another organization (Slack Connect)."""
        response = self._call(self._client.conversations_info, channel=self._thread.channel)
        return bool((response.get("channel") or {}).get("is_ext_shared"))

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """Yield the thread's messages, parent first, one page at a time.

        Raises ThreadNotFound when Slack has no message at the thread's root ts.
        """
        cursor: str | None = None
        while True:
            try:
                response = self._call(
                    self._client.conversations_replies,
                    channel=self._thread.channel,
                    ts=self._thread.thread_ts,
                    limit=PAGE_LIMIT,
                    cursor=cursor,
                    # Without it, Slack leaves out the metadata that names a contact.
                    include_all_metadata=True,
                )
            except BackfillError as failure:
                if failure.slack_error == THREAD_NOT_FOUND:
                    raise ThreadNotFound from failure
                raise
            yield [item for item in response.get("messages") or [] if isinstance(item, dict)]
            # Slack's pagination ends when next_cursor is empty, and conversations.replies then
            # also sets has_more to false.
            next_cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if next_cursor is None or response.get("has_more") is False:
                return
            if next_cursor == cursor:
                # The same page again would never end the loop.
                log.warning(
                    "backfill stopped on a repeated cursor team=%s channel=%s thread=%s",
                    self._thread.team,
                    self._thread.channel,
                    self._thread.thread_ts,
                )
                return
            cursor = next_cursor

    def _call(self, api_method: Callable[..., SlackResponse], **arguments: Any) -> dict[str, Any]:
        """Call a Web API method and retry it on HTTP 429. Raises BackfillError on a Slack error."""
        # slack_sdk names its methods after Slack's: conversations_replies is conversations.replies.
        method = api_method.__name__.replace("_", ".", 1)
        retries = 0
        while True:
            try:
                response = api_method(**arguments)
                return response.data if isinstance(response.data, dict) else {}
            except SlackApiError as failure:
                if failure.response.status_code != 429:
                    raise _history_error(self._thread, method, failure) from failure
                wait = _retry_after(failure)
                if (
                    retries >= MAX_RATE_LIMIT_RETRIES
                    or self.waited_seconds + wait > MAX_RATE_LIMIT_WAIT_SECONDS
                ):
                    log.warning(
                        "backfill gave up on rate limit team=%s channel=%s thread=%s method=%s "
                        "retries=%d waited=%ds",
                        self._thread.team,
                        self._thread.channel,
                        self._thread.thread_ts,
                        method,
                        retries,
                        self.waited_seconds,
                    )
                    raise BackfillError(
                        "Slack is rate-limiting caretbot's reads of this thread's history. "
                        "Try again in a few minutes.",
                        slack_error="ratelimited",
                    ) from failure
                retries += 1
                log.info(
                    "backfill rate limited team=%s channel=%s thread=%s method=%s "
                    "retry_after=%ds attempt=%d",
                    self._thread.team,
                    self._thread.channel,
                    self._thread.thread_ts,
                    method,
                    wait,
                    retries,
                )
                time.sleep(wait)
                self.waited_seconds += wait


def _retry_after(failure: SlackApiError) -> int:
    headers = failure.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0, int(value)) if value is not None else DEFAULT_RETRY_AFTER_SECONDS
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS


def _history_error(thread: ThreadRef, method: str, failure: SlackApiError) -> BackfillError:
    error = failure.response.get("error") or "unknown_error"
    if error != THREAD_NOT_FOUND:
        log.warning(
            "backfill failed team=%s channel=%s thread=%s method=%s error=%s",
            thread.team,
            thread.channel,
            thread.thread_ts,
            method,
            error,
        )
    if error in ("not_in_channel", "channel_not_found"):
        advice = "Invite caretbot to the channel, then try again."
    elif error == "missing_scope":
        advice = "Ask your admin to reinstall caretbot so that it may read the channel."
    else:
        advice = "Try again later."
    return BackfillError(
        f"caretbot could not read this thread's history from Slack ({error}). {advice}",
        slack_error=error,
    )


def _store_page(
    session_scope: SessionScope,
    thread: ThreadRef,
    page: list[dict[str, Any]],
    *,
    shared: bool,
    context: BoltContext,
) -> int:
    """Store the page's ordinary messages that are not stored yet, and return how many."""
    added = 0
    with session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=thread.team, channel_id=thread.channel, thread_ts=thread.thread_ts
        )
        for raw in page:
            # Joins, topic changes and the tombstone of a deleted root are no conversation.
            if raw.get("subtype") not in ORDINARY_SUBTYPES:
                continue
            # The live recorder reads a message event in its envelope, so the history message
            # gets one. Slack's history messages do not name their channel.
            # NOTE: Slack documents `user_team` on message events in shared channels, not on
            # conversations.replies messages. Without it, an author from another organization
            # counts as the contact only through a linked contact or a listed bot.
            body = {
                "team_id": thread.team,
                "is_ext_shared_channel": shared,
                "event": {**raw, "channel": thread.channel},
            }
            message = parse_incoming(body)
            if message is None or message.thread != thread:
                continue
            side = decide_side(session, message, context)
            stored = store_message(
                session,
                conversation,
                NewMessage(
                    ts=message.ts,
                    side=side,
                    text=message.text,
                    user_id=message.user_id,
                    bot_id=message.bot_id,
                    subtype=message.subtype,
                    file_names=message.file_names,
                ),
            )
            if stored:
                added += 1
    return added
