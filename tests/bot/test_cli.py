"""The caretbot command as a user runs it: real subprocesses, the Slack double, SQLite."""

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.doctor import run_doctor
from bot.scopes import BOT_SCOPES
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import message_event, new_ts
from bot.slackdouble.signing import post_to_bot
from storage import migrate
from storage.db import create_db_engine

FIXTURES = Path(__file__).parent.parent / "fixtures"


def caretbot_env(slack, tmp_path, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "LOG_LEVEL"))
    }
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token if slack else "xoxb-test",
        SLACK_SIGNING_SECRET="cli-secret",
        SLACK_API_URL=slack.base_url if slack else "http://127.0.0.1:9/api/",
        DATABASE_URL=f"sqlite:///{tmp_path / 'caretbot.db'}",
    )
    env.update(extra)
    return env


def run_caretbot(*args, env, cwd, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def double():
    with SlackDouble(scopes=BOT_SCOPES) as slack:
        slack.add_user("U0AGENT", "ann")
        slack.add_channel("C0CANDIDATES", "candidates", members=["U0AGENT"])
        yield slack


def wait_for_health(url, process, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"caretbot exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status, json.loads(response.read())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_serve_creates_database_and_answers(double, tmp_path):
    port = free_port()
    env = caretbot_env(double, tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        reply_status, _headers, _body = post_to_bot(
            f"http://127.0.0.1:{port}/slack/events",
            message_event("^help", user="U0AGENT", channel="C0CANDIDATES", thread_ts=new_ts()),
            "cli-secret",
        )
        [answer] = double.wait_for("chat.postEphemeral")
    finally:
        process.terminate()
        _out, errors = process.communicate(timeout=20)

    assert (status, health) == (200, {"ok": True, "database": "ok"})
    assert process.returncode == 0, errors
    assert reply_status == 200
    assert answer.ok
    assert answer.args["user"] == "U0AGENT"
    assert (tmp_path / "caretbot.db").exists()
    assert double.bot_token not in errors
    assert "cli-secret" not in errors


@pytest.mark.parametrize(
    ("unset", "expected"),
    [
        ("SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN is not set"),
        ("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET is not set"),
    ],
)
def test_serve_stops_on_missing_setting(tmp_path, unset, expected):
    env = caretbot_env(None, tmp_path)
    env.pop(unset)

    result = run_caretbot("serve", env=env, cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"caretbot: {expected}")


def test_serve_stops_on_rejected_token(double, tmp_path):
    env = caretbot_env(double, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong-token")

    result = run_caretbot("serve", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "xoxb-wrong-token" not in result.stderr


def test_env_file_is_read_from_working_directory(double, tmp_path):
    env = caretbot_env(double, tmp_path)
    bot_token = env.pop("SLACK_BOT_TOKEN")
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={bot_token}\nLOG_LEVEL=LOUD\n")

    result = run_caretbot("serve", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "LOG_LEVEL is invalid: 'LOUD'" in result.stderr


def test_db_upgrade_reports_revisions(tmp_path):
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = caretbot_env(None, tmp_path, DATABASE_URL=fresh)

    first = run_caretbot("db", "upgrade", env=env, cwd=tmp_path)
    second = run_caretbot("db", "upgrade", env=env, cwd=tmp_path)

    head = migrate.head_revision(fresh)
    assert first.returncode == 0, first.stderr
    assert f"revision none -> {head}" in first.stdout
    assert f"revision {head} -> {head}" in second.stdout


def test_doctor_passes_with_every_scope(double, tmp_path):
    env = caretbot_env(double, tmp_path)
    migrate.upgrade(env["DATABASE_URL"])

    out = _doctor(env)

    assert "FAIL" not in out.text
    assert f"all {len(BOT_SCOPES)} that manifest.yml asks for are granted" in out.text
    assert out.status == 0


def test_doctor_names_missing_scopes(tmp_path):
    granted = [scope for scope in BOT_SCOPES if scope not in ("files:write", "reactions:write")]
    with SlackDouble(scopes=granted) as slack:
        out = _doctor(caretbot_env(slack, tmp_path))

    assert out.status == 1
    assert "FAIL  scopes: the token lacks files:write, reactions:write" in out.text
    assert "reinstall the app" in out.text


def test_doctor_reports_bad_token_and_stale_schema(double, tmp_path):
    env = caretbot_env(double, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked")
    create_db_engine(env["DATABASE_URL"]).connect().close()

    out = _doctor(env)

    assert out.status == 1
    assert "FAIL  token: auth.test failed (invalid_auth)" in out.text
    assert "is at schema revision none, expected" in out.text
    assert "caretbot db upgrade" in out.text


def test_doctor_names_missing_sqlite_folder(double, tmp_path):
    env = caretbot_env(double, tmp_path)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/no/such/folder/caretbot.db"

    out = _doctor(env)

    assert out.status == 1
    assert f"the folder {tmp_path}/no/such/folder of" in out.text
    assert "create the folder" in out.text


def test_doctor_leaves_missing_sqlite_file_alone(double, tmp_path):
    env = caretbot_env(double, tmp_path)

    out = _doctor(env)

    assert out.status == 0
    assert "does not exist yet" in out.text
    assert not (tmp_path / "caretbot.db").exists()


@dataclass
class DoctorOutput:
    status: int
    text: str


def _doctor(env):
    buffer = io.StringIO()
    status = run_doctor(buffer, env)
    return DoctorOutput(status, buffer.getvalue())


def test_import_contacts_command(double, tmp_path):
    env = caretbot_env(double, tmp_path)
    example = FIXTURES / "contacts_example.csv"

    dry = run_caretbot("import", "contacts", str(example), "--dry-run", env=env, cwd=tmp_path)
    real = run_caretbot("import", "contacts", str(example), env=env, cwd=tmp_path)
    again = run_caretbot("import", "contacts", str(example), env=env, cwd=tmp_path)

    assert dry.returncode == 0, dry.stderr
    assert "nothing was written" in dry.stdout
    assert real.returncode == 0, real.stderr
    assert "Contacts: 7 created, 0 updated" in real.stdout
    assert again.returncode == 0
    assert "Contacts: 0 created, 0 updated" in again.stdout
    engine = create_db_engine(env["DATABASE_URL"])
    with engine.connect() as connection:
        teams = connection.execute(sa.text("SELECT DISTINCT workspace_id FROM contact")).all()
    engine.dispose()
    assert teams == [("T0DOUBLE",)]


def test_import_rejects_bad_file_with_line_numbers(tmp_path):
    env = caretbot_env(None, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email,job_title\nAda,ada@example.com,Engineer\nBob,bob@,Analyst\n")

    result = run_caretbot(
        "import", "contacts", str(bad), "--workspace", "T0ABC", env=env, cwd=tmp_path
    )

    assert result.returncode == 1
    assert "line 3: email 'bob@' is invalid" in result.stdout


def test_unreachable_slack_named_without_traceback(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/api/"
    env = caretbot_env(None, tmp_path, SLACK_API_URL=closed)

    listed = run_caretbot("team", "list", env=env, cwd=tmp_path)

    assert listed.returncode == 2
    assert f"cannot reach Slack at {closed}" in listed.stderr
    assert "--workspace TEAM_ID" in listed.stderr
    assert "Traceback" not in listed.stderr


def test_serve_rejects_port_out_of_range(tmp_path):
    env = caretbot_env(None, tmp_path)

    served = run_caretbot("serve", "--port", "99999", env=env, cwd=tmp_path)

    assert served.returncode == 2
    assert "'99999' is not a TCP port: give 1 to 65535" in served.stderr
    assert "Traceback" not in served.stderr
