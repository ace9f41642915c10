"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.engine import make_url

from bot.cli.common import upgrade_database
from bot.clock import FixedClock
from bot.db import SessionFactory, make_engine, make_session_factory, normalise_database_url
from models import Base, Organisation, OrganisationSource
from tests.support.kyoso_server import SIGNING_SECRET, RunningKyoso, make_settings, serve_kyoso
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

# A Tuesday morning in JST, far from any holiday: tests that need another instant move it.
DEFAULT_NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _create_postgres_database(base_url: str) -> tuple[str, Engine]:
    """A throwaway database per test run, so runs never see each other's rows."""
    url = make_url(normalise_database_url(base_url))
    name = f"kyoso_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kyoso-test.db'}"
        upgrade_database(url, clock=FixedClock(DEFAULT_NOW))
        yield url
        return
    url, admin = _create_postgres_database(base)
    upgrade_database(url, clock=FixedClock(DEFAULT_NOW))
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[SessionFactory]:
    factory = make_session_factory(engine)
    yield factory
    # Leave the shipped master data, remove everything a test wrote.
    with factory.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == Organisation.__tablename__:
                session.execute(
                    delete(Organisation).where(Organisation.source == OrganisationSource.MANUAL)
                )
            else:
                session.execute(table.delete())
        if session.get_bind().dialect.name == "sqlite":  # the search index, outside the models
            session.execute(text("DELETE FROM knowledge_fts"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator(bot_token="xoxb-test").start()
    emu.add_channel(
        "事務局レビュー", channel_id="C0REVIEW", is_private=True, members=[emu.bot_user_id]
    )
    yield emu
    emu.stop()
    emu.assert_spec_clean()  # every call Kyoso made exists in Slack's published spec


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    settings = make_settings(emulator.api_url, database_url)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


@pytest.fixture
def slack(kyoso: RunningKyoso, emulator: SlackEmulator) -> SlackSender:
    return SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
