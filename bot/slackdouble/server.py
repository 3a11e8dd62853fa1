"""SlackDouble: a strict fake Slack Web API served over HTTP on 127.0.0.1.

Point a real slack_sdk WebClient at `double.base_url`. Every call is recorded as a Call, and
each method rejects what Slack rejects with Slack's error name (see the methods package). The
same port serves Socket Mode at the URLs apps.connections.open returns (see socket_mode).
"""

import copy
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.slackdouble import endpoints, limits
from bot.slackdouble.calls import Call, CallLog, Failure
from bot.slackdouble.methods import METHODS, ApiError, MethodContext
from bot.slackdouble.socket_mode import ACK_TIMEOUT_SECONDS, MAX_REDELIVERIES, SocketModeMixin
from bot.slackdouble.state import (
    Conversation,
    ResponseUrl,
    Trigger,
    Workspace,
    make_user,
    make_usergroup,
)
from bot.slackdouble.transport import DoubleHTTPServer, RequestError, bearer_token, parse_arguments

logger = logging.getLogger(__name__)

DEFAULT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "reactions:read",
    "reactions:write",
    "users:read",
    "users:read.email",
)


# Methods that the double's user token may call, as a workspace admin's token could.
USER_TOKEN_METHODS = frozenset({"auth.test", "chat.delete"})


