"""Serve caretbot on a background thread, for the demo, the tests and the benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import uvicorn
from starlette.applications import Starlette

from bot.app import build_outbox, build_web_client, create_app
from bot.config import Settings
from bot.home_refresh import HomeRefresher
from bot.portal.app import build_portal
from bot.recording import MessageRecorder
from bot.slackdouble import SlackDouble
from bot.slackdouble.signing import post_to_bot
from bot.web import create_web_app
from storage.db import create_db_engine, session_scope_for


class BackgroundServer:
    """Uvicorn on 127.0.0.1 and a free port, running in a daemon thread."""

    def __init__(self, app: Starlette, *, host: str = "127.0.0.1", log_level: str = "warning"):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the web server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TrackingExecutor(ThreadPoolExecutor):
    """A listener executor that can wait until every listener it started has finished.

    The demo and the tests wait on it to know that a request caused all it will cause. Work
    that listeners hand to another thread, such as the message writer's queue, is covered by
    a drain: a function that wait_idle calls with its timeout once no listener runs.
    """

    def __init__(self, max_workers: int = 8) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._pending = 0
        self._idle = threading.Condition()
        self._drains: list[Callable[[float], None]] = []

    def add_drain(self, drain: Callable[[float], None]) -> None:
        """Make wait_idle also call `drain(timeout)` after the listeners have finished."""
        self._drains.append(drain)

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
        """Block until no listener runs and every drain returned.

        Raises AssertionError when a listener still runs after `timeout` seconds, and
        whatever a drain raises when it times out.
        """
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout=timeout):
                raise AssertionError(f"{self._pending} listener(s) still running after {timeout}s")
        for drain in self._drains:
            drain(timeout)


class LocalBot:
    """caretbot served over HTTP on 127.0.0.1 against a Slack double, as in the demo."""

    def __init__(
        self,
        slack: SlackDouble,
        db_url: str,
        *,
        signing_secret: str,
        env: dict[str, str] | None = None,
    ) -> None:
        """Read settings pointing at the double; `env` adds or replaces variables."""
        self.slack = slack
        self.settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": signing_secret,
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": db_url,
                **(env or {}),
            }
        )
        self.engine = create_db_engine(db_url)
        self.session_scope = session_scope_for(self.engine)
        self.executor = TrackingExecutor()
        self.outbox = build_outbox(self.settings, self.session_scope)
        self.recorder = MessageRecorder(self.session_scope)
        self.home = HomeRefresher(self.session_scope, build_web_client(self.settings))
        # Waiting for the listeners also waits until the messages they queued are stored,
        # and then until the App Homes those changes affect are rebuilt.
        self.executor.add_drain(self.recorder.flush)
        self.executor.add_drain(self.home.flush)
        self.app = create_app(
            self.settings,
            session_scope=self.session_scope,
            listener_executor=self.executor,
            outbox=self.outbox,
            recorder=self.recorder,
            home=self.home,
        )
        self.server = BackgroundServer(
            create_web_app(
                self.app,
                self.engine,
                signing_secret=self.settings.signing_secret,
                portal=build_portal(self.settings, self.session_scope, self.outbox),
            )
        )
        self._stopped = False

    def start(self, *, outbox: bool = True) -> LocalBot:
        """Serve; with `outbox`, also send hand-offs on the outbox's background thread."""
        self.server.start()
        if outbox:
            self.outbox.start()
        return self

    def stop(self) -> None:
        """Stop serving; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self.outbox.stop()
        self.server.stop()
        self.executor.shutdown(wait=True)
        self.recorder.stop()
        self.home.stop()
        self.engine.dispose()

    @property
    def events_url(self) -> str:
        return f"{self.server.url}/slack/events"

    def post(self, payload: dict[str, Any], **options: Any) -> tuple[int, dict[str, str], bytes]:
        """Send a payload as Slack would, signed with the app's signing secret."""
        return post_to_bot(self.events_url, payload, self.settings.signing_secret, **options)

    def post_and_settle(self, payload: dict[str, Any], **options: Any) -> int:
        """Send a payload, wait for every listener it started, and return the HTTP status."""
        status, _headers, _body = self.post(payload, **options)
        self.executor.wait_idle()
        return status
