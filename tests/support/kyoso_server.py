"""The real Kyoso app in HTTP mode on an ephemeral loopback port, as `kyoso run` serves it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_bolt import App

import handlers
from app import Kyoso, build_deps, create_app
from bot.clock import Clock, FixedClock
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.settings import Settings
from handlers.deps import Deps
from handlers.http_server import HttpServer
from handlers.web import EVENTS_PATH, build_web_app

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"

T = TypeVar("T")


def make_settings(api_url: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "KYOSO_REVIEW_CHANNEL": "C0REVIEW",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass(frozen=True)
class RunningKyoso:
    kyoso: Kyoso
    base_url: str

    @property
    def events_url(self) -> str:
        return self.base_url + EVENTS_PATH


@contextmanager
def serve_kyoso(
    settings: Settings, *, session_factory: SessionFactory, clock: Clock
) -> Iterator[RunningKyoso]:
    kyoso = create_app(settings, session_factory=session_factory, clock=clock)
    server = HttpServer(build_web_app(kyoso.bolt, kyoso.deps), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.serve, name="kyoso-http", daemon=True)
    thread.start()
    kyoso.start_background_work()
    try:
        yield RunningKyoso(kyoso=kyoso, base_url=f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()
        thread.join(timeout=5)
        assert not thread.is_alive(), "the HTTP server did not stop"
        kyoso.close()


def wait_for(probe: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.02) -> T:
    """Listeners run after the ack: poll until their effect shows (or fail loudly)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {probe}")
        time.sleep(interval)


def offline_app() -> tuple[App, Deps]:
    """The listeners as create_app registers them, without a server or a Slack to talk to."""
    settings = make_settings("http://127.0.0.1:9/api/", "sqlite://")
    deps = build_deps(
        settings,
        session_factory=make_session_factory(make_engine("sqlite://")),
        clock=FixedClock(datetime(2026, 4, 1, 1, 0, tzinfo=UTC)),
    )
    bolt = App(
        client=deps.client,
        signing_secret="unused",
        token_verification_enabled=False,
        request_verification_enabled=False,
    )
    handlers.register_all(bolt, deps)
    return bolt, deps
