"""Event ingest: the full Kyoso app (`kyoso run`, HTTP mode) against a bare Bolt app with a
no-op `message` listener (bench/bare_app.py), on the same waitress/Flask stack, in one run.

    .venv/bin/python bench/ingest.py [--database-url postgresql://postgres@127.0.0.1:5432/test]

Each server is its own process (the load generator must not share its GIL). Rounds run in the
order bare, full, bare, full so drift on a small machine shows. Signed `message` events go out
over keep-alive HTTP/1.1 connections; the latency of one request is send → response fully read.
After each full round the server is stopped (which flushes its activity buffer) and the
database is checked: every member and channel must show the latest message sent, so the figures
count completed work, not just acknowledgements.

Exit status: 0 when every request got a 200 and the activity check passed, 1 otherwise.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import itertools
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, cast

REPO = Path(__file__).resolve().parents[1]
# tests.support (emulator, signing) is not part of the installed package.
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.services.activity import slack_ts_to_datetime  # noqa: E402
from bot.services.members import ensure_member  # noqa: E402
from handlers.web import EVENTS_PATH, HEALTH_PATH  # noqa: E402
from models import Channel, Member  # noqa: E402
from models.channel import ChannelCategory, ChannelStatus  # noqa: E402
from tests.support.slack_emulator import SlackEmulator  # noqa: E402
from tests.support.slack_sender import JSON, SlackSender, sign  # noqa: E402

RESULTS_DIR = REPO / "bench" / "results"
BARE_APP = Path(__file__).with_name("bare_app.py")
BOT_TOKEN = "xoxb-test"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Only what a process needs to run: the caller's own settings (SLACK_APP_TOKEN would switch
# kyoso to Socket Mode, SMTP_*, ...) must not leak into the servers.
_PASSED_ENV = re.compile(r"^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|SYSTEMROOT)$")

CHANNELS = {
    "C0BENCH0ALL": "デジ_all_雑談",
    "C0BENCH0PJ1": "デジ_pj_自治体dx",
    "C0BENCH0PJ2": "デジ_pj_ガバメントクラウド",
    "C0BENCH0RE1": "デジ_re_関東",
}
TEXTS = (
    "おはようございます。本日の勉強会の資料を共有します。ご意見をいただけると嬉しいです。",
    "当市でも同じ課題がありました。庁内の合意形成の進め方について少し書きます。",
    "ありがとうございます！参考にさせていただきます。",
    "標準化対応のスケジュール感、皆さんどうされていますか？",
    "先日のオンライン会議のメモをスレッドに残しておきます。",
)


# ---- request bodies -----------------------------------------------------------------------


class _EnvelopeOnly(SlackSender):
    """SlackSender's exact event_callback envelope, captured instead of sent."""

    def send(self, body: bytes, content_type: str, **_opts: Any) -> Any:
        return body


def user_pool(size: int) -> list[str]:
    rng = random.Random(20251121)  # the same pool every run
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return ["U0" + "".join(rng.choices(alphabet, k=9)) for _ in range(size)]


def build_bodies(
    sender: SlackSender, users: list[str], count: int, prefix: str, rng: random.Random
) -> tuple[list[bytes], dict[str, str], dict[str, str]]:
    """`count` message events; returns the bodies and the latest ts per user and channel."""
    base = time.time()
    bodies: list[bytes] = []
    last_user: dict[str, str] = {}
    last_channel: dict[str, str] = {}
    channel_ids = list(CHANNELS)
    for n in range(count):
        ts = f"{base + n / 1_000_000:.6f}"  # unique and increasing, as Slack's are per channel
        user, channel, text = rng.choice(users), rng.choice(channel_ids), rng.choice(TEXTS)
        event = {
            "user": user,
            "type": "message",
            "ts": ts,
            "client_msg_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "text": text,
            "team": sender.team_id,
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": secrets.token_urlsafe(4),
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                    ],
                }
            ],
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        body = sender.event(event, event_id=f"Ev{prefix}{n:06d}", event_time=int(base))
        bodies.append(cast(bytes, body))
        last_user[user] = ts
        last_channel[channel] = ts
    return bodies, last_user, last_channel


# ---- load ---------------------------------------------------------------------------------


