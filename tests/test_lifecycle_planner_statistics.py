"""The sweep collects the planner statistics its statements rely on where PostgreSQL has none
(autovacuum off, or not yet run): without them day 45 of 20,000 members took seconds."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.lifecycle.planner_statistics import SWEEP_COLUMNS, collect_missing
from bot.services.members import ensure_member

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only: SQLite is left alone"
)


def _columns_with_statistics(session_factory: SessionFactory, table: str) -> set[str]:
    with session_factory() as session:
        return set(
            session.scalars(
                text(
                    "SELECT attname FROM pg_stats"
                    " WHERE schemaname = current_schema() AND tablename = :table"
                ),
                {"table": table},
            )
        )


def test_statistics_are_collected_where_there_are_none_and_only_there(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        for n in range(30):
            ensure_member(session, clock=clock, slack_user_id=f"U0STAT{n:04d}")
        # As on a server whose autovacuum never ran (tests run as a superuser).
        session.execute(text("DELETE FROM pg_statistic WHERE starelid = 'members'::regclass"))
    assert _columns_with_statistics(session_factory, "members") == set()

    with session_factory.begin() as session:
        collect_missing(session)
    assert set(SWEEP_COLUMNS["members"]) <= _columns_with_statistics(session_factory, "members")

    # Known statistics are left as they are: nothing is analysed again.
    with session_factory() as session:
        before = session.scalar(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'members'")
        )
    with session_factory.begin() as session:
        collect_missing(session)
    with session_factory() as session:
        after = session.scalar(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'members'")
        )
    assert before is not None and after == before
