"""Time to compute the statistics and the dashboard on a platform of realistic size, against a
baseline measured in the same run.

    .venv/bin/python bench/dashboard_statistics.py [--members 15000] [--channels 150] [--rounds 7]
    .venv/bin/python bench/dashboard_statistics.py --database-url postgresql://postgres@127.0.0.1:5432/test
    add --save to write the figures to bench/results/statistics-<UTC time>.json

The data: a fresh database (a SQLite file in a temp dir, or a throwaway PostgreSQL database
next to the one the URL names, dropped afterwards), migrated with the shipped master data
(1,788 local governments, the agencies), then `--members` people shaped like the public
figures of the platform (85 % from local governments spread over about 1,500 of them, 15 %
from agencies; 97 % active, the rest in the contact cycle, flagged or deactivated; about a
third seen in the last 30 days; joins spread over three years), `--channels` channels of
every kind, 3,000 applications, 600 moderation cases and 2,000 detections, 26 weekly
snapshots, and a few bots (0.5 %). A fixed seed: every run measures the same rows.

Timed, each round in this order, each with a fresh session (perf_counter):
- baseline: `SELECT count(*) FROM members` — the cheapest question one can ask the table;
- statistics: `statistics.compute()` (what `/kyoso stats`, the Home and the report run);
- queues: `dashboard.queues()` (the secretariat's Home adds it to the statistics);
- history: `statistics.history()` (the weekly report's members-over-time series).
The summary takes the median round; the first round is a warm-up and is not counted.

Exit status: 0 when the median `statistics.compute()` is under 1 s (issue 7's target for
15,000 members and 150 channels on SQLite), 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This file is named like the standard library's `statistics`: take its folder off the path
# so that `import statistics` (here or in any library) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import statistics as stats_math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.cli.common import upgrade_database  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from bot.domain.statistics import Headline  # noqa: E402
from bot.services.dashboard.queues import queues as queue_summaries  # noqa: E402
from bot.services.statistics.figures import compute as compute_statistics  # noqa: E402
from bot.services.statistics.history import history as member_history  # noqa: E402
from bot.services.statistics.periods import week_key  # noqa: E402
from bot.services.statistics.snapshots import SNAPSHOT_ACTION, SNAPSHOT_TARGET  # noqa: E402
from models import (  # noqa: E402
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    CaseSource,
    CaseStatus,
    Channel,
    ChannelCategory,
    ChannelStatus,
    Detection,
    Member,
    MemberStatus,
    ModerationCase,
    Organisation,
    OrganisationKind,
)

RESULTS_DIR = REPO / "bench" / "results"
TARGET_SECONDS = 1.0
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 10:00 JST
JST = ZoneInfo("Asia/Tokyo")


@contextmanager
def bench_database(admin_url: str | None, workdir: Path) -> Iterator[str]:
    if admin_url is None:
        yield f"sqlite:///{workdir / 'kyoso-bench.db'}"
        return
    import psycopg

    url = make_url(admin_url)
    if not url.drivername.startswith("postgres"):
        raise SystemExit("--database-url must be a postgresql:// URL")
    name = f"kyoso_bench_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _status(rng: random.Random) -> MemberStatus:
    roll = rng.random()
    if roll < 0.97:
        return MemberStatus.ACTIVE
    if roll < 0.985:
        return MemberStatus.INACTIVE
    if roll < 0.99:
        return MemberStatus.FLAGGED
    return MemberStatus.DEACTIVATED


def seed(session_factory: SessionFactory, *, members: int, channels: int) -> dict[str, int]:
    rng = random.Random(20261124)
    with session_factory.begin() as session:
        local = list(
            session.scalars(
                select(Organisation.id).where(Organisation.kind != OrganisationKind.AGENCY)
            )
        )
        agencies = list(
            session.scalars(
                select(Organisation.id).where(Organisation.kind == OrganisationKind.AGENCY)
            )
        )
        covered = rng.sample(local, k=min(len(local), 1_500))
        rows: list[dict[str, Any]] = []
        for n in range(members):
            roll = rng.random()
            if roll < 0.85:
                organisation: int | None = rng.choice(covered)
            elif roll < 0.99:
                organisation = rng.choice(agencies)
            else:
                organisation = None
            joined = NOW - timedelta(days=rng.uniform(0, 3 * 365))
            seen = NOW - timedelta(days=rng.expovariate(1 / 60)) if rng.random() < 0.9 else None
            rows.append(
                {
                    "slack_user_id": f"U{n:09d}",
                    "email_normalized": f"user{n}@example.lg.jp",
                    "real_name": f"会員 {n}",
                    "organisation_id": organisation,
                    "status": _status(rng),
                    "is_bot": rng.random() < 0.005,
                    "joined_at": joined,
                    "last_seen_at": max(seen, joined) if seen else None,
                    "rules_version": "1",
                    "rules_accepted_at": joined + timedelta(hours=2),
                    "created_at": joined,
                    "updated_at": joined,
                }
            )
        session.execute(insert(Member), rows)
        kinds = list(ChannelCategory)
        session.execute(
            insert(Channel),
            [
                {
                    "slack_channel_id": f"C{n:09d}",
                    "name": f"デジ_{kinds[n % 4].value}_{n}",
                    "category": kinds[n % 4],
                    "status": ChannelStatus.ARCHIVED if n % 10 == 0 else ChannelStatus.ACTIVE,
                    "is_general": n == 0,
                    "last_activity_at": NOW - timedelta(days=rng.expovariate(1 / 40)),
                    "created_at": NOW - timedelta(days=900),
                    "updated_at": NOW,
                }
                for n in range(channels)
            ],
        )
        application_statuses = list(ApplicationStatus)
        session.execute(
            insert(Application),
            [
                {
                    "public_id": f"A{n:08d}",
                    "email": f"applicant{n}@example.lg.jp",
                    "email_normalized": f"applicant{n}@example.lg.jp",
                    "name": f"申請者 {n}",
                    "language": "ja",
                    "rules_version": "1",
                    "source": ApplicationSource.WEB,
                    "status": (status := rng.choice(application_statuses)),
                    "outcome": "eligible",
                    "reasons": [],
                    "submitted_at": (submitted := NOW - timedelta(days=rng.uniform(0, 700))),
                    "decided_at": None
                    if status in (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)
                    else submitted + timedelta(days=2),
                }
                for n in range(3_000)
            ],
        )
        case_statuses = list(CaseStatus)
        session.execute(
            insert(ModerationCase),
            [
                {
                    "public_id": f"K{n:08d}",
                    "channel_id": f"C{n % channels:09d}",
                    "message_ts": f"{n}.000100",
                    "author_id": f"U{n % members:09d}",
                    "excerpt": "…",
                    "source": CaseSource.REPORT,
                    "reasons": ["spam"],
                    "status": rng.choice(case_statuses),
                    "created_at": (opened := NOW - timedelta(days=rng.uniform(0, 400))),
                    "updated_at": opened,
                }
                for n in range(600)
            ],
        )
        session.execute(
            insert(Detection),
            [
                {
                    "channel_id": f"C{n % channels:09d}",
                    "message_ts": f"{n}.000200",
                    "user_id": f"U{n % members:09d}",
                    "kinds": ["my_number"],
                    "created_at": NOW - timedelta(days=rng.uniform(0, 400)),
                }
                for n in range(2_000)
            ],
        )
        session.execute(
            insert(AuditEntry),
            [
                {
                    "occurred_at": NOW - timedelta(weeks=w, days=1),
                    "actor": "system",
                    "action": SNAPSHOT_ACTION,
                    "target_type": SNAPSHOT_TARGET,
                    "target_id": week_key(NOW - timedelta(weeks=w, days=1), JST),
                    "details": Headline(
                        members - 40 * w, 4_700 - 5 * w, 1_400, 1_360, 35, channels, 40, 3, 7
                    ).to_dict(),
                }
                for w in range(1, 27)
            ],
        )
    with session_factory() as session:
        counts = {
            "members": session.scalar(select(func.count()).select_from(Member)) or 0,
            "channels": session.scalar(select(func.count()).select_from(Channel)) or 0,
            "organisations": session.scalar(select(func.count()).select_from(Organisation)) or 0,
        }
    return counts


def timed(session_factory: SessionFactory, work: Callable[[Any], object]) -> float:
    started = time.perf_counter()
    with session_factory() as session:
        work(session)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a postgresql:// URL (default: SQLite)")
    parser.add_argument("--members", type=int, default=15_000)
    parser.add_argument("--channels", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (plus a warm-up)")
    parser.add_argument("--save", action="store_true", help="write JSON to bench/results/")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="kyoso-bench-") as workdir,
        bench_database(args.database_url, Path(workdir)) as url,
    ):
        upgrade_database(url, clock=FixedClock(NOW))
        engine = make_engine(url)
        session_factory = make_session_factory(engine)
        started = time.perf_counter()
        counts = seed(session_factory, members=args.members, channels=args.channels)
        seeded_in = time.perf_counter() - started
        if engine.dialect.name == "sqlite":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))

        tasks: dict[str, Callable[[Any], object]] = {
            "baseline: SELECT count(*) FROM members": lambda s: s.execute(
                text("SELECT count(*) FROM members")
            ).scalar(),
            "statistics.compute()": lambda s: compute_statistics(s, now=NOW, zone=JST),
            "dashboard.queues()": lambda s: queue_summaries(s, now=NOW, zone=JST),
            "statistics.history() (26 weeks)": lambda s: member_history(
                s, now=NOW, zone=JST, current=Headline(0, 0, 0, 0, 0, 0, 0, 0, 0)
            ),
        }
        rounds: list[dict[str, float]] = []
        for round_number in range(args.rounds + 1):
            figures = {name: timed(session_factory, work) for name, work in tasks.items()}
            if round_number:  # the first round warms caches and is not counted
                rounds.append(figures)
        with session_factory() as session:
            sample = compute_statistics(session, now=NOW, zone=JST)
        engine.dispose()

    medians = {name: stats_math.median(r[name] for r in rounds) for name in tasks}
    baseline = medians["baseline: SELECT count(*) FROM members"]
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{database}: {counts['members']:,} members, {counts['channels']:,} channels, "
        f"{counts['organisations']:,} organisations (seeded in {seeded_in:.1f} s); "
        f"median of {args.rounds} rounds"
    )
    print(f"Python {platform.python_version()} on {platform.platform()}")
    print(f"{'measured':<40} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'× baseline':>11}")
    for name in tasks:
        values = [r[name] for r in rounds]
        print(
            f"{name:<40} {medians[name] * 1000:>10.1f} {min(values) * 1000:>9.1f} "
            f"{max(values) * 1000:>9.1f} {medians[name] / baseline:>11.1f}"
        )
    print(
        f"figures: {sample.members:,} members, {sample.active_30d:,} active, "
        f"{sample.local_governments_covered:,}/{sample.local_governments:,} local governments, "
        f"{sample.active_channels} channels"
    )
    compute = medians["statistics.compute()"]
    verdict = "met" if compute < TARGET_SECONDS else "MISSED"
    print(f"target: statistics.compute() < {TARGET_SECONDS:.0f} s — {verdict}")
    if args.save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"statistics-{stamp}.json"
        out.write_text(
            json.dumps(
                {
                    "database": database,
                    "counts": counts,
                    "rounds": rounds,
                    "medians_seconds": medians,
                    "python": platform.python_version(),
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"saved {out.relative_to(REPO)}")
    return 0 if compute < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