@dataclass
class Phase:
    bodies: list[bytes]
    latencies: list[float] = field(default_factory=list)  # seconds, completed responses
    sent_at: list[float] = field(default_factory=list)  # perf_counter at send, same order
    errors: list[str] = field(default_factory=list)
    server_closes: int = 0  # responses that ended the keep-alive connection
    started: float = 0.0
    elapsed: float = 0.0
    server_cpu: float = math.nan  # seconds of server CPU (user + system) during the phase


def _post(conn: http.client.HTTPConnection, secret: str, body: bytes, phase: Phase) -> None:
    ts = str(int(time.time()))  # fresh: Bolt rejects timestamps older than 5 minutes
    headers = {
        "Content-Type": JSON,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
        "User-Agent": USER_AGENT,
    }
    started = time.perf_counter()
    try:
        conn.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:
        phase.errors.append(f"{type(exc).__name__}: {exc}")
        conn.close()  # http.client reconnects on the next request
        return
    phase.latencies.append(time.perf_counter() - started)
    phase.sent_at.append(started)
    if response.will_close:
        phase.server_closes += 1
    if response.status != 200:
        phase.errors.append(f"HTTP {response.status}: {payload[:200]!r}")


def drive(
    port: int,
    secret: str,
    phases: list[Phase],
    connections: int,
    server_cpu: Callable[[], float] = lambda: math.nan,
) -> None:
    """Every phase runs on the same persistent connections; a barrier separates phases so each
    phase's wall time (and the server's CPU time) covers exactly its own requests."""
    barrier = threading.Barrier(connections + 1)
    counters = [itertools.count() for _ in phases]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for phase, counter in zip(phases, counters, strict=True):
                barrier.wait()
                # next() on itertools.count is atomic under the GIL: a shared work queue
                for index in counter:
                    if index >= len(phase.bodies):
                        break
                    _post(conn, secret, phase.bodies[index], phase)
                barrier.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException:
            barrier.abort()
            raise
        finally:
            conn.close()

    threads = [
        threading.Thread(target=worker, name=f"load-{i}", daemon=True) for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    try:
        for phase in phases:
            barrier.wait()
            phase.started, cpu_before = time.perf_counter(), server_cpu()
            barrier.wait()
            phase.elapsed = time.perf_counter() - phase.started
            phase.server_cpu = server_cpu() - cpu_before
    except BaseException:
        # Daemon threads: stopping the server ends their requests; do not wait for them here.
        barrier.abort()
        raise
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No collector pauses in the load generator: a stall here would stall all its connections
    at once and show up as server latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


# ---- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kyoso_command() -> list[str]:
    script = Path(sys.executable).with_name("kyoso")
    if script.exists():
        return [str(script)]
    found = shutil.which("kyoso")
    return [found] if found else [sys.executable, "-m", "app"]


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if _PASSED_ENV.match(k)}


class Server:
    """One server process, logging to a file; stop() is safe to call more than once."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path, cwd: Path):
        self.name = name
        self.log = log
        self.port = int(env["PORT"])
        self.exit_code: int | None = None
        self.stop_seconds: float | None = None
        with log.open("wb") as out:
            # Own session: a Ctrl-C in the terminal reaches the bench, which stops us in order.
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", HEALTH_PATH)
                status = conn.getresponse().status
                if status == 200:
                    return
                if status != 503:  # 503: database not reachable yet; anything else is a bug
                    raise RuntimeError(
                        f"{self.name}: {HEALTH_PATH} answered {status}:\n{self.tail()}"
                    )
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy within {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc; else NaN)."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return math.nan
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is not None:
            self.exit_code = self.proc.returncode
            return
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)  # kyoso run flushes its activity buffer on SIGTERM
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.exit_code = self.proc.returncode
        self.stop_seconds = time.monotonic() - started

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])


_LOG_FINDING = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")


def log_findings(log: Path) -> dict[str, int]:
    """Warnings, errors and tracebacks in a server log, grouped with digits masked."""
    found: Counter[str] = Counter()
    for line in log.read_text("utf-8", "replace").splitlines():
        if _LOG_FINDING.search(line):
            message = line.split(" ", 2)[-1] if line[:4].isdigit() else line  # drop the date
            found[re.sub(r"\d+", "N", message.strip())[:160]] += 1
    return dict(found)


# ---- database -----------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database(admin_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database for the run: a SQLite file, or a throwaway PostgreSQL database next to
    the one `admin_url` names, dropped afterwards."""
    if admin_url is None:
        yield f"sqlite:///{workdir / 'kyoso-bench.db'}"
        return
    import psycopg  # only the PostgreSQL path needs it

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


