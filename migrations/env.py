from __future__ import annotations

from alembic import context

import models
from bot.db import make_engine, normalise_database_url

config = context.config
target_metadata = models.Base.metadata


# The knowledge search index is made by migration 0009 in each database's own way (an FTS5
# table and its shadow tables on SQLite, a GIN expression index on PostgreSQL): not models.
_OUTSIDE_THE_MODELS = ("knowledge_fts", "ix_knowledge_entries_search_keys_gin")


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(_OUTSIDE_THE_MODELS)


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.settings import CoreSettings

        url = CoreSettings().database_url
    return normalise_database_url(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
