"""INSERT ... ON CONFLICT DO NOTHING for both databases caretbot runs on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_conflict(
    session: Session, model: type[SQLModel], values: dict[str, Any], *, conflict_on: list[str]
) -> bool:
    """Insert one row unless one with the same key exists; return whether it was inserted.

    The database decides, so two processes racing on the same key cannot both win.
    """
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise NotImplementedError(f"database dialect {dialect!r} is not supported")
    # RETURNING tells reliably whether a row went in; rowcount is -1 on some drivers.
    statement = (
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=conflict_on)
        .returning(*table.primary_key.columns)
    )
    return session.execute(statement).first() is not None
