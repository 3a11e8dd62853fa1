"""The database engine and the session scope that every unit of work opens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import sqlalchemy as sa
from sqlmodel import Session

SessionScope = Callable[[], AbstractContextManager[Session]]


def create_db_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """Build an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=echo,
            # Bolt runs listeners on worker threads, so one connection may cross threads.
            connect_args={"check_same_thread": False, "timeout": 15},
        )
        sa.event.listen(engine, "connect", _configure_sqlite)
        return engine
    # pool_pre_ping costs a round trip per checkout, and the message writer checks out once per
    # batch, not once per message. It replaces a connection that the server closed (a restart,
    # an idle timeout) before a command uses it, which pool_recycle alone would not notice.
    return sa.create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    if not dbapi_connection.execute("PRAGMA database_list").fetchone()[2] == "":
        # WAL lets readers and one writer work at once; an in-memory database has no file for it.
        cursor.execute("PRAGMA journal_mode = WAL")
        # With WAL, NORMAL syncs at checkpoints instead of at every commit. A crash of the
        # process loses nothing; a power cut may lose the last commits, never the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def session_scope_for(engine: sa.Engine) -> SessionScope:
    """Return a factory of session scopes that commit once on success and roll back on error."""

    @contextmanager
    def scope() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    return scope


def ping(engine: sa.Engine) -> None:
    """Run a trivial query; raise if the database does not answer."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
