"""Throwaway databases for a bench run: a SQLite file in a temporary folder, or a PostgreSQL
database made beside the given one and dropped at the end."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db import normalise_database_url


@contextlib.contextmanager
def sqlite_database(name: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="kyoso-bench-") as folder:
        yield f"sqlite:///{Path(folder) / f'{name}.db'}"


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    url = make_url(normalise_database_url(base_url))
    name = f"kyoso_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
