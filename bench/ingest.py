"""Serving Slack's requests: the full Kyoso app (`kyoso run`, HTTP mode, scheduler on) against two
bare Bolt apps that import nothing of Kyoso — a sync `App` on the same stack (granian, Bolt's WSGI
adapter: bench/bare_app.py) and an `AsyncApp` on uvicorn (bench/bare_async_app.py) — in one run,
interleaved, each server its own process, fresh for every round.

    .venv/bin/python bench/ingest.py [--database-url postgresql://postgres@127.0.0.1:5432/test]

Per round and app: start-up to the first healthy /healthz; RSS at start; a closed-loop load of
signed `message` events for `--seconds` (a realistic mix: 500 members of 15,000 seeded, 50
channels, one message in ten trips a detector); a paced run at `--rate` events/s, latency taken
from each event's intended send time; `/kyoso help` ack latency; RSS after the load. After each
full round the bench waits for the event inbox to finish, stops the server (SIGTERM) and checks
the database: every member and channel shows the latest message sent, and every message that
tripped a detector was processed — the figures count completed work, not acknowledgements.

Exit status: 0 when every request got a 200 and the work check passed, 1 otherwise.
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

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.services.activity import slack_ts_to_datetime  # noqa: E402
from handlers.web import EVENTS_PATH, HEALTH_PATH  # noqa: E402
from models import Channel, Member  # noqa: E402
from models.channel import ChannelCategory, ChannelStatus  # noqa: E402
from models.member import MemberStatus  # noqa: E402
from tests.support.slack_emulator import SlackEmulator  # noqa: E402
from tests.support.slack_sender import FORM, JSON, SlackSender, sign  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from detectors import typical_corpus  # noqa: E402

from bot.detectors import scan  # noqa: E402
from models import InboxEvent  # noqa: E402
from models.event import InboxStatus  # noqa: E402

RESULTS_DIR = REPO / "bench" / "results"
BARE_APPS = {
    "bare-async": Path(__file__).with_name("bare_async_app.py"),
    "bare": Path(__file__).with_name("bare_app.py"),
    "bare-waitress": Path(__file__).with_name("bare_app.py"),  # BARE_SERVER=waitress
}
APPS = ("bare-async", "bare", "bare-waitress", "full")
DEFAULT_APPS = ("bare-async", "bare", "full")
BOT_TOKEN = "xoxb-test"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Only what a process needs to run: the caller's own settings (SLACK_APP_TOKEN would switch
# kyoso to Socket Mode, SMTP_*, ...) must not leak into the servers.
_PASSED_ENV = re.compile(r"^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|SYSTEMROOT)$")

# 50 channels, named by Kyoso's conventions.
CHANNELS = {
    f"C0BENCH{n:04d}": f"デジ_{('all', 'pj', 're')[n % 3]}_テーマ{n:02d}" for n in range(50)
}
# Realistic posts, about one in ten with something a detector exists for (bench/detectors.py).
TEXTS = tuple(typical_corpus(2000))
TEXT_TRIPS = {text: bool(scan(text)) for text in TEXTS}
CLEAN_TEXTS = tuple(text for text in TEXTS if not TEXT_TRIPS[text])  # --mix clean
_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"
_TAGS = itertools.count(1)


def unique_tag() -> str:
    """A short hiragana word, different for every call, to end a post with."""
    n, word = next(_TAGS), ""
    while n:
        n, digit = divmod(n, len(_KANA))
        word += _KANA[digit]
    return word


# ---- request bodies -----------------------------------------------------------------------


class _EnvelopeOnly(SlackSender):
    """SlackSender's exact event_callback envelope, captured instead of sent."""

    def send(self, body: bytes, content_type: str, **_opts: Any) -> Any:
        return body


def user_pool(size: int) -> list[str]:
    rng = random.Random(20251121)  # the same pool every run
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return ["U0" + "".join(rng.choices(alphabet, k=9)) for _ in range(size)]


