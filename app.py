"""Composition root: build Kyoso's services and its Bolt app from settings; the `kyoso`
command starts here (`main`) and is handed what it runs."""

from __future__ import annotations

import gc
import logging
import multiprocessing.util
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from types import FrameType
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

import handlers
from bot import cli
from bot.cli.wiring import PortUnavailable, Wiring
from bot.clock import Clock, SystemClock
from bot.db import SessionFactory, engine_of, make_engine, make_session_factory
from bot.gateway import admin_client_for, bot_client_for, build_gateway
from bot.inbox.runtime import EventInbox
from bot.locale import LocaleResolver
from bot.services.activity import ActivityRecorder
from bot.services.mail.smtp import SmtpSender
from bot.services.mail.worker import MailWorker
from bot.settings import Settings
from handlers import intake
from handlers.command_router import CommandRouter
from handlers.deps import Deps
from handlers.granian_server import InFlight, serve_with_granian
from handlers.web import EVENTS_PATH, HEALTH_PATH, build_pages_app, build_web_app
from scheduler.jobs import JOBS, JobContext, JobResult, find_job
from scheduler.lease import Lease
from scheduler.runner import LeaderElectedScheduler

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from handlers.http_server import HttpServer


@dataclass(frozen=True)
class Kyoso:
    bolt: App
    deps: Deps
    inbox: EventInbox

    def start_background_work(self) -> None:
        self.deps.activity.start()
        self.deps.mail.start()
        self.inbox.start()

    def close(self) -> None:
        """Finish and flush what is under way; call once the server stopped taking requests."""
        self.inbox.stop()
        self.deps.activity.stop()
        self.deps.mail.stop()


def build_deps(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: SessionFactory | None = None,
    clock: Clock | None = None,
) -> Deps:
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    if client is None:
        client = bot_client_for(settings)
    clock = clock or SystemClock()
    admin_client = admin_client_for(settings)
    locales = LocaleResolver(
        client=client, session_factory=session_factory, default=settings.default_locale
    )
    return Deps(
        settings=settings,
        session_factory=session_factory,
        clock=clock,
        client=client,
        admin_client=admin_client,
        locales=locales,
        activity=ActivityRecorder(session_factory),
        mail=MailWorker(session_factory, SmtpSender(settings, clock=clock), clock=clock),
        gateway=build_gateway(
            settings,
            client=client,
            admin_client=admin_client,
            session_factory=session_factory,
            clock=clock,
            locales=locales,
        ),
    )


class _SkipTokenWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN itself and warns that the client's token wins; it
    is the same token, so the warning only confuses operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_SKIP_TOKEN_WARNING = _SkipTokenWarning()


def build_bolt_app(settings: Settings, client: WebClient) -> App:
    signing_secret = settings.slack_signing_secret
    logging.getLogger("slack_bolt.App").addFilter(_SKIP_TOKEN_WARNING)  # a no-op the 2nd time
    return App(
        client=client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        # HTTP requests are verified by handlers/slack_gate.py before Bolt sees them (Bolt's own
        # check logs whole bodies); Socket Mode payloads come over an authenticated websocket.
        request_verification_enabled=False,
        process_before_response=False,
    )


def build_event_worker(client: WebClient, deps: Deps) -> App:
    """The same listeners, run to completion by the inbox's workers on recorded events
    (already verified when they were received)."""
    worker = App(
        client=client,
        signing_secret="",
        request_verification_enabled=False,
        process_before_response=True,
    )
    # Its own command router: the slash command's listeners are registered on both apps.
    handlers.register_all(worker, replace(deps, commands=CommandRouter()))
    return worker


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: SessionFactory | None = None,
    clock: Clock | None = None,
) -> Kyoso:
    deps = build_deps(settings, client=client, session_factory=session_factory, clock=clock)
    inbox = EventInbox(
        deps.session_factory,
        deps.clock,
        intake.event_dispatcher(build_event_worker(deps.client, deps)),
        workers=settings.event_workers,
        lease=timedelta(seconds=settings.event_lease_seconds),
    )
    bolt = build_bolt_app(settings, deps.client)
    intake.register(bolt, deps, inbox)
    handlers.register_all(bolt, deps)
    return Kyoso(bolt=bolt, deps=deps, inbox=inbox)


# --------------------------------------------------------------------------------------
# The `kyoso` command: bot.cli parses, explains and exits; what it runs from the layers above
# bot/ (the server, the job table) is built here and handed to it.

log = logging.getLogger("kyoso")


def main(argv: Sequence[str] | None = None) -> int:
    """The `kyoso` console script, and `python -m app`."""
    return cli.main(argv, wiring=WIRING)


def _job_context(deps: Deps) -> JobContext:
    """Jobs see the same Slack client, gateway and mail sender as the listeners."""
    return JobContext(
        session_factory=deps.session_factory,
        clock=deps.clock,
        mail_sender=deps.mail.sender,
        client=deps.client,
        settings=deps.settings,
        gateway=deps.gateway,
    )


def _run_job(
    job_id: str, *, settings: Settings, session_factory: SessionFactory, clock: Clock
) -> JobResult:
    deps = build_deps(settings, session_factory=session_factory, clock=clock)
    return find_job(job_id).run(_job_context(deps))


