"""`caretbot doctor`: check settings, token, scopes and database, and say how to fix each."""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import build_web_client
from bot.config import ConfigError, Settings, read_database_url
from bot.mail import Mailer
from bot.outbox import PermanentFailure, TransientFailure
from bot.scopes import BOT_SCOPES
from storage import migrate
from storage.db import create_db_engine, ping


class Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.problems = 0

    def ok(self, text: str) -> None:
        print(f"ok    {text}", file=self.out)

    def problem(self, text: str, fix: str) -> None:
        self.problems += 1
        print(f"FAIL  {text}\n      fix: {fix}", file=self.out)


def run_doctor(out: TextIO, env: dict[str, str] | None = None) -> int:
    """Print one line per check; return 0 when all pass, 1 otherwise."""
    env = dict(os.environ) if env is None else env
    report = Report(out)

    try:
        settings: Settings | None = Settings.from_env(env)
        report.ok("settings: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set")
    except ConfigError as failure:
        settings = None
        report.problem(f"settings: {failure}", "edit .env (see .env.example) and run doctor again")

    if settings is not None:
        _check_token(report, build_web_client(settings), settings.api_url)
    if env.get("SLACK_APP_TOKEN"):
        _check_app_token(report, env["SLACK_APP_TOKEN"], settings)
    if settings is not None:
        _check_email(report, settings)
    _check_database(report, env)

    verdict = "all checks passed" if report.problems == 0 else f"{report.problems} problem(s)"
    print(verdict, file=out)
    return 0 if report.problems == 0 else 1


def _check_token(report: Report, client: WebClient, api_url: str) -> None:
    try:
        response = client.auth_test()
    except SlackApiError as failure:
        report.problem(
            f"token: auth.test failed ({failure.response.get('error')})",
            "copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions into .env",
        )
        return
    except OSError as failure:
        report.problem(
            f"token: cannot reach the Slack Web API at {api_url} ({failure})",
            "check the network, or SLACK_API_URL if you set it",
        )
        return
    report.ok(f"token: bot {response.get('user_id')} in workspace {response.get('team')}")

    granted = set(filter(None, response.headers.get("x-oauth-scopes", "").split(",")))
    granted = {scope.strip() for scope in granted}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        report.problem(
            f"scopes: the token lacks {', '.join(missing)}",
            "add them under OAuth & Permissions > Bot Token Scopes (manifest.yml lists them "
            "all), then reinstall the app to the workspace",
        )
    else:
        report.ok(f"scopes: all {len(BOT_SCOPES)} that manifest.yml asks for are granted")


def _check_app_token(report: Report, app_token: str, settings: Settings | None) -> None:
    if not app_token.startswith("xapp-"):
        report.problem(
            "Socket Mode: SLACK_APP_TOKEN does not start with xapp-",
            "create an App-Level Token with connections:write under Basic Information",
        )
        return
    base_url = settings.api_url if settings else None
    client = WebClient(token=app_token, base_url=base_url or WebClient.BASE_URL, timeout=10)
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as failure:
        report.problem(
            f"Socket Mode: apps.connections.open failed ({failure.response.get('error')})",
            "give the App-Level Token the connections:write scope and turn Socket Mode on",
        )
        return
    except OSError as failure:
        report.problem(f"Socket Mode: cannot reach Slack ({failure})", "check the network")
        return
    report.ok("Socket Mode: SLACK_APP_TOKEN can open a connection")


def _check_database(report: Report, env: dict[str, str]) -> None:
    try:
        url = read_database_url(env)
    except ConfigError as failure:
        report.problem(f"database: {failure}", "fix DATABASE_URL in .env")
        return
    engine = create_db_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    database_file = engine.url.database if engine.dialect.name == "sqlite" else None
    if database_file and database_file != ":memory:" and not Path(database_file).exists():
        folder = Path(database_file).absolute().parent
        if not folder.is_dir():
            report.problem(
                f"database: the folder {folder} of {shown} does not exist",
                "create the folder, or point DATABASE_URL at a file in an existing one",
            )
            engine.dispose()
            return
        # Connecting would create an empty file; serve and socket create and migrate it.
        report.ok(f"database: {shown} does not exist yet; `caretbot serve` or `socket` creates it")
        engine.dispose()
        return
    try:
        ping(engine)
        current = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as failure:
        report.problem(
            f"database: cannot connect to {shown} ({type(failure.orig or failure).__name__})",
            "check that the database server runs and DATABASE_URL is right",
        )
        return
    finally:
        engine.dispose()
    head = migrate.head_revision(url)
    if current != head:
        report.problem(
            f"database: {shown} is at schema revision {current or 'none'}, expected {head}",
            "run `caretbot db upgrade` (serve and socket do it themselves for SQLite)",
        )
    else:
        report.ok(f"database: {shown} answers and its schema is current ({head})")


def _check_email(report: Report, settings: Settings) -> None:
    if settings.smtp_url is None:
        report.ok(
            "email: SMTP_URL is not set, so deliveries to addresses outside Slack are stored "
            "and emailed once it is"
        )
    else:
        _check_smtp(report, settings)
    if settings.public_url is not None:
        _check_public_url(report, settings.public_url)


def _check_smtp(report: Report, settings: Settings) -> None:
    mailer = Mailer.from_settings(settings)
    assert mailer is not None
    address = mailer.server.address
    try:
        mailer.check()
    except ssl.SSLCertVerificationError as failure:
        report.problem(
            f"email: the certificate of the SMTP server at {address} is not trusted "
            f"({failure.verify_message})",
            "fix the server's certificate, or set SMTP_CA_FILE to the PEM file of its CA",
        )
        return
    except (PermanentFailure, TransientFailure) as failure:
        report.problem(
            f"email: the SMTP server at {address} refused caretbot ({failure})",
            "check the user and password in SMTP_URL (percent-encode @ : / in them)",
        )
        return
    except OSError as failure:
        report.problem(
            f"email: cannot reach the SMTP server at {address} ({failure})",
            "check the host and port in SMTP_URL: 587 with smtp:// (STARTTLS), 465 with smtps://",
        )
        return
    login = "logged in" if mailer.server.username else "connected without a login"
    report.ok(f"email: the SMTP server at {address} answers over TLS; caretbot {login}")


def _check_public_url(report: Report, public_url: str) -> None:
    health = f"{public_url}/healthz"
    try:
        with urllib.request.urlopen(health, timeout=10) as response:  # noqa: S310 (http(s) only)
            status = response.status
    except urllib.error.HTTPError as failure:
        status = failure.code
    except (urllib.error.URLError, OSError) as failure:
        reason = getattr(failure, "reason", failure)
        report.problem(
            f"PUBLIC_URL: {health} does not answer ({reason})",
            "point PUBLIC_URL at the address where `caretbot serve` (or `socket`) is reachable "
            "from outside, through your proxy",
        )
        return
    if status != 200:
        report.problem(
            f"PUBLIC_URL: {health} answered HTTP {status}, expected 200",
            "check that PUBLIC_URL reaches caretbot and not another site, and that its "
            "database answers",
        )
        return
    report.ok(f"PUBLIC_URL: {health} answers, so links in email reach caretbot")
