"""Baseline for bench/ingest.py on Kyoso's own stack: a bare Bolt `App` with a no-op `message`
listener and a `/kyoso` command that answers at once, behind Bolt's plain WSGI adapter, on
granian with the same worker and thread count as `kyoso run`. It imports nothing of Kyoso, so
it is also the memory and start-up baseline.

Environment: SLACK_SIGNING_SECRET, SLACK_API_URL (the bench's Slack emulator), HOST, PORT,
KYOSO_HTTP_THREADS (default 16, as in kyoso); BARE_SERVER=waitress serves the same app on waitress
(the bench's `bare-waitress`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Iterable
from typing import Any

from granian import Granian
from granian.constants import Interfaces
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_bolt_app() -> App:
    # The client points at the emulator: with token verification off, Bolt still calls
    # auth.test once, on the first request, and must not reach slack.com.
    client = WebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"])
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=client,
        token_verification_enabled=False,
    )

    @app.event("message")
    def noop() -> None:
        pass

    @app.command("/kyoso")
    def help_command(ack: Ack) -> None:
        ack(text="Kyoso の使い方 / How to use Kyoso")

    return app


def wsgi_app() -> Any:
    """The granian factory: /healthz beside Bolt's WSGI adapter."""
    slack = SlackRequestHandler(build_bolt_app(), path=EVENTS_PATH)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        return slack(environ, start_response)

    return app


def serve_with_waitress(host: str, port: int, threads: int) -> None:
    """BARE_SERVER=waitress: the same app on waitress, to compare the servers themselves."""
    import waitress

    waitress.serve(wsgi_app(), host=host, port=port, threads=threads, _quiet=True)


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])
    threads = int(os.environ.get("KYOSO_HTTP_THREADS", "16"))
    if os.environ.get("BARE_SERVER") == "waitress":
        serve_with_waitress(host, port, threads)
        return
    multiprocessing.set_start_method("fork", force=True)  # as kyoso run does
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    Granian(
        "bare_app:wsgi_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=1,
        blocking_threads=threads,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
