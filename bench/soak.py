"""Soak: `kyoso run` (HTTP mode) under a steady event load while things go wrong — the Slack
emulator fails 5 % of Web API calls, the database goes away once, and the app is killed with
SIGKILL once — then a count of what Slack was told we received against what was done.

    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/soak.py --minutes 1          # SQLite: no database outage

The sender behaves like Slack: an event not answered 2xx within 3 s is delivered again,
three times, with X-Slack-Retry-Num / X-Slack-Retry-Reason (Slack waits ~0 s, 1 min, 5 min;
here 1 s, 10 s, 50 s by default, `--retry-delays`). An event never answered 2xx is "never
accepted": Slack gave up on it, so it is not lost by Kyoso.

Exit status 1 if an accepted event has no effect (lost) or an effect happened twice
(duplicate). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import http.client
import json
import os
import platform
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, cast

REPO = Path(__file__).resolve().parents[1]
# tests.support (emulator, signing, TCP proxy) is not part of the installed package.
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.ingest import (  # noqa: E402
    BOT_TOKEN,
    RESULTS_DIR,
    USER_AGENT,
    Server,
    _EnvelopeOnly,
    base_env,
    bench_database,
    free_port,
    kyoso_command,
    log_findings,
)
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.detectors import my_number_check_digit  # noqa: E402
from handlers.web import EVENTS_PATH  # noqa: E402
from models import AuditEntry, Detection, InboxEvent, InboxStatus, Member  # noqa: E402
from tests.support.slack_emulator import SlackEmulator  # noqa: E402
from tests.support.slack_sender import JSON, sign  # noqa: E402
from tests.support.tcp_proxy import TcpProxy  # noqa: E402

FIRST_ELEVEN = "43218765091"
MY_NUMBER = FIRST_ELEVEN + str(my_number_check_digit(FIRST_ELEVEN))
REVIEW_CHANNEL = "C0SOAKREVIEW"
CHANNELS = {
    "C0SOAK0ALL": "デジ_all_雑談",
    "C0SOAK0PJ1": "デジ_pj_自治体dx",
    "C0SOAK0PJ2": "デジ_pj_ガバメントクラウド",
    "C0SOAK0RE1": "デジ_re_関東",
}
TEXTS = (
    "おはようございます。本日の勉強会の資料を共有します。",
    "当市でも同じ課題がありました。庁内の合意形成の進め方について少し書きます。",
    "標準化対応のスケジュール感、皆さんどうされていますか？",
)
SLACK_TIMEOUT = 3.0  # Slack counts a delivery as failed when no answer comes within 3 s
JOIN_SHARE = 0.10  # of all events: team_join for a new user
MY_NUMBER_SHARE = 0.20  # of message events: carries a My Number (goes through the inbox)


# ---- events -------------------------------------------------------------------------------


@dataclass
class SoakEvent:
    number: int
    event_id: str
    kind: str  # "plain" | "my_number" | "team_join"
    stage: str  # what was going on when it was first sent
    body: bytes = field(repr=False)
    channel: str = ""
    ts: str = ""
    thread_ts: str = ""  # my_number: its own thread, so its warning can be told apart
    user: str = ""
    attempts: list[str] = field(default_factory=list)  # outcome of each delivery
    accepted_on: int | None = None  # Slack's retry number of the delivery answered 2xx


def make_event(
    number: int, run_id: str, stage: str, rng: random.Random, envelope: _EnvelopeOnly, ctx: Any
) -> SoakEvent:
    event_id = f"Ev{run_id}{number:07d}"
    now = time.time()
    if rng.random() < JOIN_SHARE:
        user = f"U0J{run_id}{number:07d}"
        email = f"soak{number}@city.example.lg.jp"
        ctx.emulator.add_user(user, name=f"soak{number}", email=email, locale="ja-JP")
        payload = {
            "type": "team_join",
            "user": {
                "id": user,
                "name": f"soak{number}",
                "real_name": "山田 花子",
                "profile": {"email": email, "real_name": "山田 花子", "display_name": "山田"},
                "is_bot": False,
            },
        }
        body = cast(bytes, envelope.event(payload, event_id=event_id, event_time=int(now)))
        return SoakEvent(number, event_id, "team_join", stage, body, user=user)
    user, channel = rng.choice(ctx.authors), rng.choice(list(CHANNELS))
    ts = f"{now:.6f}"[:-6] + f"{number % 1_000_000:06d}"  # unique per run and channel
    message: dict[str, Any] = {
        "type": "message",
        "user": user,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
        "team": envelope.team_id,
    }
    kind, thread_ts = "plain", ""
    if rng.random() < MY_NUMBER_SHARE:
        kind = "my_number"
        thread_ts = f"{int(now) - 86_400}.{number % 1_000_000:06d}"  # a parent of its own
        message |= {
            "text": f"住民のマイナンバーは {MY_NUMBER} です ({number})",
            "thread_ts": thread_ts,
        }
    else:
        message["text"] = rng.choice(TEXTS)
    body = cast(bytes, envelope.event(message, event_id=event_id, event_time=int(now)))
    return SoakEvent(number, event_id, kind, stage, body, channel, ts, thread_ts, user)


# ---- Slack's deliveries -------------------------------------------------------------------


class SlackDeliveries:
    """Deliver events as Slack does: a delivery not answered 2xx within 3 s is tried again
    after each of `retry_delays`, with X-Slack-Retry-Num; after the last, Slack gives up."""

    def __init__(self, port: int, secret: str, retry_delays: list[float], threads: int = 32):
        self._port, self._secret, self._delays = port, secret, retry_delays
        self._heap: list[tuple[float, int, int, SoakEvent]] = []
        self._cond = threading.Condition()
        self._order = 0
        self._outstanding = 0
        self._closed = False
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="slack-delivery")
        self._thread = threading.Thread(target=self._schedule_loop, name="slack-retries")
        self._thread.start()

    def deliver(self, event: SoakEvent) -> None:
        with self._cond:
            self._outstanding += 1
        self._pool.submit(self._attempt, event, 0)

    def wait_idle(self, timeout: float) -> bool:
        """Until every event was accepted or given up on."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._outstanding:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 1.0))
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _schedule_loop(self) -> None:
        with self._cond:
            while not self._closed:
                if self._heap and self._heap[0][0] <= time.monotonic():
                    _, _, retry, event = heapq.heappop(self._heap)
                    self._pool.submit(self._attempt, event, retry)
                    continue
                wait = self._heap[0][0] - time.monotonic() if self._heap else 1.0
                self._cond.wait(max(0.0, min(wait, 1.0)))

    def _attempt(self, event: SoakEvent, retry: int) -> None:
        outcome, reason = self._post(event.body, retry, event.attempts)
        event.attempts.append(outcome)
        with self._cond:
            if outcome == "200":
                event.accepted_on = retry
            elif retry < len(self._delays):
                self._order += 1
                due = time.monotonic() + self._delays[retry]
                heapq.heappush(self._heap, (due, self._order, retry + 1, event))
                event.attempts[-1] += f" ({reason})"
                self._cond.notify_all()
                return
            self._outstanding -= 1
            self._cond.notify_all()

    def _post(self, body: bytes, retry: int, previous: list[str]) -> tuple[str, str]:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": JSON,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(self._secret, ts, body),
            "User-Agent": USER_AGENT,
        }
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            timed_out = previous and previous[-1].startswith("timeout")
            headers["X-Slack-Retry-Reason"] = "http_timeout" if timed_out else "http_error"
        conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=SLACK_TIMEOUT)
        try:
            conn.request("POST", EVENTS_PATH, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except TimeoutError:
            return "timeout", "http_timeout"
        except (OSError, http.client.HTTPException) as exc:
            return f"error {type(exc).__name__}", "http_error"
        finally:
            conn.close()
        status = str(response.status)
        return ("200", "") if response.status == 200 else (status, "http_error")


# ---- the app and the faults ---------------------------------------------------------------


class Kyoso:
    """`kyoso run` on a fixed port (Slack posts to one URL), which can be killed and restarted."""

    def __init__(
        self, env: dict[str, str], log_dir: Path, workdir: Path, count_pending: Callable[[], int]
    ):
        self._env, self._log_dir, self._workdir = env, log_dir, workdir
        self._count_pending = count_pending
        self.servers: list[Server] = []
        self.restart_seconds: float | None = None
        self.pending_at_kill: int | None = None

    @property
    def current(self) -> Server:
        return self.servers[-1]

    def start(self) -> None:
        log = self._log_dir / f"kyoso-{len(self.servers) + 1}.log"
        self.servers.append(
            Server("kyoso", [*kyoso_command(), "run"], self._env, log, self._workdir)
        )
        self.current.wait_healthy(timeout=90)

    def kill_and_restart(self) -> None:
        started = time.monotonic()
        self.current.proc.send_signal(signal.SIGKILL)
        self.current.proc.wait()
        self.current.exit_code = self.current.proc.returncode
        # Events the dead instance had recorded but not finished: the kill proves something
        # only if there were some.
        self.pending_at_kill = self._count_pending()
        self.start()
        self.restart_seconds = time.monotonic() - started

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@dataclass
class Timeline:
    outage_at: float | None  # seconds after the start of the load
    outage_seconds: float
    kill_at: float
    notes: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (offset, what happened)


def plan(seconds: float, postgres: bool) -> Timeline:
    kill_at = seconds * 2 / 3
    if not postgres:
        return Timeline(None, 0.0, kill_at, ["SQLite: no database outage (it cannot be cut)"])
    # A third in; 30 s as asked, or less when the run is too short to hold it before the kill.
    outage = min(30.0, seconds / 4)
    notes = [] if outage == 30.0 else [f"run too short for a 30 s outage: {outage:.0f} s"]
    return Timeline(seconds / 3, outage, kill_at, notes)


class Stage:
    """What is going on now, stamped on each event when first sent."""

    def __init__(self) -> None:
        self.name = "steady"


def run_faults(
    timeline: Timeline,
    started: float,
    stage: Stage,
    proxy: TcpProxy | None,
    kyoso: Kyoso,
    stop: threading.Event,
) -> None:
    def at(offset: float) -> bool:
        return not stop.wait(max(0.0, started + offset - time.monotonic()))

    def note(what: str) -> None:
        timeline.events.append((round(time.monotonic() - started, 1), what))
        print(f"  [{timeline.events[-1][0]:6.1f} s] {what}", flush=True)

    if proxy is not None and timeline.outage_at is not None:
        if not at(timeline.outage_at):
            return
        proxy.cut()
        stage.name = "db-outage"
        note(f"database cut for {timeline.outage_seconds:.0f} s")
        if not at(timeline.outage_at + timeline.outage_seconds):
            proxy.restore()
            return
        proxy.restore()
        stage.name = "after-outage"
        note("database back")
    if not at(timeline.kill_at):
        return
    stage.name = "kill-restart"
    note("kill -9 of kyoso run")
    kyoso.kill_and_restart()
    note(
        f"kyoso run healthy again after {kyoso.restart_seconds:.1f} s "
        f"({kyoso.pending_at_kill} inbox events pending when it died)"
    )
    stage.name = "after-restart"


# ---- counting -----------------------------------------------------------------------------


def count_pending(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            query = select(func.count()).where(InboxEvent.status == InboxStatus.PENDING)
            return int(session.scalar(query.select_from(InboxEvent)) or 0)
    finally:
        engine.dispose()


def wait_for_drain(database_url: str, timeout: float) -> dict[str, int]:
    """Until no inbox event is pending (or `timeout`); the count per status at the end."""
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with make_session_factory(engine)() as session:
                rows = session.execute(
                    select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
                ).all()
            statuses = {str(status.value): int(count) for status, count in rows}
            if not statuses.get("pending") or time.monotonic() > deadline:
                return statuses
            time.sleep(1.0)
    finally:
        engine.dispose()


@dataclass
class Effects:
    inbox: dict[str, str]  # event_id -> status
    detections: Counter[tuple[str, str]]  # (channel, ts) -> rows
    members: Counter[str]  # slack_user_id -> rows
    joined_audits: Counter[str]  # slack_user_id -> member.joined entries
    warnings: Counter[str]  # thread_ts -> detector warnings Slack accepted
    welcome_dms: Counter[str]  # user -> DMs in the bot's IM with them


def read_effects(database_url: str, emulator: SlackEmulator, joiners: list[str]) -> Effects:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            inbox = {
                event_id: str(status.value)
                for event_id, status in session.execute(
                    select(InboxEvent.event_id, InboxEvent.status)
                )
            }
            detections = Counter(
                {
                    (channel, ts): int(count)
                    for channel, ts, count in session.execute(
                        select(Detection.channel_id, Detection.message_ts, func.count()).group_by(
                            Detection.channel_id, Detection.message_ts
                        )
                    )
                }
            )
            members = Counter(
                {
                    user: int(count)
                    for user, count in session.execute(
                        select(Member.slack_user_id, func.count()).group_by(Member.slack_user_id)
                    )
                }
            )
            joined = Counter(
                {
                    user: int(count)
                    for user, count in session.execute(
                        select(AuditEntry.target_id, func.count())
                        .where(AuditEntry.action == "member.joined")
                        .group_by(AuditEntry.target_id)
                    )
                }
            )
    finally:
        engine.dispose()
    warnings = Counter(
        str(call.params.get("thread_ts", ""))
        for call in emulator.calls_to("chat.postEphemeral")
        if call.ok
    )
    dms = Counter({user: len(emulator.dm_messages(user)) for user in joiners})
    return Effects(inbox, detections, members, joined, warnings, dms)


def judge(event: SoakEvent, effects: Effects) -> tuple[bool, list[str], bool]:
    """(effect present, what happened more than once, Slack-side effect missing)."""
    if event.kind == "my_number":
        rows = effects.detections[(event.channel, event.ts)]
        warnings = effects.warnings[event.thread_ts]
        twice = [f"detections x{rows}"] * (rows > 1) + [f"warnings x{warnings}"] * (warnings > 1)
        return rows >= 1, twice, warnings == 0
    if event.kind == "team_join":
        rows, audits = effects.members[event.user], effects.joined_audits[event.user]
        dms = effects.welcome_dms[event.user]
        twice = (
            [f"members x{rows}"] * (rows > 1)
            + [f"member.joined x{audits}"] * (audits > 1)
            + [f"welcome DMs x{dms}"] * (dms > 1)
        )
        return rows >= 1 and audits >= 1, twice, dms == 0
    return True, [], False  # plain messages: in-memory activity only, not counted here


@dataclass
class Row:
    kind: str
    sent: int = 0
    accepted: int = 0
    never_accepted: int = 0
    never_accepted_but_done: int = 0  # recorded although no 2xx reached Slack
    completed: int = 0
    duplicates: int = 0
    lost: int = 0
    dead: int = 0
    still_pending: int = 0
    slack_effect_missing: int = 0  # best-effort Slack call (warning, welcome DM) not delivered
    slack_missing_stages: dict[str, int] = field(default_factory=dict)


def tally(events: list[SoakEvent], effects: Effects) -> tuple[dict[str, Row], list[dict[str, Any]]]:
    rows = {kind: Row(kind) for kind in ("my_number", "team_join", "plain")}
    problems: list[dict[str, Any]] = []
    for event in events:
        row = rows[event.kind]
        row.sent += 1
        accepted = event.accepted_on is not None
        row.accepted += accepted
        if event.kind == "plain":
            row.never_accepted += not accepted
            continue
        done, twice, slack_missing = judge(event, effects)
        status = effects.inbox.get(event.event_id, "absent")
        row.dead += status == "dead"
        row.still_pending += status == "pending"
        row.slack_effect_missing += slack_missing and done
        if slack_missing and done:
            row.slack_missing_stages[event.stage] = row.slack_missing_stages.get(event.stage, 0) + 1
        if not accepted:
            row.never_accepted += 1
            row.never_accepted_but_done += done
        row.completed += done
        row.duplicates += bool(twice)
        lost = accepted and not done
        row.lost += lost
        if lost or twice:
            problems.append(
                {
                    "event_id": event.event_id,
                    "kind": event.kind,
                    "stage": event.stage,
                    "problem": "lost" if lost else "duplicate: " + ", ".join(twice),
                    "inbox_status": status,
                    "deliveries": event.attempts,
                }
            )
    return rows, problems


def print_table(rows: dict[str, Row]) -> None:
    columns = (
        ("type", "kind", 10),
        ("sent", "sent", 6),
        ("accepted", "accepted", 9),
        ("never acc.", "never_accepted", 11),
        ("completed", "completed", 10),
        ("dupl.", "duplicates", 6),
        ("lost", "lost", 5),
        ("dead", "dead", 5),
        ("pending", "still_pending", 8),
        ("Slack miss", "slack_effect_missing", 11),
    )
    print("\n" + " ".join(f"{title:>{width}}" for title, _, width in columns))
    total = Row("total")
    for row in rows.values():
        for _, attr, _ in columns[1:]:
            setattr(total, attr, getattr(total, attr) + getattr(row, attr))
    for row in [*rows.values(), total]:
        cells = [
            str(getattr(row, attr))
            if row.kind != "plain" or attr in ("kind", "sent", "accepted", "never_accepted")
            else "-"
            for _, attr, _ in columns
        ]
        print(
            " ".join(f"{cell:>{width}}" for cell, (_, _, width) in zip(cells, columns, strict=True))
        )


# ---- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak: events under faults, then lost/duplicates.")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/test: a throwaway "
        "database is created next to it and dropped afterwards (default: SQLite, no outage)",
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--rate", type=float, default=8.0, help="events per second")
    parser.add_argument(
        "--slack-failure-rate", type=float, default=0.05, help="share of Web API calls failing"
    )
    parser.add_argument(
        "--retry-delays",
        default="1,10,50",
        help="seconds before Slack's retries 1, 2, 3 (Slack: ~0, 60, 300)",
    )
    parser.add_argument("--lease-seconds", type=int, default=5, help="KYOSO_EVENT_LEASE_SECONDS")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds, at the end")
    parser.add_argument("--seed", type=int, default=20251121)
    args = parser.parse_args(argv)
    args.retry_delays = [float(part) for part in args.retry_delays.split(",") if part.strip()]
    if args.minutes <= 0 or args.rate <= 0 or not 0 <= args.slack_failure_rate < 1:
        parser.error("--minutes and --rate must be positive, --slack-failure-rate in [0, 1)")
    return args


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwind through the finally blocks that stop the servers


@contextlib.contextmanager
def proxied(database_url: str) -> Iterator[tuple[str, TcpProxy | None]]:
    """The URL Kyoso gets: through a TCP proxy that can be cut, for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield database_url, None
        return
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy
    finally:
        proxy.stop()


def upgrade(database_url: str, workdir: Path, log: Path) -> None:
    import subprocess

    with log.open("wb") as out:
        done = subprocess.run(
            [*kyoso_command(), "db", "upgrade"],
            env={**base_env(), "DATABASE_URL": database_url},
            cwd=workdir,
            stdout=out,
            stderr=out,
        )
    if done.returncode != 0:
        raise RuntimeError(f"kyoso db upgrade failed; see {log}")


def send_load(
    args: argparse.Namespace,
    ctx: Any,
    deliveries: SlackDeliveries,
    stage: Stage,
    started: float,
) -> list[SoakEvent]:
    rng = random.Random(args.seed)
    envelope = _EnvelopeOnly("", "", ctx.emulator)
    total = int(args.minutes * 60 * args.rate)
    events: list[SoakEvent] = []
    for number in range(total):
        delay = started + number / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        event = make_event(number, ctx.run_id, stage.name, rng, envelope, ctx)
        events.append(event)
        deliveries.deliver(event)
        if number and number % int(args.rate * 30) == 0:
            print(f"  [{time.monotonic() - started:6.1f} s] {number} events sent", flush=True)
    return events


@dataclass
class Context:
    emulator: SlackEmulator
    run_id: str
    authors: list[str]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS_DIR / f"soak-{stamp}-logs"
    log_dir.mkdir()
    database = "postgresql" if args.database_url else "sqlite"
    seconds = args.minutes * 60
    timeline = plan(seconds, postgres=args.database_url is not None)
    secret = secrets.token_hex(16)
    stop_faults = threading.Event()

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kyoso-soak-")))
        emulator = stack.enter_context(SlackEmulator(bot_token=BOT_TOKEN))
        database_url = stack.enter_context(bench_database(args.database_url, workdir))
        kyoso_url, proxy = stack.enter_context(proxied(database_url))
        authors = [f"U0SOAKA{n:03d}" for n in range(20)]
        for user in authors:
            emulator.add_user(user, name=user.lower(), locale="ja-JP")
        for channel_id, name in CHANNELS.items():
            emulator.add_channel(
                name, channel_id=channel_id, members=[*authors, emulator.bot_user_id]
            )
        emulator.add_channel(
            "kyoso-review", channel_id=REVIEW_CHANNEL, members=[emulator.bot_user_id]
        )
        upgrade(database_url, workdir, log_dir / "db-upgrade.log")
        port = free_port()
        env = {
            **base_env(),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": kyoso_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "KYOSO_SCHEDULER_ENABLED": "false",
            "KYOSO_REVIEW_CHANNEL": REVIEW_CHANNEL,
            "KYOSO_EVENT_LEASE_SECONDS": str(args.lease_seconds),
        }
        kyoso = Kyoso(env, log_dir, workdir, lambda: count_pending(database_url))
        stack.callback(kyoso.stop)  # registered last: runs first
        print(
            f"kyoso soak: {database}, {args.minutes:g} min at {args.rate:g} events/s, Slack "
            f"failing {args.slack_failure_rate:.0%} of calls, retries after "
            f"{args.retry_delays} s, lease {args.lease_seconds} s"
        )
        if timeline.outage_at is not None:
            print(
                f"  database outage at {timeline.outage_at:.0f} s for "
                f"{timeline.outage_seconds:.0f} s; ",
                end="",
            )
        else:
            print("  ", end="")
        print(f"kill -9 at {timeline.kill_at:.0f} s")
        for line in timeline.notes:
            print(f"  note: {line}")
        kyoso.start()
        emulator.fail_randomly(args.slack_failure_rate, seed=args.seed)

        deliveries = SlackDeliveries(port, secret, args.retry_delays)
        stack.callback(deliveries.close)
        stage = Stage()
        started = time.monotonic()
        faults = threading.Thread(
            target=run_faults,
            args=(timeline, started, stage, proxy, kyoso, stop_faults),
            name="soak-faults",
        )
        faults.start()
        stack.callback(faults.join)
        stack.callback(stop_faults.set)
        ctx = Context(emulator, secrets.token_hex(2).upper(), authors)
        events = send_load(args, ctx, deliveries, stage, started)
        load_seconds = time.monotonic() - started
        faults.join()
        print(f"  [{time.monotonic() - started:6.1f} s] all {len(events)} sent; Slack retrying")
        idle = deliveries.wait_idle(sum(args.retry_delays) + 4 * SLACK_TIMEOUT + 30)
        print(f"  [{time.monotonic() - started:6.1f} s] deliveries over; waiting for the inbox")
        statuses = wait_for_drain(database_url, args.drain_timeout)
        drained_at = time.monotonic() - started
        print(f"  [{drained_at:6.1f} s] inbox: {statuses}")
        emulator.fail_randomly(0)
        kyoso.stop()
        joiners = [e.user for e in events if e.kind == "team_join"]
        effects = read_effects(database_url, emulator, joiners)
        injected = Counter(str(call.status) for call in emulator.calls if call.status in (429, 503))
        slack_calls = len(emulator.calls)

    rows, problems = tally(events, effects)
    print_table(rows)
    for row in rows.values():
        if row.slack_missing_stages:
            print(f"  {row.kind}: Slack side effect missing, by stage: {row.slack_missing_stages}")
    accepted_on = Counter(e.accepted_on for e in events if e.accepted_on is not None)
    by_stage: dict[str, Counter[str]] = {}
    for event in events:
        outcome = "accepted" if event.accepted_on is not None else "never accepted"
        by_stage.setdefault(event.stage, Counter())[outcome] += 1
    lost = sum(r.lost for r in rows.values())
    duplicates = sum(r.duplicates for r in rows.values())
    print(
        "\naccepted on delivery 0/1/2/3: "
        + "/".join(str(accepted_on.get(n, 0)) for n in range(len(args.retry_delays) + 1))
    )
    print(
        "by stage (when first sent): "
        + "; ".join(f"{name} {dict(counts)}" for name, counts in by_stage.items())
    )
    print(
        f"Slack calls: {slack_calls}, failed on purpose: {dict(injected)}; "
        f"kill -9 restart took {kyoso.restart_seconds or 0:.1f} s"
    )
    findings: Counter[str] = Counter()
    for server in kyoso.servers:
        findings.update(log_findings(server.log))
    for message, count in findings.most_common(8):
        print(f"  server log x{count}: {message}")
    for problem in problems[:20]:
        print(f"  {problem}")
    if not idle:
        print("  warning: some deliveries were still being retried when counting began")
    print(f"\nlost {lost}, duplicates {duplicates}: {'FAIL' if lost or duplicates else 'ok'}")

    out = RESULTS_DIR / f"soak-{stamp}.json"
    report = {
        "timestamp": stamp,
        "database": database,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "config": {k: v for k, v in vars(args).items() if k != "database_url"},
        "timeline": asdict(timeline),
        "load_seconds": round(load_seconds, 1),
        "drained_after_seconds": round(drained_at, 1),
        "inbox_statuses": statuses,
        "rows": {kind: asdict(row) for kind, row in rows.items()},
        "accepted_on_delivery": {str(k): v for k, v in sorted(accepted_on.items())},
        "by_stage": {name: dict(counts) for name, counts in by_stage.items()},
        "slack_calls": slack_calls,
        "slack_failures_injected": dict(injected),
        "restart_seconds": kyoso.restart_seconds,
        "pending_at_kill": kyoso.pending_at_kill,
        "log_findings": dict(findings),
        "problems": problems,
        "lost": lost,
        "duplicates": duplicates,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"results: {out.relative_to(REPO)}; server logs: {log_dir.relative_to(REPO)}/")
    return 1 if lost or duplicates else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
