"""Kyoso's own cost per event, in process: the inbox worker's dispatch of a message (all its
listeners run to completion, the database and the Slack emulator's HTTP included) against a
bare Bolt App dispatching the same bodies to a no-op listener, in the same run.

    .venv/bin/python bench/dispatch.py                         # SQLite
    .venv/bin/python bench/dispatch.py --database-url postgresql://postgres@127.0.0.1:5432/test

CPU is the dispatching thread's own (`time.thread_time`): the emulator answering in the same
process is not counted, the client's side of each Slack call and database round trip is."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from databases import postgres_database, sqlite_database  # noqa: E402
from results import save_results  # noqa: E402
from slack_bolt import App, BoltRequest  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from app import build_event_worker, create_app  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.services.members import ensure_member  # noqa: E402
from handlers.intake import event_dispatcher  # noqa: E402
from tests.support.kyoso_server import make_settings  # noqa: E402
from tests.support.slack_emulator import SlackEmulator  # noqa: E402

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # a Monday, 12:00 in Japan
# A phone number: a warning to the poster (a detection, an ephemeral message, no case).
DETECTED = "先日の件、担当の携帯 090-1234-5678 までご連絡ください。"
CLEAN = "先日の勉強会の資料を共有します。皆さんのご意見をお聞かせください。"


def message_bodies(
    channel: str, users: list[str], text: str, n: int, seq: Iterator[int]
) -> list[str]:
    bodies = []
    for _ in range(n):
        i = next(seq)
        ts = f"{1780000000 + i}.{i % 1_000_000:06d}"
        event = {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": users[i % len(users)],
            "text": f"{text} {i}",  # a text of its own: no scan is a lookup
            "ts": ts,
            "event_ts": ts,
        }
        envelope = {
            "type": "event_callback",
            "team_id": "T0KYOSO",
            "api_app_id": "A0KYOSO",
            "event_id": f"Ev{uuid.uuid4().hex[:16]}",
            "event_time": 1780000000 + i,
            "event": event,
        }
        bodies.append(json.dumps(envelope, ensure_ascii=False))
    return bodies


def bare_dispatch(api_url: str) -> Callable[[str], None]:
    bare = App(
        client=WebClient(token="xoxb-test", base_url=api_url),
        signing_secret="",
        request_verification_enabled=False,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @bare.event("message")
    def on_message() -> None:
        pass

    def dispatch(body: str) -> None:
        bare.dispatch(BoltRequest(body=json.loads(body), mode="socket_mode"))

    return dispatch


def cpu_per_event(dispatch: Callable[[str], None], bodies: list[str]) -> float:
    started = time.thread_time()
    for body in bodies:
        dispatch(body)
    return (time.thread_time() - started) / len(bodies) * 1e6


def run(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    upgrade(database_url)
    clock = FixedClock(NOW)
    with SlackEmulator(bot_token="xoxb-test") as emulator:
        emulator.add_channel(
            "事務局レビュー", channel_id="C0REVIEW", is_private=True, members=[emulator.bot_user_id]
        )
        users = [
            emulator.add_user(name=f"member{n}", locale="ja-JP")["id"] for n in range(args.users)
        ]
        channel = emulator.add_channel("デジ_all_雑談", members=[emulator.bot_user_id, *users])[
            "id"
        ]
        engine = make_engine(database_url)
        session_factory = make_session_factory(engine)
        with session_factory.begin() as session:
            for user in users:
                ensure_member(session, clock=clock, slack_user_id=user)
        kyoso = create_app(
            make_settings(emulator.api_url, database_url),
            session_factory=session_factory,
            clock=clock,
        )
        kyoso.deps.activity.start()
        worker = event_dispatcher(build_event_worker(kyoso.deps.client, kyoso.deps))
        apps = {"kyoso": worker, "bare": bare_dispatch(emulator.api_url)}
        seq = count()
        figures: dict[str, dict[str, list[float]]] = {}
        try:
            for text in (DETECTED, CLEAN):  # warm-up
                for dispatch in apps.values():
                    for body in message_bodies(channel, users, text, 100, seq):
                        dispatch(body)
            for _ in range(args.rounds):
                for kind, text, n in (
                    ("detected", DETECTED, args.detected),
                    ("clean", CLEAN, args.clean),
                ):
                    for name, dispatch in apps.items():
                        bodies = message_bodies(channel, users, text, n, seq)
                        figures.setdefault(kind, {}).setdefault(name, []).append(
                            cpu_per_event(dispatch, bodies)
                        )
        finally:
            kyoso.deps.activity.stop()
            engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--detected", type=int, default=300, help="detected messages per round")
    parser.add_argument("--clean", type=int, default=1000, help="clean messages per round")
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    database = (
        postgres_database(args.database_url) if args.database_url else sqlite_database("dispatch")
    )
    with database as url:
        figures = run(url, args)
    print(f"CPU µs per event of the dispatching thread, {args.rounds} rounds (median, range)")
    summary: dict[str, Any] = {}
    for kind, by_app in figures.items():
        medians = {name: statistics.median(values) for name, values in by_app.items()}
        summary[kind] = {"median_us": medians, "rounds_us": by_app}
        ranges = ", ".join(
            f"{name} {medians[name]:.0f} ({min(v):.0f}–{max(v):.0f})" for name, v in by_app.items()
        )
        print(f"  {kind:<8} {ranges}; kyoso/bare ×{medians['kyoso'] / medians['bare']:.1f}")
    out = save_results("dispatch", {"database": url.split(":")[0], **summary})
    print(f"results: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
