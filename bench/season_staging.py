"""The 異動 season's staging: one survey contact per active member, 100,000 members, on SQLite
and on PostgreSQL, against a plain count of the same members table in the same run.

    .venv/bin/python bench/season_staging.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                             [--members 100000] [--rounds 3]

A throwaway database per engine (SQLite in a temp dir; PostgreSQL `kyoso_bench_<random>` next
to the database named by --database-url or TEST_DATABASE_URL, dropped at the end; without
either, SQLite only), migrated and seeded with `--members` members (1 % deactivated, 0.5 %
bots, 2 % who already answered). Then, per round, interleaved:
- the baseline: `SELECT count(*) FROM members` (median of 5);
- "staging": `stage_surveys` (one INSERT … SELECT … ON CONFLICT DO NOTHING), timed from
  BEGIN to COMMIT;
- "again": the same staging once everything is staged (what each later hourly run costs);
then the season's contacts are deleted for the next round. Bar: staging ≤ 2 s on both.

Exit status 1 when a staging took over 2 s or staged a different number than expected.
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

from sqlalchemy import delete, func, insert, select  # noqa: E402

from bench.databases import postgres_database, sqlite_database  # noqa: E402
from bench.results import save_results  # noqa: E402
from bot.cli.common import upgrade_database  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from bot.services.transfers.season import stage_surveys  # noqa: E402
from models import (  # noqa: E402
    Member,
    MemberStatus,
    SeasonAnswer,
    SeasonAnswerKind,
    SeasonContact,
)

NOW = datetime(2027, 3, 15, 1, 0, tzinfo=UTC)  # the survey's day, 10:00 JST
SEASON = 2027
BUDGET_SECONDS = 2.0


def seed(session_factory: SessionFactory, count: int) -> int:
    """The members; returns how many the survey should stage."""
    created = NOW - timedelta(days=800)
    rows = []
    expected = 0
    for n in range(count):
        deactivated, bot, answered = n % 100 == 1, n % 200 == 3, n % 50 == 7
        rows.append(
            {
                "slack_user_id": f"U{n:09d}",
                "email": f"member{n}@city.example.lg.jp",
                "email_normalized": f"member{n}@city.example.lg.jp",
                "real_name": f"職員 {n}",
                "status": MemberStatus.DEACTIVATED if deactivated else MemberStatus.ACTIVE,
                "is_bot": bot,
                "last_seen_at": NOW - timedelta(days=n % 90),
                "created_at": created,
                "updated_at": created,
            }
        )
        expected += not (deactivated or bot or answered)
    with session_factory.begin() as session:
        session.execute(insert(Member), rows)
        answering = [f"U{n:09d}" for n in range(7, count, 50)]
        answered_ids = session.scalars(
            select(Member.id).where(Member.slack_user_id.in_(answering))
        ).all()
        session.execute(
            insert(SeasonAnswer),
            [
                {
                    "season": SEASON,
                    "member_id": member_id,
                    "answer": SeasonAnswerKind.NO_CHANGE,
                    "answered_at": NOW - timedelta(days=2),
                }
                for member_id in answered_ids
            ],
        )
    return expected


def baseline(session_factory: SessionFactory) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        with session_factory() as session:
            session.scalar(select(func.count()).select_from(Member))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed_staging(session_factory: SessionFactory) -> tuple[float, int]:
    started = time.perf_counter()
    with session_factory.begin() as session:
        staged = stage_surveys(session, now=NOW, season=SEASON)
    return time.perf_counter() - started, staged


def bench(name: str, url: str, members: int, rounds: int) -> dict[str, Any]:
    upgrade_database(url, clock=FixedClock(NOW))
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    try:
        expected = seed(session_factory, members)
        per_round = []
        for _ in range(rounds):
            base = baseline(session_factory)
            seconds, staged = timed_staging(session_factory)
            again_seconds, again = timed_staging(session_factory)
            per_round.append(
                {
                    "baseline_count_seconds": round(base, 4),
                    "staging_seconds": round(seconds, 3),
                    "staged": staged,
                    "again_seconds": round(again_seconds, 3),
                    "staged_again": again,
                    "staging_over_count": round(seconds / base, 1),
                    "again_over_count": round(again_seconds / base, 1),
                }
            )
            with session_factory.begin() as session:
                session.execute(delete(SeasonContact))
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
            "again_median_seconds": statistics.median(r["again_seconds"] for r in per_round),
        }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    results = []
    with sqlite_database("season") as url:
        results.append(bench("sqlite", url, args.members, args.rounds))
    if args.database_url:
        with postgres_database(args.database_url) as url:
            results.append(bench("postgresql", url, args.members, args.rounds))

    failed = False
    print(
        f"{'database':<11} {'round':>5} {'count s':>8} {'staging s':>10} {'×count':>7} "
        f"{'staged':>7} {'again s':>8} {'×count':>7}"
    )
    for result in results:
        for n, r in enumerate(result["rounds"], 1):
            print(
                f"{result['database']:<11} {n:>5} {r['baseline_count_seconds']:>8.4f} "
                f"{r['staging_seconds']:>10.3f} {r['staging_over_count']:>7.1f} "
                f"{r['staged']:>7} {r['again_seconds']:>8.3f} {r['again_over_count']:>7.1f}"
            )
            if r["staged"] != result["expected_staged"] or r["staged_again"] != 0:
                print(f"  wrong count: expected {result['expected_staged']}, then 0")
                failed = True
        if result["staging_max_seconds"] > BUDGET_SECONDS:
            print(f"  {result['database']}: staging over {BUDGET_SECONDS} s")
            failed = True

    out = save_results("season-staging", {"results": results})
    print(f"results: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
