"""What Kyoso serves over HTTP, as one plain WSGI application: Slack's endpoint and the health
check without a web framework in the way (they are the hot path), and the pages people open in
a browser (/apply, /move/…) through Flask, imported on the first page request.

Any WSGI server can run it: granian in production (handlers/granian_server.py), waitress for the
pages in Socket Mode and in the tests (handlers/http_server.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import IO, TYPE_CHECKING

from slack_bolt import App, BoltRequest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from handlers.deps import Deps
from handlers.slack_gate import MAX_BODY_BYTES, Refusal, SlackGate

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Where the Flask pages live; anything else is answered 404 without loading them.
PAGE_PREFIXES = ("/apply", "/move/")

# The most any path of Kyoso accepts: a larger declared body is refused from the headers,
# before it is read, whatever the server (waitress also refuses it itself; granian does not).
MAX_REQUEST_BYTES = 2 * MAX_BODY_BYTES

# Headers Bolt reads as instructions to itself (lazy listener re-runs): never from outside.
_BOLT_INTERNAL_HEADER = "x-slack-bolt-"
_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_HEALTHY = json.dumps({"status": "ok", "database": "ok"}).encode()
_UNHEALTHY = json.dumps({"status": "unavailable", "database": "error"}).encode()


def build_web_app(bolt: App, deps: Deps) -> WSGIApplication:
    """HTTP mode: Slack's endpoint beside the pages and the health check."""
    secret = deps.settings.slack_signing_secret
    if secret is None:
        raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
    # Bolt's own verification is off (app.py): this gate is the only one, and it runs first.
    endpoint = SlackEndpoint(bolt, SlackGate(secret.get_secret_value()))
    return KyosoWeb(deps, slack=endpoint)


def build_pages_app(deps: Deps) -> WSGIApplication:
    """The pages and the health check without Slack's endpoint: all Kyoso serves over HTTP in
    Socket Mode (KYOSO_WEB_PORT)."""
    return KyosoWeb(deps, slack=None)


class KyosoWeb:
    """Routes by path: Slack's endpoint, the health check, the pages; 404 for the rest."""

    def __init__(self, deps: Deps, *, slack: SlackEndpoint | None) -> None:
        self._deps = deps
        self._slack = slack
        self._pages: WSGIApplication | None = None
        self._pages_lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = _content_length(environ)
        if declared is not None and declared > MAX_REQUEST_BYTES:
            return _answer(start_response, 413, _REFUSAL_TEXT[413], _TEXT)
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and self._slack is not None:
            if method != "POST":
                return _answer(start_response, 405, b"method not allowed", _TEXT)
            return self._slack(environ, start_response)
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return _answer(start_response, 405, b"method not allowed", _TEXT)
            return self._health(start_response)
        if path.startswith(PAGE_PREFIXES):
            return self._pages_app()(environ, start_response)
        return _answer(start_response, 404, b"not found", _TEXT)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self._deps.session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable: %s", exc)
            return _answer(start_response, 503, _UNHEALTHY, _JSON)
        return _answer(start_response, 200, _HEALTHY, _JSON)

    def _pages_app(self) -> WSGIApplication:
        # Flask, Jinja and the pages' modules load on the first page request, not at start.
        if self._pages is None:
            with self._pages_lock:
                if self._pages is None:
                    from handlers.pages import build_pages

                    self._pages = build_pages(self._deps)
        return self._pages


class SlackEndpoint:
    """POST /slack/events: the gate, then Bolt, as plain WSGI."""

    def __init__(self, bolt: App, gate: SlackGate) -> None:
        self._bolt = bolt
        self._gate = gate

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = _content_length(environ)
        refusal = self._gate.check_length(declared)
        if refusal is not None:
            return _refuse(start_response, refusal)
        # Read what was declared in one call (no extra read for the end); bounded either way.
        limit = self._gate.max_body_bytes + 1 if declared is None else declared
        body = _read_at_most(environ["wsgi.input"], limit)
        refusal = self._gate.check(
            timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
            signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            content_type=environ.get("CONTENT_TYPE"),
            body=body,
        )
        if refusal is not None:
            return _refuse(start_response, refusal)
        request = BoltRequest(
            body=body.decode("utf-8"),
            query=environ.get("QUERY_STRING", ""),
            headers=_slack_headers(environ),
        )
        response = self._bolt.dispatch(request)
        payload = response.body.encode("utf-8")
        headers = [
            (name, value)
            for name, values in response.headers.items()
            if name.lower() != "content-length"
            for value in values
        ]
        headers.append(("Content-Length", str(len(payload))))
        start_response(_status_line(response.status), headers)
        return [payload]


def _slack_headers(environ: WSGIEnvironment) -> dict[str, str | Sequence[str]]:
    headers: dict[str, str | Sequence[str]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
            if not name.startswith(_BOLT_INTERNAL_HEADER):
                headers[name] = value
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _content_length(environ: WSGIEnvironment) -> int | None:
    declared = environ.get("CONTENT_LENGTH") or ""
    return int(declared) if declared.isdigit() else None


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    # Also bounded when no length was declared (a server that passes chunked bodies).
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _refuse(start_response: StartResponse, refusal: Refusal) -> Iterable[bytes]:
    # Says nothing an attacker could use; the log names the check, never the content.
    log.info("refused a request to %s: %s", EVENTS_PATH, refusal.reason)
    return _answer(start_response, refusal.status, _REFUSAL_TEXT[refusal.status], _TEXT)


_REFUSAL_TEXT = {400: b"bad request", 401: b"unauthorized", 413: b"too large"}


def _answer(
    start_response: StartResponse, status: int, body: bytes, content_type: str
) -> list[bytes]:
    start_response(
        _status_line(status),
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
