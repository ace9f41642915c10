"""Account lifecycle: the inactivity sweep over 100,000 members on SQLite and PostgreSQL, and
the contact rate the sender achieves against the Slack emulator's rate limits.

    .venv/bin/python bench/lifecycle.py [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
                                        [--members 100000] [--contacts 150] [--skip-contacts]

Sweep: a throwaway database per engine, migrated, seeded with `--members` members (70 % last
seen 181–700 days ago, 1 % exempt, a few secretariat members and facilitators), then
- "first sweep": every inactive member staged at once (the worst day, 180 days after the
  bot was installed), timed from BEGIN to COMMIT, three times (rounds reset in between; the
  first on tables never analysed, as right after the seeding);
- "day 45": 5 % of the staged members became active again, 30 % had their email more than
  the grace period ago, 20 % of the emails were delivered but not yet recorded, 30 % are not
  due yet (rounds end, thank-yous are planned, emails are reconciled, rounds are flagged);
- "quiet day": nothing to do but check every round;
each against a same-run baseline, `SELECT count(*) FROM members` (median of 5). Budget: 2 s.

Contacts: the emulator enforces sliding-window limits on dnd.info (Tier 3: the binding one)
and chat.postMessage; the sender runs at 80 % of the dnd.info limit, as
KYOSO_CONTACTS_PER_MINUTE=40 does against Slack's ~50/min, on a time scale 6× faster than
Slack's (so it ends in under a minute). A second round asks for more than the limit allows:
Slack's 429 answers with Retry-After slow it to the limit and nobody is lost or contacted twice.

Exit status 0 when every sweep stayed within 2 s and every contact was made exactly once.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support (the emulator) is not part of the package

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import (  # noqa: E402
    String,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from bench.databases import postgres_database, sqlite_database  # noqa: E402
from bot.cli.common import upgrade_database  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from bot.gateway import build_gateway  # noqa: E402
from bot.services.lifecycle.policy import Policy  # noqa: E402
from bot.services.lifecycle.sweep import daily_sweep  # noqa: E402
from bot.slack.lifecycle.pacing import TokenBucket  # noqa: E402
from models import (  # noqa: E402
    AttemptStatus,
    ContactAttempt,
    CycleStatus,
    EmailStatus,
    InactivityCycle,
    Member,
    MemberRole,
    MemberStatus,
    OutboundEmail,
    Role,
)
from models.base import UtcDateTime  # noqa: E402
from tests.support.kyoso_server import make_settings  # noqa: E402
from tests.support.slack_emulator import SlackEmulator  # noqa: E402

RESULTS_DIR = REPO / "bench" / "results"
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # a Tuesday, 10:00 JST
BUDGET_SECONDS = 2.0
POLICY = Policy()


# --- databases ------------------------------------------------------------------------------


def seed(session_factory: SessionFactory, count: int) -> dict[str, int]:
    rnd = random.Random(20261124)
    created = NOW - timedelta(days=800)
    rows = []
    inactive = 0
    for n in range(count):
        is_inactive = rnd.random() < 0.70
        inactive += is_inactive
        seen = NOW - timedelta(days=rnd.randint(181, 700) if is_inactive else rnd.randint(0, 170))
        rows.append(
            {
                "slack_user_id": f"U{n:09d}",
                "email": f"member{n}@city.example.lg.jp",
                "email_normalized": f"member{n}@city.example.lg.jp",
                "real_name": f"職員 {n}",
                "status": MemberStatus.ACTIVE,
                "is_bot": False,
                "last_seen_at": seen,
                "inactivity_exempt": rnd.random() < 0.01,
                "created_at": created,
                "updated_at": created,
            }
        )
    with session_factory.begin() as session:
        session.execute(insert(Member), rows)
        ids = session.scalars(select(Member.id).order_by(Member.id).limit(60)).all()
        session.execute(
            insert(MemberRole),
            [
                {
                    "member_id": member_id,
                    "role": Role.SECRETARIAT if i < 20 else Role.FACILITATOR,
                    "granted_at": created,
                    "granted_by": "bench",
                }
                for i, member_id in enumerate(ids)
            ],
        )
    return {"members": count, "seeded_inactive": inactive}


def reset(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        session.execute(delete(ContactAttempt))
        session.execute(delete(InactivityCycle))
        session.execute(update(Member).values(status=MemberStatus.ACTIVE))


def timed_sweep(session_factory: SessionFactory, now: datetime) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    with session_factory.begin() as session:
        result = daily_sweep(session, clock=FixedClock(now), policy=POLICY)
    return time.perf_counter() - started, result.as_dict()


def baseline(session_factory: SessionFactory) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        with session_factory() as session:
            session.scalar(select(func.count()).select_from(Member))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def day_45(session_factory: SessionFactory) -> datetime:
    """Prepare the state 45 days on (set-based, like the sweep itself): every round was
    DMed; 5 % of the members came back; the emails are in every state (see below)."""
    day0 = NOW
    later = NOW + timedelta(days=45)
    with session_factory.begin() as session:
        for number, channel in ((1, "dm"), (2, "email")):
            session.execute(
                insert(ContactAttempt).from_select(
                    [
                        "cycle_id",
                        "key",
                        "number",
                        "channel",
                        "status",
                        "due_at",
                        "sent_at",
                        "created_at",
                    ],
                    select(
                        InactivityCycle.id,
                        cast(InactivityCycle.id, String(32)).concat(f":{number}"),
                        literal(number),
                        literal(channel),
                        literal(AttemptStatus.SENT, ContactAttempt.status.type),
                        literal(day0, UtcDateTime()),
                        literal(day0 + timedelta(days=14 if number == 2 else 0), UtcDateTime()),
                        literal(day0, UtcDateTime()),
                    ).where(InactivityCycle.status == CycleStatus.CONTACTING),
                )
            )
        session.execute(
            update(Member)
            .where(
                Member.id.in_(
                    select(InactivityCycle.member_id).where(
                        InactivityCycle.status == CycleStatus.CONTACTING
                    )
                )
            )
            .values(status=MemberStatus.INACTIVE)
        )
        # Contacts went out over days. By the email (attempt 2): 30 % were sent more than
        # the grace period ago (flagged today), 20 % recently; 20 % were handed to the outbox
        # and delivered but not yet copied back; 30 % are not due yet.
        email = ContactAttempt.number == 2
        bucket = ContactAttempt.cycle_id % 10
        session.execute(
            update(ContactAttempt)
            .where(email, bucket < 3)
            .values(sent_at=later - timedelta(days=31))
        )
        session.execute(
            update(ContactAttempt)
            .where(email, bucket >= 8)
            .values(sent_at=later - timedelta(days=10))
        )
        session.execute(
            update(ContactAttempt)
            .where(email, bucket >= 3, bucket < 6)
            .values(status=AttemptStatus.PLANNED, sent_at=None, due_at=later + timedelta(days=5))
        )
        session.execute(
            update(ContactAttempt)
            .where(email, bucket >= 6, bucket < 8)
            .values(status=AttemptStatus.PLANNED, sent_at=None, due_at=later - timedelta(hours=2))
        )
        session.execute(
            insert(OutboundEmail).from_select(
                [
                    "key",
                    "to_address",
                    "subject",
                    "body",
                    "status",
                    "attempts",
                    "created_at",
                    "sent_at",
                ],
                select(
                    literal("lifecycle:", String(16)).concat(ContactAttempt.key),
                    literal("member@city.example.lg.jp"),
                    literal("subject"),
                    literal("body"),
                    literal(EmailStatus.SENT, OutboundEmail.status.type),
                    literal(1),
                    literal(later - timedelta(hours=2), UtcDateTime()),
                    literal(later - timedelta(hours=1), UtcDateTime()),
                ).where(email, bucket >= 6, bucket < 8),
            )
        )
        session.execute(
            update(Member)
            .where(
                Member.id.in_(select(InactivityCycle.member_id).where(InactivityCycle.id % 20 == 0))
            )
            .values(last_seen_at=later - timedelta(days=1))
        )
    return later


def bench_sweep(name: str, url: str, members: int) -> dict[str, Any]:
    upgrade_database(url, clock=FixedClock(NOW))
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    try:
        seeded = seed(session_factory, members)
        runs = []
        for round_no in range(3):
            if round_no:
                reset(session_factory)
            seconds, counts = timed_sweep(session_factory, NOW)
            runs.append({"seconds": round(seconds, 3), **counts})
        quiet_seconds, quiet = timed_sweep(session_factory, NOW + timedelta(days=1))
        later = day_45(session_factory)
        day45_seconds, day45 = timed_sweep(session_factory, later)
        return {
            "database": name,
            **seeded,
            "baseline_count_seconds": round(baseline(session_factory), 4),
            "first_sweep": runs,
            "first_sweep_median_seconds": statistics.median(r["seconds"] for r in runs),
            "first_sweep_max_seconds": max(r["seconds"] for r in runs),
            "day_45": {"seconds": round(day45_seconds, 3), **day45},
            "quiet_day": {"seconds": round(quiet_seconds, 3), **quiet},
        }
    finally:
        engine.dispose()


# --- contacts -----------------------------------------------------------------------------


TIME_SCALE = 6  # emulated minutes last 10 s
WINDOW = 60.0 / TIME_SCALE


def bench_contacts(count: int, *, requested_per_minute: float) -> dict[str, Any]:
    """Contacts against an emulator enforcing Slack's tiers on a 6× faster clock."""
    dnd_limit, post_limit = 50, 300  # per (scaled) minute: Tier 3; "several hundred"
    with sqlite_database("lifecycle") as url, SlackEmulator(bot_token="xoxb-test") as emulator:
        upgrade_database(url, clock=FixedClock(NOW))
        engine = make_engine(url)
        session_factory = make_session_factory(engine)
        users = [f"U0B{n:05d}" for n in range(count)]
        for user in users:
            emulator.add_user(user, name=user.lower())
        old = NOW - timedelta(days=400)
        with session_factory.begin() as session:
            session.execute(
                insert(Member),
                [
                    {
                        "slack_user_id": u,
                        "status": MemberStatus.ACTIVE,
                        "is_bot": False,
                        "locale": "ja",
                        "last_seen_at": old,
                        "created_at": old,
                        "updated_at": old,
                    }
                    for u in users
                ],
            )
            daily_sweep(session, clock=FixedClock(NOW), policy=POLICY)
        emulator.enforce_rate_limit("dnd.info", dnd_limit, window_seconds=WINDOW)
        emulator.enforce_rate_limit("chat.postMessage", post_limit, window_seconds=WINDOW)
        settings = make_settings(emulator.api_url, url)
        gateway = build_gateway(
            settings,
            client=WebClient(token="xoxb-test", base_url=emulator.api_url),
            admin_client=None,
            session_factory=session_factory,
            clock=FixedClock(NOW),
        )
        sender = gateway.lifecycle.contacts.start(
            bucket=TokenBucket(requested_per_minute * TIME_SCALE, burst=1)
        )
        started = time.monotonic()
        run = sender.run()
        elapsed = time.monotonic() - started
        posts = [
            c
            for c in emulator.calls_to("chat.postMessage")
            if c.ok and "lifecycle_contact:" in str(c.params.get("blocks", ""))
        ]
        per_member = Counter(str(c.params["channel"]) for c in posts)
        times = sorted(c.time for c in posts)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        achieved = (len(times) - 1) / span * 60 / TIME_SCALE if span else 0.0
        rejected = sum(1 for c in emulator.calls if c.status == 429)
        # The limit holds over every window: the most accepted dnd.info calls in any window.
        dnd = sorted(c.time for c in emulator.calls_to("dnd.info") if c.ok)
        peak = max(
            (sum(1 for t in dnd[i:] if t < start + WINDOW) for i, start in enumerate(dnd)),
            default=0,
        )
        engine.dispose()
        return {
            "contacts": count,
            "time_scale": TIME_SCALE,
            "limit_dnd_info_per_minute": dnd_limit,
            "limit_chat_post_message_per_minute": post_limit,
            "requested_per_minute": requested_per_minute,
            "achieved_per_minute": round(achieved, 1),
            "achieved_share_of_binding_limit": round(achieved / dnd_limit, 3),
            "peak_dnd_info_in_any_minute": peak,
            "rate_limited_answers": rejected,
            "sender_waits_for_retry_after": run.rate_limited,
            "contacted": len(per_member),
            "duplicates": sum(n - 1 for n in per_member.values()),
            "lost": count - len(per_member),
            "elapsed_seconds": round(elapsed, 1),
            "stopped": run.stopped,
        }


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-contacts", action="store_true")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "budget_seconds": BUDGET_SECONDS,
        "sweeps": [],
        "contacts": [],
    }
    with sqlite_database("lifecycle") as url:
        report["sweeps"].append(bench_sweep("sqlite", url, args.members))
    if not args.skip_postgres:
        with postgres_database(args.postgres_url) as url:
            report["sweeps"].append(bench_sweep("postgresql", url, args.members))
    if not args.skip_contacts:
        report["contacts"].append(bench_contacts(args.contacts, requested_per_minute=40))
        report["contacts"].append(bench_contacts(args.contacts, requested_per_minute=90))

    ok = True
    print(
        f"{'database':<11} {'members':>8} {'staged':>7} {'first sweep (3 runs)':>26} "
        f"{'day 45':>8} {'quiet':>7} {'count(*)':>9}"
    )
    for s in report["sweeps"]:
        runs = " / ".join(f"{r['seconds']:.2f}" for r in s["first_sweep"])
        print(
            f"{s['database']:<11} {s['members']:>8} {s['first_sweep'][0]['started']:>7} "
            f"{runs + ' s':>26} {s['day_45']['seconds']:>6.2f} s {s['quiet_day']['seconds']:>5.2f} s"
            f" {s['baseline_count_seconds'] * 1000:>6.1f} ms"
        )
        worst = max(s["first_sweep_max_seconds"], s["day_45"]["seconds"], s["quiet_day"]["seconds"])
        ok &= worst <= BUDGET_SECONDS
    for c in report["contacts"]:
        print(
            f"contacts: asked {c['requested_per_minute']:.0f}/min against dnd.info "
            f"{c['limit_dnd_info_per_minute']}/min → achieved {c['achieved_per_minute']}/min "
            f"({c['achieved_share_of_binding_limit']:.0%} of the limit; peak "
            f"{c['peak_dnd_info_in_any_minute']} in any minute); 429s "
            f"{c['rate_limited_answers']}, contacted {c['contacted']}/{c['contacts']}, "
            f"duplicates {c['duplicates']}, lost {c['lost']}"
        )
        ok &= c["duplicates"] == 0 and c["lost"] == 0
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"lifecycle-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {out.relative_to(REPO)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