@dataclass
class Bodies:
    """Signed-later message events, and what the database must show once they are done."""

    bodies: list[bytes]
    last_user: dict[str, str]  # latest ts per user
    last_channel: dict[str, str]  # latest ts per channel
    tripping: list[str]  # event ids of the messages a detector finds something in


def build_bodies(
    sender: SlackSender,
    users: list[str],
    count: int,
    prefix: str,
    rng: random.Random,
    clean: bool = False,
    record_trips: bool = False,
) -> Bodies:
    """`count` message events from the pool of users, in the bench's channels."""
    base = time.time()
    made = Bodies([], {}, {}, [])
    channel_ids = list(CHANNELS)
    texts = CLEAN_TEXTS if clean else TEXTS
    for n in range(count):
        ts = f"{base + n / 1_000_000:.6f}"  # unique and increasing, as Slack's are per channel
        user, channel, base_text = rng.choice(users), rng.choice(channel_ids), rng.choice(texts)
        # Every post differs, as in a workspace: nothing is scanned once for several messages.
        text = f"{base_text}\u3000{unique_tag()}"
        event_id = f"Ev{prefix}{n:06d}"
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
        made.bodies.append(
            cast(bytes, sender.event(event, event_id=event_id, event_time=int(base)))
        )
        made.last_user[user] = ts
        made.last_channel[channel] = ts
        # What the server must do with it: the tag can change a finding (4月1日 より is a
        # date something starts, not a birth date), so the final text is scanned, once.
        if record_trips and scan(text):
            made.tripping.append(event_id)
    return made


def help_commands(sender: SlackSender, users: list[str], count: int) -> list[bytes]:
    channel = next(iter(CHANNELS))
    return [
        cast(
            bytes,
            sender.command("/kyoso", "help", user_id=users[n % len(users)], channel_id=channel),
        )
        for n in range(count)
    ]


# ---- load ---------------------------------------------------------------------------------


@dataclass
class Phase:
    bodies: list[bytes]
    content_type: str = JSON
    seconds: float | None = None  # closed loop for this long (then `bodies` is a pool)
    latencies: list[float] = field(default_factory=list)  # seconds, completed responses
    answered: list[int] = field(default_factory=list)  # indices of the bodies Slack got a 200 for
    sent_at: list[float] = field(default_factory=list)  # perf_counter at send, same order
    errors: list[str] = field(default_factory=list)
    server_closes: int = 0  # responses that ended the keep-alive connection
    started: float = 0.0
    elapsed: float = 0.0
    server_cpu: float = math.nan  # seconds of server CPU (user + system) during the phase


