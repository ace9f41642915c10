"""HTTP mode: Slack's endpoint and a health check, served by waitress (production WSGI)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from waitress.server import create_server

from bot.db import SessionFactory

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_web_app(bolt: App, session_factory: SessionFactory) -> Flask:
    web = Flask("kyoso")
    slack_handler = SlackRequestHandler(bolt)

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        response: Response = slack_handler.handle(request)
        return response

    @web.get(HEALTH_PATH)
    def health() -> tuple[Response, int]:
        try:
            with session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable: %s", exc)
            return jsonify(status="unavailable", database="error"), 503
        return jsonify(status="ok", database="ok"), 200

    return web


def make_server(web: Flask, *, host: str, port: int, threads: int):  # type: ignore[no-untyped-def]
    """A waitress server; `.effective_port` tells the port when 0 was asked for."""
    return create_server(web, host=host, port=port, threads=threads, ident="kyoso")
