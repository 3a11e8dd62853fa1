"""Fixtures shared by every test: databases on both backends, the Slack double, the bot."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.scopes import BOT_SCOPES
from bot.slackdouble import SlackDouble
from storage import migrate
from storage.db import SessionScope, create_db_engine, session_scope_for
from tests.smtp_server import SmtpTestServer, make_certificates
from tests.support import AGENT, CHANNEL, OTHER_AGENT, RunningBot

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str]:
    """Rebuild the PostgreSQL test database's schema once per run, from the migrations."""
    assert POSTGRES_URL is not None
    engine = create_db_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or the PostgreSQL one emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'caretbot.db'}"
        migrate.upgrade(url)
        yield url
        return

    url = request.getfixturevalue("_postgres_schema")
    engine = create_db_engine(url)
    tables = [name for name in sa.inspect(engine).get_table_names() if name != "alembic_version"]
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_scope(engine: sa.Engine) -> SessionScope:
    return session_scope_for(engine)


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    """The Slack double with a candidate channel that two agents and the bot are in."""
    double = SlackDouble(scopes=BOT_SCOPES)
    double.add_user(AGENT, "agent.ann", real_name="Ann Agent", email="ann@example.com")
    double.add_user(OTHER_AGENT, "agent.bo", real_name="Bo Agent", email="bo@example.com")
    double.add_channel(CHANNEL, "candidates", members=[AGENT, OTHER_AGENT])
    with double:
        yield double


@pytest.fixture
def bot(slack: SlackDouble, db_url: str) -> Iterator[RunningBot]:
    """caretbot served over HTTP on 127.0.0.1 against the Slack double."""
    running = RunningBot(slack, db_url).start()
    # The app checked its token once at start-up; tests look only at what they cause.
    slack.reset()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory):
    """A test CA and a server certificate for 127.0.0.1, made once with `openssl`."""
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def smtp(certificates) -> Iterator[SmtpTestServer]:
    """A real SMTP server on 127.0.0.1 that offers STARTTLS and keeps what it receives."""
    server = SmtpTestServer(certificates).start()
    yield server
    server.stop()


@pytest.fixture
def mail_bot(slack: SlackDouble, db_url: str, smtp: SmtpTestServer) -> Iterator[RunningBot]:
    """caretbot with email set up; its outbox sends only when a test settles it."""
    running = RunningBot(slack, db_url, env=smtp.env()).start(outbox=False)
    slack.reset()
    yield running
    running.stop()