def _post(
    conn: http.client.HTTPConnection,
    secret: str,
    index: int,
    phase: Phase,
    intended: float | None = None,
) -> None:
    """One signed request; latency from `intended` (a paced run's schedule) or from the send."""
    body = phase.bodies[index]
    ts = str(int(time.time()))  # fresh: Bolt rejects timestamps older than 5 minutes
    headers = {
        "Content-Type": phase.content_type,
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
    phase.latencies.append(time.perf_counter() - (started if intended is None else intended))
    phase.sent_at.append(started)
    if response.will_close:
        phase.server_closes += 1
    if response.status != 200:
        phase.errors.append(f"HTTP {response.status}: {payload[:200]!r}")
    else:
        phase.answered.append(index)


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
                deadline = None if phase.seconds is None else time.perf_counter() + phase.seconds
                # next() on itertools.count is atomic under the GIL: a shared work queue
                for index in counter:
                    if index >= len(phase.bodies):
                        if deadline is not None:
                            phase.errors.append("the pool of bodies ran out before the time")
                        break
                    if deadline is not None and time.perf_counter() >= deadline:
                        break
                    _post(conn, secret, index, phase)
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


def drive_paced(port: int, secret: str, phase: Phase, rate: float, connections: int) -> None:
    """Open loop: event n is due at start + n / rate, whatever the server does; its latency runs
    from that time, so a stall shows in every event it delays (no coordinated omission)."""
    start = time.perf_counter() + 0.2
    counter = itertools.count()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for index in counter:
                if index >= len(phase.bodies):
                    break
                due = start + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                _post(conn, secret, index, phase, intended=due)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.started, phase.elapsed = start, time.perf_counter() - start


def settle(server: Server, *, idle_share: float = 0.1, window: float = 0.5) -> None:
    """Wait until the server's CPU is back to idle (under `idle_share` of a core over
    `window` seconds): the work queued by the last phase is done, and billed to it."""
    deadline = time.monotonic() + 120
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(window)
        now = server.cpu_seconds()
        if now - before < idle_share * window:
            return
        before = now
    raise RuntimeError(f"{server.name} did not come back to idle")


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

    def wait_healthy(self, timeout: float = 60.0, poll: float = 0.1) -> None:
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
            time.sleep(poll)
        raise RuntimeError(f"{self.name} not healthy within {timeout:.0f} s:\n{self.tail()}")

    def pids(self) -> list[int]:
        """The server and its children (granian's worker)."""
        found = [self.proc.pid]
        for pid in found:
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    found.extend(int(c) for c in children.read_text().split())
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far (Linux /proc; else NaN)."""
        total = 0.0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return math.nan
            fields = stat.rsplit(")", 1)[1].split()  # after the command name (may hold spaces)
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def memory_mb(self) -> dict[str, float]:
        """RSS of the process that serves (the largest), and PSS summed over all of them:
        memory shared by granian's two processes after the fork counts once."""
        rss, pss = 0.0, 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                rss = max(rss, _proc_kb(f"/proc/{pid}/status", "VmRSS:") / 1024)
                pss += _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:") / 1024
        return {"rss_mb": round(rss, 1), "pss_mb": round(pss, 1)}

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


def _proc_kb(path: str, key: str) -> float:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return float(line.split()[1])
    return math.nan


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


def prepare_database(
    database_url: str, users: list[str], members: int, workdir: Path, log: Path
) -> None:
    env = {**base_env(), "DATABASE_URL": database_url}
    with log.open("wb") as out:
        done = subprocess.run(
            [*kyoso_command(), "db", "upgrade"], env=env, cwd=workdir, stdout=out, stderr=out
        )
    if done.returncode != 0:
        raise RuntimeError(f"kyoso db upgrade failed; see {log}")
    # Members and channels exist, as in a live workspace: the activity flush updates real rows.
    # The load comes from `users`; the rest of the `members` are there as in a full workspace.
    engine = make_engine(database_url)
    try:
        now = SystemClock().now()
        others = [f"U0QUIET{n:06d}" for n in range(max(0, members - len(users)))]
        rows = [
            {
                "slack_user_id": user,
                "status": MemberStatus.ACTIVE,
                "is_bot": False,
                "created_at": now,
                "updated_at": now,
            }
            for user in [*users, *others]
        ]
        with make_session_factory(engine).begin() as session:
            session.execute(insert(Member), rows)
            session.add_all(
                Channel(
                    slack_channel_id=channel_id,
                    name=name,
                    category=ChannelCategory(name.split("_")[1]),
                    status=ChannelStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
                for channel_id, name in CHANNELS.items()
            )
    finally:
        engine.dispose()


def wait_for_inbox(database_url: str, timeout: float = 120.0) -> float:
    """Until nothing waits in the event inbox (or the time is up); returns the seconds waited."""
    started = time.monotonic()
    engine = make_engine(database_url)
    try:
        while time.monotonic() - started < timeout:
            with make_session_factory(engine)() as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(InboxEvent)
                    .where(InboxEvent.status != InboxStatus.DONE)
                )
            if not waiting:
                break
            time.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - started


def check_work(database_url: str, made: list[Bodies]) -> dict[str, Any]:
    """Whether the database shows every message's work: the latest activity per member and
    channel, and every detector-tripping message processed by the inbox."""
    last_user: dict[str, str] = {}
    last_channel: dict[str, str] = {}
    tripping: list[str] = []
    for bodies in made:  # in the order sent: later messages win
        last_user |= bodies.last_user
        last_channel |= bodies.last_channel
        tripping += bodies.tripping
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            seen = dict(session.execute(select(Member.slack_user_id, Member.last_seen_at)).all())
            active = dict(
                session.execute(select(Channel.slack_channel_id, Channel.last_activity_at)).all()
            )
            statuses = dict(session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
            done = {e for e, status in statuses.items() if status == InboxStatus.DONE}
    finally:
        engine.dispose()
    members_ok = sum(seen.get(u) == slack_ts_to_datetime(ts) for u, ts in last_user.items())
    channels_ok = sum(active.get(c) == slack_ts_to_datetime(ts) for c, ts in last_channel.items())
    detections_ok = sum(event_id in done for event_id in tripping)
    stale = [
        (u, ts, str(seen.get(u)))
        for u, ts in last_user.items()
        if seen.get(u) != slack_ts_to_datetime(ts)
    ]
    unprocessed = [(e, str(statuses.get(e, "not recorded"))) for e in tripping if e not in done]
    return {
        "stale_members": stale[:5],
        "unprocessed_detections": unprocessed[:5],
        "members_up_to_date": members_ok,
        "members_expected": len(last_user),
        "channels_up_to_date": channels_ok,
        "channels_expected": len(last_channel),
        "detections_processed": detections_ok,
        "detections_expected": len(tripping),
        "ok": members_ok == len(last_user)
        and channels_ok == len(last_channel)
        and detections_ok == len(tripping),
    }


# ---- rounds -------------------------------------------------------------------------------


@dataclass
class RoundResult:
    app: str
    round: int
    events: int  # closed-loop events answered
    events_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    # Server CPU per event (all its processes): steadier than events/s on a shared machine.
    cpu_us_per_event: float
    # The same at the paced rate, from its first event until its work is done (the server
    # back to idle): all of each event's work, where the closed loop may leave queued work
    # (listeners after the ack, the inbox) past its window or take up the warm-up's.
    paced_cpu_us_per_event: float
    paced_p50_ms: float
    paced_p99_ms: float
    paced_max_ms: float
    help_p50_ms: float
    help_p99_ms: float
    startup_s: float
    rss_start_mb: float
    pss_start_mb: float
    rss_after_mb: float
    pss_after_mb: float
    slowest: list[tuple[float, float]]  # (ms after the phase began, latency ms)
    errors: int
    stop_s: float | None
    exit_code: int | None
    error_samples: list[str]
    log: str
    log_findings: dict[str, int]
    work: dict[str, Any] | None = None


def server_command(app: str) -> list[str]:
    if app == "full":
        return [*kyoso_command(), "run"]
    return [sys.executable, str(BARE_APPS[app])]


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
        env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "DATABASE_URL": ctx["database_url"]}
    if app == "bare-waitress":
        env["BARE_SERVER"] = "waitress"
    rng = random.Random(f"{app}-{number}")
    sender, users = ctx["sender"], ctx["users"]
    # Event ids unique across runs, apps, rounds and phases: Ev<run><app><round><phase><n>.
    prefix = f"{ctx['run_id']}{APPS.index(app)}{number}"
    clean, full = args.mix == "clean", app == "full"
    warm = build_bodies(sender, users, args.warmup, prefix + "W", rng, clean, full)
    pool = build_bodies(sender, users, args.pool, prefix + "M", rng, clean, full)
    paced_count = int(args.rate * args.paced_seconds)
    paced_bodies = build_bodies(sender, users, paced_count, prefix + "P", rng, clean, full)
    # The first request goes alone: a bare app's lazy auth.test must not be raced by every
    # connection at once (the emulator's listen backlog is small).
    prime, warmup = Phase(warm.bodies[:1]), Phase(warm.bodies[1:])
    measured = Phase(pool.bodies, seconds=args.seconds)
    paced = Phase(paced_bodies.bodies)
    helps = Phase(help_commands(sender, users, args.commands), content_type=FORM)

    log = ctx["log_dir"] / f"{number}-{app}.log"
    started = time.monotonic()
    server = Server(app, server_command(app), env, log, ctx["workdir"])
    ctx["servers"].append(server)
    work = None
    try:
        server.wait_healthy(poll=0.01)
        startup = time.monotonic() - started
        time.sleep(1.0)  # what a running server holds, not the start-up's peak
        at_start = server.memory_mb()
        with paused_gc():
            drive(port, secret, [prime, warmup, measured], args.connections, server.cpu_seconds)
            settle(server)
            cpu_before_paced = server.cpu_seconds()
            drive_paced(port, secret, paced, args.rate, args.paced_connections)
            settle(server)
            paced_cpu = server.cpu_seconds() - cpu_before_paced
            drive(port, secret, [helps], 1)
        after = server.memory_mb()
        if app == "full":
            inbox_wait = wait_for_inbox(ctx["database_url"])
    finally:
        server.stop()
    if app == "full":
        answered = _subset(pool, measured.answered)  # the closed loop sent part of the pool
        work = check_work(ctx["database_url"], [warm, answered, paced_bodies])
        work["inbox_wait_s"] = round(inbox_wait, 1)
    latencies = sorted(measured.latencies)
    paced_latencies = sorted(paced.latencies)
    help_latencies = sorted(helps.latencies)
    phases = (prime, warmup, measured, paced, helps)
    return RoundResult(
        app=app,
        round=number,
        events=len(latencies),
        events_per_s=len(latencies) / measured.elapsed if measured.elapsed else math.nan,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] * 1000) if latencies else math.nan,
        cpu_us_per_event=measured.server_cpu / max(1, len(latencies)) * 1e6,
        paced_cpu_us_per_event=paced_cpu / max(1, len(paced_latencies)) * 1e6,
        paced_p50_ms=percentile(paced_latencies, 0.50) * 1000,
        paced_p99_ms=percentile(paced_latencies, 0.99) * 1000,
        paced_max_ms=(paced_latencies[-1] * 1000) if paced_latencies else math.nan,
        help_p50_ms=percentile(help_latencies, 0.50) * 1000,
        help_p99_ms=percentile(help_latencies, 0.99) * 1000,
        startup_s=startup,
        rss_start_mb=at_start["rss_mb"],
        pss_start_mb=at_start["pss_mb"],
        rss_after_mb=after["rss_mb"],
        pss_after_mb=after["pss_mb"],
        slowest=slowest(measured),
        errors=sum(len(p.errors) for p in phases),
        stop_s=server.stop_seconds,
        exit_code=server.exit_code,
        error_samples=[e for p in phases for e in p.errors][:5],
        log=str(log.relative_to(REPO)),
        log_findings=log_findings(log),
        work=work,
    )


