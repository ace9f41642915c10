"""`kyoso run`: Socket Mode when an app token is set, else HTTP mode on PORT."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError

from bot.cli.common import configure_logging, fail, load_settings, open_database, upgrade_database
from bot.settings import Settings
from scheduler.jobs import JobContext
from scheduler.lease import Lease
from scheduler.runner import LeaderElectedScheduler

if TYPE_CHECKING:
    from slack_bolt import App

    from handlers.deps import Deps

log = logging.getLogger("kyoso")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("run", help="ボットを起動 / run the bot")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    clock = args.clock
    if settings.is_sqlite:
        upgrade_database(settings.database_url, clock=clock)
    session_factory = open_database(settings.database_url)

    from app import create_app  # the composition root pulls in Bolt; only `run` needs it

    try:
        kyoso = create_app(settings, session_factory=session_factory, clock=clock)
    except BoltError as exc:
        fail(
            "Slack がトークンを受け付けませんでした。SLACK_BOT_TOKEN と SLACK_API_URL を確認してください。\n"
            f"Slack rejected the bot token; check SLACK_BOT_TOKEN and SLACK_API_URL. ({exc})"
        )
    except (SlackClientError, OSError) as exc:
        fail(
            f"Slack（{settings.slack_api_url}）に接続できませんでした。ネットワークと SLACK_API_URL を確認してください。\n"
            f"Could not reach Slack at {settings.slack_api_url}; check the network and SLACK_API_URL. ({exc})"
        )
    context = JobContext(
        session_factory=session_factory,
        clock=clock,
        mail_sender=kyoso.deps.mail.sender,
        client=kyoso.deps.client,
        settings=settings,
        gateway=kyoso.deps.gateway,
    )
    elections = _start_scheduler(settings, context)
    kyoso.start_background_work()
    # Everything built at start-up lives as long as the process: keep it out of the
    # collector's full passes, which otherwise stall requests in bursts under load.
    gc.freeze()
    try:
        if settings.socket_mode:
            _serve_socket_mode(kyoso.bolt, settings)
        else:
            _serve_http(kyoso.bolt, kyoso.deps)
    finally:
        if elections is not None:
            elections.stop()
        kyoso.close()
    return 0


def _start_scheduler(settings: Settings, context: JobContext) -> LeaderElectedScheduler | None:
    if not settings.scheduler_enabled:
        log.info("scheduler disabled by KYOSO_SCHEDULER_ENABLED")
        return None
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease = Lease(session_factory=context.session_factory, clock=context.clock, holder=holder)
    elections = LeaderElectedScheduler(context=context, lease=lease, timezone=settings.zone)
    elections.start()
    return elections


def _serve_http(bolt: App, deps: Deps) -> None:
    settings = deps.settings
    from handlers.web import EVENTS_PATH, HttpServer, build_web_app

    server = HttpServer(
        build_web_app(bolt, deps),
        host=settings.host,
        port=settings.port,
        threads=settings.http_threads,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        log.info("stopping: finishing requests in flight")
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("HTTP mode: listening on %s:%s%s", settings.host, server.port, EVENTS_PATH)
    server.serve()


def _serve_socket_mode(bolt: App, settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    handler = SocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("Socket Mode: connecting to Slack (no inbound port needed)")
    handler.connect()  # type: ignore[no-untyped-call]
    stopping.wait()
    log.info("stopping: closing the Socket Mode connection")
    handler.close()  # type: ignore[no-untyped-call]