def prepare_database(database_url: str, users: list[str], workdir: Path, log: Path) -> None:
    env = {**base_env(), "DATABASE_URL": database_url}
    with log.open("wb") as out:
        done = subprocess.run(
            [*kyoso_command(), "db", "upgrade"], env=env, cwd=workdir, stdout=out, stderr=out
        )
    if done.returncode != 0:
        raise RuntimeError(f"kyoso db upgrade failed; see {log}")
    # Members and channels exist, as in a live workspace: the activity flush updates real rows.
    engine = make_engine(database_url)
    try:
        clock = SystemClock()
        with make_session_factory(engine).begin() as session:
            for user in users:
                ensure_member(session, clock=clock, slack_user_id=user)
            now = clock.now()
            for channel_id, name in CHANNELS.items():
                category = ChannelCategory(name.split("_")[1])
                session.add(
                    Channel(
                        slack_channel_id=channel_id,
                        name=name,
                        category=category,
                        status=ChannelStatus.ACTIVE,
                        created_at=now,
                        updated_at=now,
                    )
                )
    finally:
        engine.dispose()


def check_activity(
    database_url: str, last_user: dict[str, str], last_channel: dict[str, str]
) -> dict[str, Any]:
    """How many members and channels show the latest message the bench sent them."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            seen = dict(session.execute(select(Member.slack_user_id, Member.last_seen_at)).all())
            active = dict(
                session.execute(select(Channel.slack_channel_id, Channel.last_activity_at)).all()
            )
    finally:
        engine.dispose()
    members_ok = sum(seen.get(u) == slack_ts_to_datetime(ts) for u, ts in last_user.items())
    channels_ok = sum(active.get(c) == slack_ts_to_datetime(ts) for c, ts in last_channel.items())
    return {
        "members_up_to_date": members_ok,
        "members_expected": len(last_user),
        "channels_up_to_date": channels_ok,
        "channels_expected": len(last_channel),
        "ok": members_ok == len(last_user) and channels_ok == len(last_channel),
    }


# ---- rounds -------------------------------------------------------------------------------


@dataclass
class RoundResult:
    app: str
    round: int
    events: int
    events_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    # Server CPU per measured event: steadier than events/s when the machine is shared.
    cpu_us_per_event: float
    slowest: list[tuple[float, float]]  # (ms after the phase began, latency ms)
    errors: int
    warmup_errors: int
    server_closes: int
    startup_s: float
    stop_s: float | None
    exit_code: int | None
    error_samples: list[str]
    log: str
    log_findings: dict[str, int]
    activity: dict[str, Any] | None = None


def run_round(app: str, number: int, args: argparse.Namespace, ctx: dict[str, Any]) -> RoundResult:
    secret: str = ctx["secret"]
    port = free_port()
    env = {
        **base_env(),
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": ctx["api_url"],
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "KYOSO_HTTP_THREADS": str(args.server_threads),
    }
    if app == "full":
        env |= {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "DATABASE_URL": ctx["database_url"],
            "KYOSO_SCHEDULER_ENABLED": "false",
        }
        command = [*kyoso_command(), "run"]
    else:
        command = [sys.executable, str(BARE_APP)]
    rng = random.Random(f"{app}-{number}")
    sender, users = ctx["sender"], ctx["users"]
    # Event ids unique across runs, apps, rounds and phases: Ev<run><B|F><round><W|M><n>.
    prefix = f"{ctx['run_id']}{app[0].upper()}{number}"
    warm, last_user, last_channel = build_bodies(sender, users, args.warmup, prefix + "W", rng)
    bodies, measured_user, measured_channel = build_bodies(
        sender, users, args.events, prefix + "M", rng
    )
    # Built later, measured messages are newer: they win wherever both phases touched a row.
    last_user |= measured_user
    last_channel |= measured_channel
    # The first request goes alone: the bare app's lazy auth.test must not be raced by every
    # connection at once (the emulator's listen backlog is small).
    prime, warmup, measured = Phase(warm[:1]), Phase(warm[1:]), Phase(bodies)

    log = ctx["log_dir"] / f"{number}-{app}.log"
    started = time.monotonic()
    server = Server(app, command, env, log, ctx["workdir"])
    ctx["servers"].append(server)
    try:
        server.wait_healthy()
        startup = time.monotonic() - started
        with paused_gc():
            drive(port, secret, [prime, warmup, measured], args.connections, server.cpu_seconds)
    finally:
        server.stop()

    activity = None
    if app == "full":
        activity = check_activity(ctx["database_url"], last_user, last_channel)
    latencies = sorted(measured.latencies)
    return RoundResult(
        app=app,
        round=number,
        events=len(bodies),
        events_per_s=len(latencies) / measured.elapsed if measured.elapsed else math.nan,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] * 1000) if latencies else math.nan,
        cpu_us_per_event=measured.server_cpu / len(bodies) * 1e6,
        slowest=slowest(measured),
        errors=len(measured.errors),
        warmup_errors=len(prime.errors) + len(warmup.errors),
        server_closes=prime.server_closes + warmup.server_closes + measured.server_closes,
        startup_s=startup,
        stop_s=server.stop_seconds,
        exit_code=server.exit_code,
        error_samples=(prime.errors + warmup.errors + measured.errors)[:5],
        log=str(log.relative_to(REPO)),
        log_findings=log_findings(log),
        activity=activity,
    )


def slowest(phase: Phase, count: int = 10) -> list[tuple[float, float]]:
    """When the slowest requests were sent: clustered outliers point at a pause, not a tail."""
    pairs = sorted(zip(phase.latencies, phase.sent_at, strict=True), reverse=True)[:count]
    return [(round((at - phase.started) * 1000, 1), round(lat * 1000, 1)) for lat, at in pairs]


@dataclass
class Summary:
    """Per-metric medians over an app's rounds (with two rounds: their mean)."""

    app: str
    rounds: int
    events_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_us_per_event: float
    errors: int  # all rounds, warm-up included