def _subset(made: Bodies, indices: list[int]) -> Bodies:
    """The events of a pool that were answered, with what the database must show for them."""
    trips = set(made.tripping)
    subset = Bodies([made.bodies[i] for i in sorted(indices)], {}, {}, [])
    for body in subset.bodies:  # in the order built: later messages win
        event = json.loads(body)
        inner = event["event"]
        subset.last_user[inner["user"]] = inner["ts"]
        subset.last_channel[inner["channel"]] = inner["ts"]
        if event["event_id"] in trips:
            subset.tripping.append(event["event_id"])
    return subset


def slowest(phase: Phase, count: int = 10) -> list[tuple[float, float]]:
    """When the slowest requests were sent: clustered outliers point at a pause, not a tail."""
    pairs = sorted(zip(phase.latencies, phase.sent_at, strict=True), reverse=True)[:count]
    return [(round((at - phase.started) * 1000, 1), round(lat * 1000, 1)) for lat, at in pairs]


SUMMARISED = (
    "events_per_s",
    "p50_ms",
    "p99_ms",
    "cpu_us_per_event",
    "paced_cpu_us_per_event",
    "paced_p50_ms",
    "paced_p99_ms",
    "paced_max_ms",
    "help_p50_ms",
    "help_p99_ms",
    "startup_s",
    "rss_start_mb",
    "pss_start_mb",
    "rss_after_mb",
    "pss_after_mb",
)


