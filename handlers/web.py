"""HTTP mode: Slack's endpoint, the pages and a health check, served by waitress (production
WSGI); in Socket Mode the pages and the health check alone, when KYOSO_WEB_PORT is set."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from flask import Flask, Response, jsonify, request
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.flask.handler import to_flask_response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from handlers import registration
from handlers.deps import Deps
from handlers.registration.csrf import CsrfTokens
from handlers.slack_gate import MAX_BODY_BYTES, Refusal, SlackGate
from handlers.transfers import move_page

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


# The most any path of Kyoso accepts: waitress refuses a larger declared body from the
# headers, before reading it (it buffers whole bodies before the app sees them).
MAX_REQUEST_BYTES = 2 * MAX_BODY_BYTES

# Headers Bolt reads as instructions to itself (lazy listener re-runs): never from outside.
_BOLT_INTERNAL_HEADER = "x-slack-bolt-"


def build_web_app(bolt: App, deps: Deps) -> Flask:
    """HTTP mode: Slack's endpoint beside the pages."""
    secret = deps.settings.slack_signing_secret
    if secret is None:
        raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
    web = build_pages_app(deps)
    # Bolt's own verification is off (app.py): this gate is the only one, and it runs first.
    slack_gate = SlackGate(secret.get_secret_value())

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        refusal = slack_gate.check_length(request.content_length)
        if refusal is not None:
            return _refuse(refusal)
        body = _read_at_most(request.stream, slack_gate.max_body_bytes + 1)
        refusal = slack_gate.check(
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
            content_type=request.headers.get("Content-Type"),
            body=body,
        )
        if refusal is not None:
            return _refuse(refusal)
        headers: dict[str, str | Sequence[str]] = {
            name: value
            for name, value in request.headers.items()
            if not name.lower().startswith(_BOLT_INTERNAL_HEADER)
        }
        bolt_request = BoltRequest(
            body=body.decode("utf-8"),
            query=request.query_string.decode("latin-1"),
            headers=headers,
        )
        response: Response = to_flask_response(bolt.dispatch(bolt_request))
        return response

    return web


def build_pages_app(deps: Deps) -> Flask:
    """The pages people open in a browser (/apply, /move/…) and the health check, without
    Slack's endpoint: all Kyoso serves over HTTP in Socket Mode (KYOSO_WEB_PORT)."""
    web = Flask("kyoso")
    secret = deps.settings.slack_signing_secret

    @web.get(HEALTH_PATH)
    def health() -> tuple[Response, int]:
        try:
            with deps.session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable: %s", exc)
            return jsonify(status="unavailable", database="error"), 503
        return jsonify(status="ok", database="ok"), 200

    registration.register(web, deps)
    # Without a signing secret (Socket Mode) the key is random: forms outlive no restart.
    csrf = CsrfTokens.for_secret(secret.get_secret_value() if secret else None)
    move_page.register(web, deps, csrf=csrf)
    return web


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    # Also bounded when no length was declared (a WSGI server that passes chunked bodies).
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _refuse(refusal: Refusal) -> Response:
    # Says nothing an attacker could use; the log names the check, never the content.
    log.info("refused a request to %s: %s", EVENTS_PATH, refusal.reason)
    return Response(_REFUSAL_TEXT[refusal.status], status=refusal.status, mimetype="text/plain")


_REFUSAL_TEXT = {400: "bad request", 401: "unauthorized", 413: "too large"}


class HttpServer:
    """waitress with a graceful stop from any thread (a signal handler, a test).

    stop() closes the listening socket at once, lets requests in flight finish and their
    responses flush, then closes the remaining (idle) connections; after DRAIN_SECONDS it
    closes whatever is left."""

    DRAIN_SECONDS = 10.0

    def __init__(self, web: Flask, *, host: str, port: int, threads: int) -> None:
        # waitress would drop X-Forwarded-For itself; KYOSO_TRUSTED_PROXIES decides whom
        # to believe (handlers/registration/limits.py, bot/proxies.py).
        server = create_server(
            web,
            host=host,
            port=port,
            threads=threads,
            ident="kyoso",
            clear_untrusted_proxy_headers=False,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
        if not isinstance(server, TcpWSGIServer):  # one host and port give one TCP socket
            raise RuntimeError("expected a single listening socket")
        self._server = server
        self._stopping = threading.Event()
        # The bound port, also when 0 (any free port) was asked for.
        self.port = int(server.getsockname()[1])

    def serve(self) -> None:
        """Serve until stop() has drained the connections."""
        self._server.run()
        self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._in_loop(self._stop_listening)
        threading.Thread(target=self._drain, name="kyoso-http-drain", daemon=True).start()

    # Sockets are only ever closed inside waitress's own loop (via its trigger): closing
    # them from another thread pulls them from under select() and fails with EBADF.
    def _in_loop(self, thunk: Callable[[], None]) -> None:
        trigger: Any = self._server.trigger
        trigger.pull_trigger(thunk)

    def _channels(self) -> dict[int, Any]:
        channels: dict[int, Any] = vars(self._server)["_map"]
        return channels

    def _stop_listening(self) -> None:
        wasyncore.dispatcher.close(self._server)  # not the trigger: the loop still runs

    def _drain(self) -> None:
        deadline = time.monotonic() + self.DRAIN_SECONDS
        trigger = self._server.trigger
        while time.monotonic() < deadline:
            if all(c is trigger for c in list(self._channels().values())):
                break
            self._in_loop(self._close_idle)
            time.sleep(0.05)
        self._in_loop(self._close_all)

    def _close_idle(self) -> None:
        for channel in list(self._channels().values()):
            if channel is self._server.trigger:
                continue
            busy = channel.requests or channel.total_outbufs_len or channel.request is not None
            if not busy:
                channel.close()

    def _close_all(self) -> None:
        for channel in list(self._channels().values()):
            channel.close()