def summarise(app: str, results: list[RoundResult]) -> Summary:
    mine = [r for r in results if r.app == app]

    def median(attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in mine))

    return Summary(
        app=app,
        rounds=len(mine),
        events_per_s=median("events_per_s"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        max_ms=median("max_ms"),
        cpu_us_per_event=median("cpu_us_per_event"),
        errors=sum(r.errors + r.warmup_errors for r in mine),
    )


def print_table(
    title: str, rows: list[tuple[str, str, float, float, float, float, float, int]]
) -> None:
    print(f"\n{title}")
    header = ("app", "round", "events/s", "p50 ms", "p99 ms", "max ms", "cpu µs/ev", "errors")
    print("{:<6} {:>6} {:>9} {:>8} {:>8} {:>8} {:>10} {:>6}".format(*header))
    for app, label, rate, p50, p99, worst, cpu, errors in rows:
        print(
            f"{app:<6} {label:>6} {rate:>9.0f} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f} {cpu:>10.0f} "
            f"{errors:>6}"
        )


# ---- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Event ingest: full Kyoso app against a bare Bolt app, same server stack."
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use, e.g. postgresql://postgres@127.0.0.1:5432/test; a fresh "
        "database is created next to the named one and dropped afterwards (default: SQLite)",
    )
    parser.add_argument("--events", type=int, default=3000, help="measured events per round")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up events per round")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per app (bare, full, ...)")
    parser.add_argument("--users", type=int, default=50, help="size of the user-id pool")
    parser.add_argument(
        "--server-threads", type=int, default=16, help="waitress threads (KYOSO_HTTP_THREADS)"
    )
    args = parser.parse_args(argv)
    if min(args.events, args.connections, args.rounds, args.users) < 1 or args.warmup < 0:
        parser.error("counts must be positive")
    return args


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwind through the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # Also when started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS_DIR / f"ingest-{stamp}-logs"
    log_dir.mkdir()
    database = "postgresql" if args.database_url else "sqlite"
    users = user_pool(args.users)
    servers: list[Server] = []
    results: list[RoundResult] = []

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kyoso-bench-")))
        emulator = stack.enter_context(SlackEmulator(bot_token=BOT_TOKEN))
        database_url = stack.enter_context(bench_database(args.database_url, workdir))

        def stop_servers() -> None:
            for server in servers:
                server.stop()

        # Registered last, so it runs first: servers go down before their database and Slack.
        stack.callback(stop_servers)
        print(
            f"kyoso ingest bench: {database}, {os.cpu_count()} CPUs, {args.rounds} round(s) x "
            f"{args.events} events (+{args.warmup} warm-up), {args.connections} connections"
        )
        prepare_database(database_url, users, workdir, log_dir / "db-upgrade.log")
        ctx: dict[str, Any] = {
            "secret": secrets.token_hex(16),
            "api_url": emulator.api_url,
            "sender": _EnvelopeOnly("", "", emulator),
            "users": users,
            "database_url": database_url,
            "workdir": workdir,
            "log_dir": log_dir,
            "servers": servers,
            "run_id": secrets.token_hex(2).upper(),
        }
        for number in range(1, args.rounds + 1):
            for app in ("bare", "full"):
                result = run_round(app, number, args, ctx)
                results.append(result)
                activity = result.activity
                note = ""
                if activity is not None:
                    note = (
                        f", activity {activity['members_up_to_date']}/{activity['members_expected']}"
                        f" members {activity['channels_up_to_date']}/{activity['channels_expected']}"
                        " channels"
                    )
                print(
                    f"  round {number} {app}: {result.events_per_s:.0f} events/s, p50 "
                    f"{result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                    f"{result.errors + result.warmup_errors} errors (start {result.startup_s:.1f} s"
                    f"{note})",
                    flush=True,
                )

    bare, full = summarise("bare", results), summarise("full", results)
    ratios = {
        "throughput_full_over_bare": full.events_per_s / bare.events_per_s,
        "p99_full_over_bare": full.p99_ms / bare.p99_ms,
        "server_cpu_full_over_bare": full.cpu_us_per_event / bare.cpu_us_per_event,
    }
    print_table(
        "all rounds (in run order)",
        [
            (
                r.app,
                str(r.round),
                r.events_per_s,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.cpu_us_per_event,
                r.errors + r.warmup_errors,
            )
            for r in results
        ],
    )
    print_table(
        "median over rounds",
        [
            (
                m.app,
                "median",
                m.events_per_s,
                m.p50_ms,
                m.p99_ms,
                m.max_ms,
                m.cpu_us_per_event,
                m.errors,
            )
            for m in (bare, full)
        ],
    )
    print(
        f"\nfull/bare: throughput x{ratios['throughput_full_over_bare']:.2f}, "
        f"p99 x{ratios['p99_full_over_bare']:.2f}, server CPU per event "
        f"x{ratios['server_cpu_full_over_bare']:.2f}"
    )

    failed_requests = sum(r.errors + r.warmup_errors for r in results)
    lost_activity = [r for r in results if r.activity is not None and not r.activity["ok"]]
    for r in results:
        for sample in r.error_samples:
            print(f"  {r.app} round {r.round} error: {sample}")
        if r.exit_code not in (0, None):
            print(f"  {r.app} round {r.round}: server exited with {r.exit_code}")
    for app in ("bare", "full"):
        findings: Counter[str] = Counter()
        for r in results:
            if r.app == app:
                findings.update(r.log_findings)
        for message, count in findings.most_common():
            print(f"  {app} server log, all rounds, x{count}: {message}")
    for r in lost_activity:
        print(f"  full round {r.round}: activity not fully recorded: {r.activity}")

    out = RESULTS_DIR / f"ingest-{stamp}.json"
    report = {
        "timestamp": stamp,
        "database": database,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {k: v for k, v in vars(args).items() if k != "database_url"},
        "rounds": [asdict(r) for r in results],
        "median": {"bare": asdict(bare), "full": asdict(full)},
        "ratios": ratios,
        "failed_requests": failed_requests,
        "activity_ok": not lost_activity,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nresults: {out.relative_to(REPO)}; server logs: {log_dir.relative_to(REPO)}/")
    return 1 if failed_requests or lost_activity else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
