from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage import migrate


def test_migrations_match_models(engine, db_url):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    assert differences == []
    assert migrate.current_revision(engine) == migrate.head_revision(db_url)


def test_upgrade_twice_is_harmless(engine, db_url):
    migrate.upgrade(db_url)

    assert migrate.current_revision(engine) == migrate.head_revision(db_url)