def summarise(app: str, results: list[RoundResult]) -> dict[str, float]:
    """Per-metric medians over an app's rounds."""
    mine = [r for r in results if r.app == app]
    return {key: float(statistics.median(getattr(r, key) for r in mine)) for key in SUMMARISED}


def print_rounds(results: list[RoundResult]) -> None:
    print("\nall rounds (in run order): closed loop, paced, /kyoso help, start-up, memory")
    print(
        f"{'app':<10} {'rnd':>3} {'ev/s':>6} {'p50':>5} {'p99':>6} {'cpu µs':>7} {'paced':>6} "
        f"{'paced p50/p99/max ms':>21} {'help p50/p99':>13} {'start s':>7} "
        f"{'RSS start/after':>16} {'PSS':>11} {'err':>4}"
    )
    for r in results:
        print(
            f"{r.app:<10} {r.round:>3} {r.events_per_s:>6.0f} {r.p50_ms:>5.1f} {r.p99_ms:>6.1f} "
            f"{r.cpu_us_per_event:>7.0f} {r.paced_cpu_us_per_event:>6.0f} "
            f"{r.paced_p50_ms:>6.1f}/{r.paced_p99_ms:>6.1f}/{r.paced_max_ms:>6.1f}  "
            f"{r.help_p50_ms:>5.1f}/{r.help_p99_ms:>6.1f} {r.startup_s:>7.2f} "
            f"{r.rss_start_mb:>7.0f}/{r.rss_after_mb:>7.0f}  {r.pss_start_mb:>4.0f}/{r.pss_after_mb:>4.0f}"
            f" {r.errors:>4}"
        )


