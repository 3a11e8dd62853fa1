"""Socket Mode end to end: the real app over slack_sdk's builtin client, the double's WebSocket.

The in-process tests run create_app() with Bolt's SocketModeHandler, as `caretbot socket`
does. The subprocess tests run `caretbot socket` itself.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import create_app
from bot.config import Settings
from bot.serving import TrackingExecutor
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import message_event, new_ts
from storage.db import create_db_engine, session_scope_for
from tests.support import AGENT, CHANNEL

# `caretbot` runs bot.cli.main, as `python -m bot` does.
CARETBOT = [sys.executable, "-m", "bot"]


class SocketBot:
    """caretbot connected to the double in Socket Mode, in this process."""

    def __init__(self, slack: SlackDouble, db_url: str) -> None:
        settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": "unused-in-socket-mode",
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": db_url,
            },
            socket_mode=True,
        )
        self.engine = create_db_engine(db_url)
        self.executor = TrackingExecutor()
        app = create_app(
            settings,
            session_scope=session_scope_for(self.engine),
            listener_executor=self.executor,
        )
        self.handler = SocketModeHandler(app, settings.app_token)

    def stop(self) -> None:
        self.handler.close()
        self.executor.shutdown(wait=True)
        self.engine.dispose()


@pytest.fixture
def socket_bot(slack: SlackDouble, db_url: str) -> Iterator[SocketBot]:
    running = SocketBot(slack, db_url)
    running.handler.connect()
    slack.wait_socket_connected()
    # The app checked its token at start-up; tests look only at what they cause.
    slack.reset()
    yield running
    # Closing from the double's end first spares close() slack_sdk's 3-second receive timeout.
    running.handler.client.default_auto_reconnect_enabled = False
    running.handler.client.auto_reconnect_enabled = False
    slack.socket_close()
    running.stop()


def help_in_thread(thread_ts: str) -> dict:
    return message_event("^help", user=AGENT, channel=CHANNEL, thread_ts=thread_ts)


def test_help_answered_over_socket_mode(socket_bot, slack):
    root = new_ts()

    envelope_id = slack.socket_send(help_in_thread(root))
    ack = slack.wait_for_ack(envelope_id)
    [call] = slack.wait_for("chat.postEphemeral")

    assert ack.payload is None
    assert call.ok, call.error
    assert call.args["user"] == AGENT
    assert call.args["channel"] == CHANNEL
    assert call.args["thread_ts"] == root
    assert call.args["text"] == "caretbot commands"
    assert slack.socket_errors == []


def test_redelivered_event_runs_command_once(socket_bot, slack):
    event = help_in_thread(new_ts())

    first = slack.socket_send(event)
    slack.wait_for_ack(first)
    slack.wait_for("chat.postEphemeral")
    without_count = slack.socket_send(event)
    slack.wait_for_ack(without_count)
    retried = slack.socket_send(event, retry_attempt=1)
    slack.wait_for_ack(retried)
    socket_bot.executor.wait_idle()

    assert len(slack.socket_acks) == 3
    assert len(slack.calls_to("chat.postEphemeral")) == 1
    assert "retry_attempt" not in slack.socket_envelopes[1]
    assert slack.socket_envelopes[2]["retry_attempt"] == 1


def test_bot_answers_after_refresh(socket_bot, slack):
    slack.socket_disconnect()
    slack.wait_socket_connected(total=2)
    # slack_sdk drops the old connection once the new one is open.
    slack.wait_socket_connection_count(1)

    envelope_id = slack.socket_send(help_in_thread(new_ts()))
    slack.wait_for_ack(envelope_id)
    [call] = slack.wait_for("chat.postEphemeral")

    assert call.ok, call.error
    assert len(slack.calls_to("apps.connections.open")) == 1


# The `caretbot socket` command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command_env(slack: SlackDouble, tmp_path: Path, **values: str) -> dict[str, str]:
    """Return an environment with no Slack, database or proxy settings but `values`."""
    dropped = ("SLACK_", "DATABASE_URL", "TEST_DATABASE_URL", "LOG_LEVEL")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(dropped) and "proxy" not in name.lower()
    }
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET="unused-in-socket-mode",
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'caretbot.db'}",
    )
    env.update(values)
    return env


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"caretbot exited with {process.returncode} before serving")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_socket_command_connects_and_answers(slack, tmp_path):
    port = free_port()
    log_path = tmp_path / "caretbot.log"
    env = command_env(slack, tmp_path, SLACK_APP_TOKEN=slack.app_token)

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*CARETBOT, "socket", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        slack.wait_socket_connected(timeout=30)
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        envelope_id = slack.socket_send(help_in_thread(new_ts()))
        slack.wait_for_ack(envelope_id, timeout=10)
        [call] = slack.wait_for("chat.postEphemeral", timeout=10)

        process.terminate()
        returncode = process.wait(timeout=30)
        slack.wait_socket_connection_count(0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text()

    assert health.status_code == 200, output
    assert health.json() == {"ok": True, "database": "ok"}
    assert call.ok, call.error
    assert call.args["user"] == AGENT
    assert returncode == 0, output
    assert slack.socket_errors == []
    assert slack.bot_token not in output
    assert slack.app_token not in output


def test_socket_command_needs_app_token(slack, tmp_path):
    result = subprocess.run(
        [*CARETBOT, "socket", "--port", str(free_port())],
        cwd=tmp_path,
        env=command_env(slack, tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stderr.strip().splitlines()

    assert result.returncode == 2
    assert len(lines) == 1, result.stderr
    assert "SLACK_APP_TOKEN" in lines[0]
    assert slack.calls == []
    assert slack.socket_connection_count == 0


def test_socket_command_rejected_app_token(slack, tmp_path):
    result = subprocess.run(
        [*CARETBOT, "socket", "--port", str(free_port())],
        cwd=tmp_path,
        env=command_env(slack, tmp_path, SLACK_APP_TOKEN="xapp-not-the-double-token"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    last_line = result.stderr.strip().splitlines()[-1]

    assert result.returncode == 2, result.stderr
    assert "apps.connections.open failed (invalid_auth)" in last_line
    assert "SLACK_APP_TOKEN" in last_line
    assert slack.socket_connection_count == 0
