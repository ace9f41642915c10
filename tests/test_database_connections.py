"""Pooled PostgreSQL connections the server ended (a restart, an idle timeout, a terminated
backend) are replaced before a request uses them, and healthy ones are reused as they are."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from bot.db import make_engine, normalise_database_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only: SQLite has no server"
)


@pytest.fixture
def pooled(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def admin(database_url: str) -> Iterator[Connection]:
    engine = create_engine(normalise_database_url(database_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Connection, pids: set[int]) -> None:
    for pid in pids:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = admin.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
            {"pids": list(pids)},
        ).scalar_one()
        if not alive:
            return
        time.sleep(0.02)
    raise AssertionError("the backends did not end")


def test_a_healthy_pooled_connection_is_reused(pooled: Engine) -> None:
    assert _backend(pooled) == _backend(pooled)


def test_a_connection_the_server_ended_is_replaced_before_use(
    pooled: Engine, admin: Connection
) -> None:
    first = _backend(pooled)
    _terminate(admin, {first})
    assert _backend(pooled) != first  # no error reached the caller


def test_every_pooled_connection_ended_at_once_is_replaced(
    pooled: Engine, admin: Connection
) -> None:
    held = [pooled.connect() for _ in range(5)]
    pids = {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in held}
    for connection in held:
        connection.close()  # back to the pool, as after a burst of requests
    _terminate(admin, pids)
    again = [pooled.connect() for _ in range(5)]
    try:
        now = {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in again}
    finally:
        for connection in again:
            connection.close()
    assert len(now) == 5 and not now & pids
