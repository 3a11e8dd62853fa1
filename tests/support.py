"""The running bot for end-to-end tests: real app, real HTTP, signed requests, Slack double."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bot.app import create_app
from bot.config import Settings
from bot.serving import BackgroundServer
from bot.slackdouble import SlackDouble
from bot.slackdouble.signing import post_to_bot
from bot.web import create_web_app
from storage.db import create_db_engine, session_scope_for

SIGNING_SECRET = "e2e-signing-secret"
TEAM = "T0DOUBLE"
CHANNEL = "C0CANDIDATES"
AGENT = "U0AGENT"
OTHER_AGENT = "U0AGENT2"


class TrackingExecutor(ThreadPoolExecutor):
    """A listener executor that can wait until every listener it started has finished.

    Tests that assert that nothing happened wait on it instead of sleeping.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="test-listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout=timeout):
                raise AssertionError(f"{self._pending} listener(s) still running after {timeout}s")


class RunningBot:
    """caretbot served over HTTP on 127.0.0.1, talking to the Slack double."""

    def __init__(self, slack: SlackDouble, db_url: str) -> None:
        self.slack = slack
        self.settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": db_url,
            }
        )
        self.engine = create_db_engine(db_url)
        self.session_scope = session_scope_for(self.engine)
        self.executor = TrackingExecutor()
        self.app = create_app(
            self.settings, session_scope=self.session_scope, listener_executor=self.executor
        )
        self.server = BackgroundServer(create_web_app(self.app, self.engine))
        self._stopped = False

    def start(self) -> RunningBot:
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self.server.stop()
        self.executor.shutdown(wait=True)
        self.engine.dispose()

    @property
    def events_url(self) -> str:
        return f"{self.server.url}/slack/events"

    def post(self, payload: dict[str, Any], **options: Any) -> tuple[int, dict[str, str], bytes]:
        """Send a payload as Slack would, signed with the app's signing secret."""
        return post_to_bot(self.events_url, payload, SIGNING_SECRET, **options)

    def post_and_settle(self, payload: dict[str, Any], **options: Any) -> int:
        """Send a payload, wait for every listener it started, and return the HTTP status."""
        status, _headers, _body = self.post(payload, **options)
        self.executor.wait_idle()
        return status
