"""What the commands need from the layers above bot/, handed in by the composition root.

bot/ imports nothing from app.py, handlers/ or scheduler/ (an import-linter contract says so):
`app.main` fills a `Wiring` with the server and the job table that live up there and passes it
to `bot.cli.main`. Commands that only touch the database need none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock import Clock
from bot.db import SessionFactory
from bot.settings import Settings


class PortUnavailable(Exception):
    """The HTTP server could not listen where the settings say (in use, not allowed)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


class Server(Protocol):
    def serve(self) -> None:
        """Serve Slack until SIGTERM or SIGINT, then finish what is under way; raises
        PortUnavailable when it cannot listen."""


class StartServer(Protocol):
    def __call__(
        self, settings: Settings, *, session_factory: SessionFactory, clock: Clock
    ) -> Server:
        """Build the bot; raises BoltError, SlackClientError or OSError when Slack refuses the
        token or cannot be reached, before anything is served."""


class Job(Protocol):
    """A row of the job table, as `kyoso jobs list` shows it."""

    @property
    def id(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def cron(self) -> Mapping[str, str]: ...


class RunJob(Protocol):
    def __call__(
        self, job_id: str, *, settings: Settings, session_factory: SessionFactory, clock: Clock
    ) -> Mapping[str, Any]:
        """Run one job of the table once, with Slack and mail; returns what it did."""


@dataclass(frozen=True)
class Wiring:
    start_server: StartServer
    jobs: Sequence[Job]
    run_job: RunJob