def ratios(medians: dict[str, dict[str, float]], baseline: str) -> dict[str, float]:
    full, base = medians["full"], medians[baseline]
    return {
        "throughput": full["events_per_s"] / base["events_per_s"],
        "cpu_per_event": full["cpu_us_per_event"] / base["cpu_us_per_event"],
        "paced_cpu_per_event": full["paced_cpu_us_per_event"] / base["paced_cpu_us_per_event"],
        "p99": full["p99_ms"] / base["p99_ms"],
        "paced_p99": full["paced_p99_ms"] / base["paced_p99_ms"],
        "help_p99": full["help_p99_ms"] / base["help_p99_ms"],
        "startup": full["startup_s"] / base["startup_s"],
        "rss_start": full["rss_start_mb"] / base["rss_start_mb"],
    }


# ---- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Serving Slack's requests: full Kyoso against bare Bolt apps, in one run."
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use, e.g. postgresql://postgres@127.0.0.1:5432/test; a fresh "
        "database is created next to the named one and dropped afterwards (default: SQLite)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="closed-loop load per round")
    parser.add_argument("--pool", type=int, default=90000, help="events built for the load")
    parser.add_argument("--warmup", type=int, default=500, help="warm-up events per round")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--rate", type=float, default=100.0, help="paced run: events per second")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="paced run: duration")
    parser.add_argument("--paced-connections", type=int, default=8)
    parser.add_argument("--commands", type=int, default=300, help="/kyoso help requests")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per app, interleaved")
    parser.add_argument("--users", type=int, default=500, help="members who post")
    parser.add_argument("--members", type=int, default=15000, help="members seeded in all")
    parser.add_argument(
        "--server-threads", type=int, default=16, help="server threads (KYOSO_HTTP_THREADS)"
    )
    parser.add_argument(
        "--apps",
        default=",".join(DEFAULT_APPS),
        help=f"which apps, comma-separated, of {', '.join(APPS)}",
    )
    parser.add_argument(
        "--mix",
        choices=("realistic", "clean"),
        default="realistic",
        help="realistic: about one message in ten trips a detector; clean: none does",
    )
    args = parser.parse_args(argv)
    counts = (args.pool, args.connections, args.rounds, args.users, args.commands)
    if min(counts) < 1 or args.warmup < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("counts must be positive")
    args.apps = [a for a in APPS if a in args.apps.split(",")]
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
            f"kyoso serving bench: {database}, {os.cpu_count()} CPUs, {args.rounds} round(s) of "
            f"{', '.join(args.apps)}; {args.seconds:.0f} s closed loop on {args.connections} "
            f"connections, {args.rate:.0f} events/s paced for {args.paced_seconds:.0f} s, "
            f"{args.commands} /kyoso help; {args.users} posting of {args.members} members, "
            f"{len(CHANNELS)} channels, mix {args.mix} "
            f"({sum(TEXT_TRIPS.values()) / len(TEXTS):.0%} of the realistic texts trip a detector)"
        )
        prepare_database(database_url, users, args.members, workdir, log_dir / "db-upgrade.log")
        for user in users:
            emulator.add_user(user, name=user.lower(), locale="ja-JP")
        for channel_id, name in CHANNELS.items():
            emulator.add_channel(name, channel_id=channel_id, members=users)
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
            for app in args.apps:
                result = run_round(app, number, args, ctx)
                results.append(result)
                note = f", work {result.work}" if result.work is not None else ""
                print(
                    f"  round {number} {app}: {result.events_per_s:.0f} events/s, "
                    f"{result.cpu_us_per_event:.0f} µs CPU/event ({result.paced_cpu_us_per_event:.0f} paced), paced p99 "
                    f"{result.paced_p99_ms:.1f} ms, help p99 {result.help_p99_ms:.1f} ms, "
                    f"start {result.startup_s:.2f} s, RSS {result.rss_start_mb:.0f}→"
                    f"{result.rss_after_mb:.0f} MB, {result.errors} errors{note}",
                    flush=True,
                )

    print_rounds(results)
    medians = {app: summarise(app, results) for app in args.apps}
    print("\nmedians over rounds")
    for app, median in medians.items():
        print(f"  {app:<10} " + ", ".join(f"{k} {v:.2f}" for k, v in median.items()))
    compared = {}
    if "full" in medians:
        for baseline in (a for a in args.apps if a != "full"):
            compared[baseline] = ratios(medians, baseline)
            print(
                f"\nfull/{baseline}: "
                + ", ".join(f"{k} x{v:.2f}" for k, v in compared[baseline].items())
            )

    failed_requests = sum(r.errors for r in results)
    unfinished = [r for r in results if r.work is not None and not r.work["ok"]]
    for r in results:
        for sample in r.error_samples:
            print(f"  {r.app} round {r.round} error: {sample}")
        # uvicorn re-raises the SIGTERM it handled once it has stopped: -15 is a clean stop.
        if r.exit_code not in (0, None, -signal.SIGTERM):
            print(f"  {r.app} round {r.round}: server exited with {r.exit_code}")
    for app in args.apps:
        findings: Counter[str] = Counter()
        for r in results:
            if r.app == app:
                findings.update(r.log_findings)
        for message, count in findings.most_common(8):
            print(f"  {app} server log, all rounds, x{count}: {message}")
    for r in unfinished:
        print(f"  full round {r.round}: work not fully done: {r.work}")

    out = RESULTS_DIR / f"ingest-{stamp}.json"
    report = {
        "timestamp": stamp,
        "database": database,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "config": {k: v for k, v in vars(args).items() if k != "database_url"},
        "rounds": [asdict(r) for r in results],
        "median": medians,
        "ratios": compared,
        "failed_requests": failed_requests,
        "work_ok": not unfinished,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nresults: {out.relative_to(REPO)}; server logs: {log_dir.relative_to(REPO)}/")
    return 1 if failed_requests or unfinished else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
