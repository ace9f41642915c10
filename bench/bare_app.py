"""Baseline for bench/ingest.py: a bare Bolt app with a no-op `message` listener on Kyoso's
HTTP stack (Flask + SlackRequestHandler at the same path, under handlers.web.HttpServer, i.e.
waitress with kyoso's thread count), so the difference from `kyoso run` is what Kyoso adds.

Environment: SLACK_SIGNING_SECRET, SLACK_API_URL (the bench's Slack emulator), HOST, PORT,
KYOSO_HTTP_THREADS (default 16, as in kyoso).
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bot.cli.common import configure_logging
from handlers.web import EVENTS_PATH, HEALTH_PATH, HttpServer

log = logging.getLogger("bare_app")


def build_bolt_app() -> App:
    # The token rides on a client pointed at the emulator: with token verification off, Bolt
    # still calls auth.test once, on the first request, and must not reach slack.com.
    client = WebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"])
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=client,
        token_verification_enabled=False,
    )

    @app.event("message")
    def noop() -> None:
        pass

    return app


def build_web_app(bolt: App) -> Flask:
    # Kyoso's build_web_app wants its Deps; the baseline has none, so the same two routes here.
    web = Flask("bare")
    slack_handler = SlackRequestHandler(bolt)

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        response: Response = slack_handler.handle(request)
        return response

    @web.get(HEALTH_PATH)
    def health() -> Response:
        return jsonify(status="ok")

    return web


def main() -> None:
    # Same log format and level as `kyoso run`, so log volume costs both sides alike.
    configure_logging("INFO")
    server = HttpServer(
        build_web_app(build_bolt_app()),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        threads=int(os.environ.get("KYOSO_HTTP_THREADS", "16")),
    )

    # Stop as `kyoso run` does: requests in flight finish, then serve() returns.
    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("bare app: listening on %s:%s%s", os.environ.get("HOST"), server.port, EVENTS_PATH)
    server.serve()


if __name__ == "__main__":
    main()