class SlackDouble(SocketModeMixin):
    """A fake Slack workspace, Web API and Socket Mode endpoint.

    Use it as a context manager, or call start() and stop(). `socket_ack_timeout` is the
    seconds before an unacknowledged events_api envelope is redelivered (None turns
    redelivery off), at most `socket_max_redeliveries` times. With `socket_count_retries`
    False, a redelivery repeats the envelope's retry fields instead of counting up.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-double-token",
        app_token: str = "xapp-double-token",
        user_token: str = "xoxp-double-user-token",
        team_id: str = "T0DOUBLE",
        team_name: str = "Double Workspace",
        bot_user_id: str = "UBOTDOUBLE",
        bot_id: str = "BBOTDOUBLE",
        bot_name: str = "doublebot",
        app_id: str = "ADOUBLE",
        scopes: Iterable[str] = DEFAULT_SCOPES,
        trigger_ttl: float = limits.TRIGGER_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        socket_ack_timeout: float | None = ACK_TIMEOUT_SECONDS,
        socket_max_redeliveries: int = MAX_REDELIVERIES,
        socket_count_retries: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        # A workspace admin's user token: it may delete anyone's message with chat.delete.
        self.user_token = user_token
        self.team_name = team_name
        self.scopes = tuple(scopes)
        self.trigger_ttl = trigger_ttl
        self.clock = clock
        # The state behind the API. Callers outside this class should use the seeding and
        # inspection methods below, which take the lock that the server threads also take.
        self.workspace = Workspace(
            team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id
        )
        self._lock = threading.RLock()
        self._log = CallLog()
        self._server: DoubleHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._init_socket_mode(
            ack_timeout=socket_ack_timeout,
            max_redeliveries=socket_max_redeliveries,
            count_retries=socket_count_retries,
        )
        self.add_user(bot_user_id, bot_name, is_bot=True)

    # Lifecycle

    def start(self) -> "SlackDouble":
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("SlackDouble is already started")
        self._server = DoubleHTTPServer(("127.0.0.1", 0), self)
        self._start_socket_mode()
        # A short poll interval keeps stop() fast: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slackdouble",
            daemon=True,
        )
        self._thread.start()
        logger.info("slackdouble started base_url=%s", self.base_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        # WebSocket connections outlive shutdown(), which only stops accepting new ones.
        self._stop_socket_mode()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        logger.info("slackdouble stopped base_url=%s", self.base_url)
        self._server = None
        self._thread = None

    def __enter__(self) -> "SlackDouble":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackDouble is not started; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Web API base URL for slack_sdk, with the trailing slash it expects."""
        return f"{self.origin}/api/"

    # Recorded calls

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call so far, in arrival order."""
        return self._log.snapshot()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self._log.snapshot() if call.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until `count` calls to `method` (ok or not) match `where`, and return them all.

        `timeout` is in real seconds, whatever clock the double was given.
        Raises AssertionError listing the calls that did arrive.
        """
        return self._log.wait_for(method, count, timeout, where)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail, before any other check runs.

        Status 429 responds with {"ok": false, "error": "ratelimited"} and a Retry-After header
        (default 1 second). A 5xx status responds with that status and the error
        "internal_error" unless `error` is given. Status 200 needs `error`, which it returns
        as a Slack API error.
        """
        if status == 429:
            error = error or "ratelimited"
        elif status >= 500:
            error = error or "internal_error"
        elif error is None:
            raise ValueError(f"fail_next with status {status} needs an error name")
        self._log.add_failure(method, Failure(status, error, retry_after, times))

    def reset(self) -> None:
        """Forget recorded calls, pending failures and Socket Mode records; keep the workspace.

        The Socket Mode records are sent envelopes, acks, errors and pending redeliveries.
        Views and open Socket Mode connections stay.
        """
        self._log.clear()
        self._reset_socket_mode()

    # Workspace seeding

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "America/New_York",
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
    ) -> dict:
        """Add or replace a user, and return the user object that users.info will serve."""
        user = make_user(
            user_id,
            name,
            team_id=self.workspace.team_id,
            real_name=real_name,
            email=email,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
            deleted=deleted,
            tz=tz,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
        )
        with self._lock:
            self.workspace.users[user_id] = user
            return copy.deepcopy(user)

    def add_usergroup(
        self,
        usergroup_id: str,
        name: str,
        *,
        handle: str | None = None,
        users: Iterable[str] = (),
        disabled: bool = False,
    ) -> dict:
        """Add or replace a user group ("S..."); usergroups.users.list serves `users`."""
        usergroup = make_usergroup(
            usergroup_id,
            name,
            team_id=self.workspace.team_id,
            handle=handle or name.lower().replace(" ", "-"),
            users=list(users),
            disabled=disabled,
        )
        with self._lock:
            self.workspace.usergroups[usergroup_id] = usergroup
            return copy.deepcopy(usergroup)

    def close_view(self, view_id: str) -> None:
        """Take a view and the views above it off their modal's stack.

        Slack's client does this when a pushed view's submission is acknowledged without a
        response_action, so that the next views.push finds room on the stack.
        """
        with self._lock:
            record = self.workspace.views.get(view_id)
            if record is None:
                return
            stack = self.workspace.stacks.get(record.root_view_id, [])
            if view_id in stack:
                del stack[stack.index(view_id) :]

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        is_ext_shared: bool = False,
        bot_is_member: bool = True,
        is_archived: bool = False,
    ) -> dict:
        """Add a conversation, and return the object that conversations.info will serve.

        An id starting with "D" makes a DM with the first member.
        """
        members = set(members)
        is_im = channel_id.startswith("D")
        conversation = Conversation(
            id=channel_id,
            name=name,
            is_private=is_private or is_im,
            is_im=is_im,
            is_ext_shared=is_ext_shared,
            is_archived=is_archived,
            members=members,
            bot_is_member=bot_is_member,
            user=next(iter(sorted(members)), None) if is_im else None,
        )
        with self._lock:
            self.workspace.conversations[channel_id] = conversation
            return conversation.to_slack(include_num_members=True)

    def add_message(
        self,
        channel: str,
        ts: str | None,
        user: str,
        text: str,
        thread_ts: str | None = None,
        **fields: Any,
    ) -> dict:
        """Seed a message as if `user` had posted it, with `fields` added to the message."""
        with self._lock:
            if channel not in self.workspace.conversations:
                raise KeyError(f"unknown channel {channel!r}; call add_channel() first")
            message = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts or self.workspace.next_ts(),
                "team": self.workspace.team_id,
                **fields,
            }
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
            self.workspace.insert_message(channel, message)
            return copy.deepcopy(message)

    def issue_trigger_id(self, *, user_id: str | None = None, view_id: str | None = None) -> str:
        """Return a new trigger_id, valid for trigger_ttl seconds of the clock, usable once.

        views.push onto a specific modal needs the modal's `view_id`, as a trigger from an
        interaction inside that modal would carry it.
        """
        trigger_id = (
            f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        )
        with self._lock:
            self.workspace.triggers[trigger_id] = Trigger(self.clock(), user_id, view_id)
        return trigger_id

    def new_response_url(
        self,
        *,
        user: str,
        channel: str,
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Return a response_url on the double for a payload builder's `response_url`."""
        response_id = secrets.token_hex(12)
        with self._lock:
            target = ResponseUrl(user, channel, message_ts, thread_ts)
            self.workspace.response_urls[response_id] = target
        return f"{self.origin}/response/{response_id}"

    # Inspection

    def messages_in(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """Return the channel's messages in ts order, seeded ones included, ephemerals not.

        With `thread_ts`, return only that thread's replies, without the parent.
        """
        with self._lock:
            messages = self.workspace.messages.get(channel, [])
            if thread_ts is not None:
                messages = [
                    message
                    for message in messages
                    if message.get("thread_ts") == thread_ts and message["ts"] != thread_ts
                ]
            return copy.deepcopy(messages)

    def ephemerals_for(self, user: str) -> list[dict]:
        with self._lock:
            return copy.deepcopy([e for e in self.workspace.ephemerals if e["user"] == user])

    def dm_channel_id(self, user_id: str) -> str:
        """Return the id conversations.open gives the bot's DM with this user."""
        with self._lock:
            existing = self.workspace.find_dm(user_id)
            return existing.id if existing is not None else "D" + user_id

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            record = self.workspace.views.get(view_id)
            return copy.deepcopy(record.view) if record is not None else None

    def file_content(self, file_id: str) -> bytes | None:
        """Return the bytes uploaded for a file, or None before the upload arrived."""
        with self._lock:
            record = self.workspace.files.get(file_id)
            return record.content if record is not None else None

    # HTTP

    def handle_http(
        self, verb: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Respond to one HTTP request. The server's handler threads call this."""
        parts = urlsplit(path)
        content_type = headers.get("Content-Type")
        method = parts.path.removeprefix("/api/")
        try:
            if parts.path.startswith("/api/"):
                return self._web_api(method, parts.query, headers, body)
            if parts.path.startswith("/upload/v1/"):
                ticket = parts.path.removeprefix("/upload/v1/")
                with self._lock:
                    result = endpoints.receive_upload(self.workspace, ticket, content_type, body)
                return self._finish_text("upload", result)
            if parts.path.startswith("/response/"):
                response_id = parts.path.removeprefix("/response/")
                with self._lock:
                    result = endpoints.receive_response_url(self.workspace, response_id, body)
                return self._finish_text("response_url", result)
        except Exception:
            # A bug in the double must reach the test as a failed call, not a hung socket.
            logger.exception("slackdouble failed on %s %s", verb, parts.path)
            return self._finish(method, {}, 500, {"ok": False, "error": "fatal_error"})
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"

    def _web_api(
        self, method: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            args, arg_token = parse_arguments(query, headers.get("Content-Type"), body)
        except RequestError as error:
            return self._finish(method, {}, 200, ApiError(error.error).to_response())

        failure = self._log.take_failure(method)
        if failure is not None:
            response = {"ok": False, "error": failure.error}
            extra = {}
            if failure.status == 429:
                retry_after = failure.retry_after if failure.retry_after is not None else 1
                extra["Retry-After"] = str(retry_after)
            return self._finish(method, args, failure.status, response, extra)

        registered = METHODS.get(method)
        if registered is None:
            response = {"ok": False, "error": "unknown_method", "req_method": method}
            return self._finish(method, args, 200, response)
        token = bearer_token(headers) or arg_token
        if token is None:
            return self._finish(method, args, 200, {"ok": False, "error": "not_authed"})
        token_types = {self.bot_token: "bot", self.app_token: "app", self.user_token: "user"}
        if token not in token_types:
            return self._finish(method, args, 200, {"ok": False, "error": "invalid_auth"})
        token_type = token_types[token]
        user_token_allowed = token_type == "user" and method in USER_TOKEN_METHODS
        if token_type != registered.token_type and not user_token_allowed:
            response = {"ok": False, "error": "not_allowed_token_type"}
            return self._finish(method, args, 200, response)

        with self._lock:
            context = self._context(token_type)
            try:
                # The double's user token is granted the user scopes its methods need.
                if registered.scope is not None and token_type != "user":
                    context.require_scope(registered.scope)
                response = registered.handler(context, args)
            except ApiError as error:
                response = error.to_response()
            # Snapshot the response now: it may share dicts with the workspace.
            response = json.loads(json.dumps(response))
        extra = {}
        if registered.token_type == "bot":
            # Slack names the token's scopes in this header, and Bolt reads it after auth.test.
            extra["x-oauth-scopes"] = ",".join(self.scopes)
        return self._finish(method, args, 200, response, extra)

    def _context(self, token_type: str = "bot") -> MethodContext:
        return MethodContext(
            token_type=token_type,
            workspace=self.workspace,
            scopes=frozenset(self.scopes),
            origin=self.origin,
            clock=self.clock,
            trigger_ttl=self.trigger_ttl,
            team_name=self.team_name,
        )

    def _finish(
        self,
        method: str,
        args: dict,
        status: int,
        response: dict,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        error = response.get("error")
        ok = status == 200 and bool(response.get("ok"))
        recorded_args = copy.deepcopy(args)
        self._log.record(Call(method, recorded_args, status, response, ok, error, self.clock()))
        headers = {"Content-Type": "application/json; charset=utf-8", **(extra_headers or {})}
        return status, headers, json.dumps(response).encode("utf-8")

    def _finish_text(
        self, method: str, result: endpoints.EndpointResult
    ) -> tuple[int, dict[str, str], bytes]:
        ok = result.status == 200
        response = {"ok": ok, "body": result.text}
        error = None if ok else result.text
        self._log.record(
            Call(method, result.args, result.status, response, ok, error, self.clock())
        )
        return result.status, {"Content-Type": "text/plain; charset=utf-8"}, result.text.encode()
