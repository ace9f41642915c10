"""Engine and session factory; the only place that knows database dialect quirks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from bot.idle_sockets import closed_by_peer


def normalise_database_url(url: str) -> str:
    """Plain `postgresql://` means psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# An unreachable PostgreSQL must fail in seconds, not hold a request past Slack's 3 s.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 2


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_database_url(url)
    # Errors and logs never show bound parameters: they hold applicants' names and emails.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        **kwargs,
    )
    event.listen(engine.pool, "checkout", _refuse_closed_by_server)
    return engine


def _refuse_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout, a terminated
    backend) is replaced before use, without the round trip `pool_pre_ping` costs."""
    if dbapi_connection.closed:
        raise DisconnectionError("the connection is closed")
    if closed_by_peer(dbapi_connection):
        raise DisconnectionError("the server closed the connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web threads read while a job writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then writes
    # fails at once with "database is locked" instead of waiting for the busy timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


SessionFactory = sessionmaker[Session]


def insert_for(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


_INSERTS_OR_SKIPS: dict[tuple[str, str, tuple[str, ...], str], Any] = {}


def insert_or_skip(session: Session, table: Table, *, unique: Sequence[str], returning: str) -> Any:
    """`INSERT … ON CONFLICT (unique) DO NOTHING RETURNING returning`, built once per dialect
    and executed with parameters: a statement built with its values each time costs more
    Python than the round trip on the hot paths (an event's claim, a detection)."""
    key = (session.get_bind().dialect.name, table.name, tuple(unique), returning)
    statement = _INSERTS_OR_SKIPS.get(key)
    if statement is None:
        statement = _INSERTS_OR_SKIPS.setdefault(
            key,
            insert_for(session)(table)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(table.c[returning]),
        )
    return statement


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def engine_of(session_factory: SessionFactory) -> Engine:
    engine = session_factory.kw["bind"]
    if not isinstance(engine, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return engine