@dataclass(frozen=True)
class _Server:
    """`kyoso run` once Slack accepted the token: jobs, background work, then requests."""

    kyoso: Kyoso

    def serve(self) -> None:
        settings = self.kyoso.deps.settings
        # Before anything starts: a port in use gets a clear message, not a traceback.
        port = settings.web_port if settings.socket_mode else settings.port
        if port is not None:
            _check_listenable(settings.host, port)
        if not settings.socket_mode and settings.http_server == "granian":
            _serve_with_granian(self.kyoso)  # the worker process runs what is below
            return
        stop_work = _start_work(self.kyoso)
        try:
            if settings.socket_mode:
                _serve_socket_mode(self.kyoso.bolt, self.kyoso.deps)
            else:
                _serve_http(self.kyoso.bolt, self.kyoso.deps)
        finally:
            stop_work()


def _start_work(kyoso: Kyoso) -> Callable[[], None]:
    """The scheduler and the background workers; returns what stops them."""
    settings = kyoso.deps.settings
    # Renewals get their own engine: a pool busy with requests must not make the leader miss
    # one. Engines connect lazily: with the scheduler off it never opens a connection.
    lease_engine = make_engine(settings.database_url)
    elections = _start_scheduler(settings, _job_context(kyoso.deps), lease_engine)
    kyoso.start_background_work()
    # Everything built at start-up lives as long as the process: keep it out of the
    # collector's full passes, which otherwise stall requests in bursts under load.
    gc.freeze()

    def stop() -> None:
        if elections is not None:
            elections.stop()
        lease_engine.dispose()
        kyoso.close()

    return stop


def _start_server(settings: Settings, *, session_factory: SessionFactory, clock: Clock) -> _Server:
    return _Server(create_app(settings, session_factory=session_factory, clock=clock))


def _start_scheduler(
    settings: Settings, context: JobContext, lease_engine: Engine
) -> LeaderElectedScheduler | None:
    if not settings.scheduler_enabled:
        log.info("scheduler disabled by KYOSO_SCHEDULER_ENABLED")
        return None
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease = Lease(
        session_factory=make_session_factory(lease_engine),
        holder=holder,
        ttl=timedelta(seconds=settings.scheduler_lease_seconds),
    )
    elections = LeaderElectedScheduler(
        context=context,
        lease=lease,
        timezone=settings.zone,
        interval=timedelta(seconds=settings.scheduler_tick_seconds),
    )
    elections.start()
    return elections


# Built by `kyoso run` before granian forks its worker, which inherits it (handlers/granian_server.py).
_PREPARED: Kyoso | None = None


def _serve_with_granian(kyoso: Kyoso) -> None:
    global _PREPARED
    settings = kyoso.deps.settings
    _PREPARED = kyoso
    # The worker opens its own connections: none may be shared across the fork.
    engine_of(kyoso.deps.session_factory).dispose()
    log.info("HTTP mode: listening on %s:%s%s (granian)", settings.host, settings.port, EVENTS_PATH)
    serve_with_granian(
        f"{__name__}:{_granian_worker_app.__name__}",
        host=settings.host,
        port=settings.port,
        threads=settings.http_threads,
        log_level=settings.log_level,
    )


def _granian_worker_app() -> WSGIApplication:
    """In granian's worker: start the work, serve, and on shutdown flush once requests ended."""
    kyoso = _PREPARED
    if kyoso is None:
        raise RuntimeError("granian's worker did not inherit the app: it must be forked")
    engine_of(kyoso.deps.session_factory).dispose(close=False)  # the parent's, if any
    stop_work = _start_work(kyoso)
    web = InFlight(build_web_app(kyoso.bolt, kyoso.deps))

    def stop() -> None:
        log.info("stopping: finishing requests in flight")
        web.wait_idle()
        stop_work()

    # granian's worker ends by returning from its process function: multiprocessing runs
    # its finalizers then (atexit handlers do not run in a forked child).
    multiprocessing.util.Finalize(web, stop, exitpriority=10)
    return web


def _check_listenable(host: str, port: int) -> None:
    """Raise PortUnavailable (a clear message from `kyoso run`) when HOST:PORT is taken."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise PortUnavailable(host, port, exc.strerror or str(exc)) from exc


def _serve_http(bolt: App, deps: Deps) -> None:
    from handlers.http_server import HttpServer

    settings = deps.settings
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
    log.info("HTTP mode: listening on %s:%s%s (waitress)", settings.host, server.port, EVENTS_PATH)
    server.serve()


def _serve_socket_mode(bolt: App, deps: Deps) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = deps.settings
    assert settings.slack_app_token is not None
    handler = SocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pages = _serve_pages(deps) if settings.web_port is not None else None
    log.info("Socket Mode: connecting to Slack (no inbound port needed)")
    handler.connect()  # type: ignore[no-untyped-call]
    stopping.wait()
    log.info("stopping: closing the Socket Mode connection")
    handler.close()  # type: ignore[no-untyped-call]
    if pages is not None:
        server, thread = pages
        server.stop()
        thread.join()


def _serve_pages(deps: Deps) -> tuple[HttpServer, threading.Thread]:
    """Socket Mode with KYOSO_WEB_PORT: the application and move pages and the health check
    over HTTP, beside the outbound connection (Slack's events never come this way)."""
    from handlers.http_server import HttpServer

    settings = deps.settings
    assert settings.web_port is not None
    server = HttpServer(
        build_pages_app(deps),
        host=settings.host,
        port=settings.web_port,
        threads=settings.http_threads,
    )
    thread = threading.Thread(target=server.serve, name="kyoso-pages", daemon=True)
    thread.start()
    log.info("Socket Mode: pages and %s on %s:%s", HEALTH_PATH, settings.host, server.port)
    return server, thread


WIRING = Wiring(start_server=_start_server, jobs=JOBS, run_job=_run_job)

if __name__ == "__main__":
    sys.exit(main())
