"""Announcements' audience: staging an everyone-audience for 100,000 members on SQLite and on
PostgreSQL, against a plain count of the same members table in the same run.

    .venv/bin/python bench/announcement_audience.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                                    [--members 100000] [--rounds 3]

A throwaway database per engine (bench/databases.py), migrated and seeded with `--members`
members (1 % deactivated, 0.5 % bots, 0.5 % guests, 2 % who opted out of events). Then, per
round, interleaved:
- the baseline: `SELECT count(*) FROM members` (median of 5);
- "count": `count_audience` (what the confirmation shows);
- "staging": `confirm` of a fresh draft to everyone (one INSERT … SELECT … ON CONFLICT DO
  NOTHING), timed from BEGIN to COMMIT;
- "again": the same staging once everything is staged (nothing staged twice).
Bar: staging ≤ 1 s on both. Exit status 1 when over, or when a count is wrong.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.databases import postgres_database, sqlite_database  # noqa: E402
from bench.results import save_results  # noqa: E402
from bot.cli.common import upgrade_database  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from bot.services.secretariat import announcements  # noqa: E402
from bot.services.secretariat.announcements import AudienceChoice, AudienceKind  # noqa: E402
from models import (  # noqa: E402
    Announcement,
    AnnouncementCategory,
    GuestKind,
    Member,
    MemberStatus,
    MessageOptOut,
)

NOW = datetime(2027, 6, 7, 1, 0, tzinfo=UTC)  # a Monday, 10:00 JST
BUDGET_SECONDS = 1.0
EVERYONE = AudienceChoice(AudienceKind.EVERYONE)


def seed(session_factory: SessionFactory, count: int) -> int:
    """The members; returns how many an events announcement to everyone should stage."""
    created = NOW - timedelta(days=800)
    rows = []
    expected = 0
    for n in range(count):
        deactivated, bot, guest, opted = n % 100 == 1, n % 200 == 3, n % 200 == 5, n % 50 == 7
        rows.append(
            {
                "slack_user_id": f"U{n:09d}",
                "status": MemberStatus.DEACTIVATED if deactivated else MemberStatus.ACTIVE,
                "is_bot": bot,
                "guest_kind": GuestKind.EXTERNAL if guest else None,
                "created_at": created,
                "updated_at": created,
            }
        )
        expected += not (deactivated or bot or guest or opted)
    with session_factory.begin() as session:
        session.execute(insert(Member), rows)
        opting = [f"U{n:09d}" for n in range(7, count, 50)]
        ids = session.scalars(select(Member.id).where(Member.slack_user_id.in_(opting))).all()
        session.execute(
            insert(MessageOptOut),
            [
                {"member_id": i, "category": AnnouncementCategory.EVENTS, "created_at": NOW}
                for i in ids
            ],
        )
    return expected


def _median_of_5(work: Any) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(5):
        started = time.perf_counter()
        value = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def baseline(session_factory: SessionFactory) -> float:
    def count() -> int | None:
        with session_factory() as session:
            return session.scalar(select(func.count()).select_from(Member))

    return _median_of_5(count)[0]


def counted(session_factory: SessionFactory) -> tuple[float, int]:
    def count() -> int:
        with session_factory() as session:
            return announcements.count_audience(
                session, category=AnnouncementCategory.EVENTS, audience=EVERYONE
            )

    seconds, value = _median_of_5(count)
    return seconds, int(value)


def draft(session_factory: SessionFactory, clock: FixedClock) -> str:
    with session_factory.begin() as session:
        made = announcements.create_draft(
            session,
            clock=clock,
            actor="bench",
            title="お知らせ",
            text_ja="本文",
            text_en=None,
            category="events",
            audience=EVERYONE,
        )
        return made.public_id


def timed_confirm(session_factory: SessionFactory, clock: FixedClock) -> tuple[float, int]:
    public_id = draft(session_factory, clock)
    started = time.perf_counter()
    with session_factory.begin() as session:
        staged = announcements.confirm(session, clock=clock, actor="bench", public_id=public_id)
    return time.perf_counter() - started, staged or 0


def timed_again(session_factory: SessionFactory) -> tuple[float, int]:
    """Staging the last announcement again: everyone is there already."""
    with session_factory() as session:
        last = session.scalars(select(Announcement).order_by(Announcement.id.desc())).first()
    assert last is not None
    started = time.perf_counter()
    with session_factory.begin() as session:
        staged = announcements.stage(session, announcement=last, audience=EVERYONE, now=NOW)
    return time.perf_counter() - started, staged


def bench(name: str, url: str, members: int, rounds: int) -> dict[str, Any]:
    clock = FixedClock(NOW)
    upgrade_database(url, clock=clock)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    try:
        expected = seed(session_factory, members)
        per_round = []
        for _ in range(rounds):
            base = baseline(session_factory)
            count_seconds, audience = counted(session_factory)
            seconds, staged = timed_confirm(session_factory, clock)
            again_seconds, again = timed_again(session_factory)
            per_round.append(
                {
                    "baseline_count_seconds": round(base, 4),
                    "audience_count_seconds": round(count_seconds, 4),
                    "audience": audience,
                    "staging_seconds": round(seconds, 3),
                    "staged": staged,
                    "again_seconds": round(again_seconds, 3),
                    "staged_again": again,
                    "staging_over_count": round(seconds / base, 1),
                }
            )
        return {
            "database": name,
            "members": members,
            "expected_staged": expected,
            "rounds": per_round,
            "staging_median_seconds": statistics.median(r["staging_seconds"] for r in per_round),
            "staging_max_seconds": max(r["staging_seconds"] for r in per_round),
            "baseline_median_seconds": statistics.median(
                r["baseline_count_seconds"] for r in per_round
            ),
        }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    results = []
    with sqlite_database("announcements") as url:
        results.append(bench("sqlite", url, args.members, args.rounds))
    if args.database_url:
        with postgres_database(args.database_url) as url:
            results.append(bench("postgresql", url, args.members, args.rounds))

    failed = False
    print(
        f"{'database':<11} {'round':>5} {'count s':>8} {'audience s':>10} {'staging s':>10} "
        f"{'×count':>7} {'staged':>7} {'again s':>8}"
    )
    for result in results:
        for n, r in enumerate(result["rounds"], 1):
            print(
                f"{result['database']:<11} {n:>5} {r['baseline_count_seconds']:>8.4f} "
                f"{r['audience_count_seconds']:>10.4f} {r['staging_seconds']:>10.3f} "
                f"{r['staging_over_count']:>7.1f} {r['staged']:>7} {r['again_seconds']:>8.3f}"
            )
            expected = result["expected_staged"]
            if (r["staged"], r["audience"], r["staged_again"]) != (expected, expected, 0):
                print(f"  wrong count: expected {expected} staged and counted, then 0")
                failed = True
        if result["staging_max_seconds"] > BUDGET_SECONDS:
            print(f"  {result['database']}: staging over {BUDGET_SECONDS} s")
            failed = True

    out = save_results("announcement-audience", {"results": results})
    print(f"results: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
