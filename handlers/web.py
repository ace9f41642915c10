"""HTTP mode: Slack's endpoint and a health check, served by waitress (production WSGI)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from waitress.server import TcpWSGIServer, create_server

from handlers import registration_page
from handlers.deps import Deps

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_web_app(bolt: App, deps: Deps) -> Flask:
    web = Flask("kyoso")
    slack_handler = SlackRequestHandler(bolt)

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        response: Response = slack_handler.handle(request)
        return response

    @web.get(HEALTH_PATH)
    def health() -> tuple[Response, int]:
        try:
            with deps.session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable: %s", exc)
            return jsonify(status="unavailable", database="error"), 503
        return jsonify(status="ok", database="ok"), 200

    registration_page.register(web, deps)
    return web


class HttpServer:
    """waitress with a clean stop from any thread (a signal handler, a test)."""

    def __init__(self, web: Flask, *, host: str, port: int, threads: int) -> None:
        server = create_server(web, host=host, port=port, threads=threads, ident="kyoso")
        if not isinstance(server, TcpWSGIServer):  # one host and port give one TCP socket
            raise RuntimeError("expected a single listening socket")
        self._server = server

    @property
    def port(self) -> int:
        """The bound port, also when 0 (any free port) was asked for."""
        return int(self._server.getsockname()[1])

    def serve(self) -> None:
        """Serve until stop(); in-flight requests finish before this returns."""
        self._server.run()
        self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        # Close the sockets inside the server's own loop: closing them from another thread
        # would pull them from under its select() and fail with EBADF.
        trigger: Any = self._server.trigger
        trigger.pull_trigger(self._close_all)

    def _close_all(self) -> None:
        channels: dict[int, Any] = vars(self._server)["_map"]
        for channel in list(channels.values()):
            channel.close()
