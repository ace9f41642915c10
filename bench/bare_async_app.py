"""Baseline for bench/ingest.py off Kyoso's stack: a bare Bolt `AsyncApp` with a no-op
`message` listener and a `/kyoso` command that answers at once, behind Bolt's ASGI adapter, on
uvicorn (httptools and uvloop), one process. It imports nothing of Kyoso.

Environment: SLACK_SIGNING_SECRET, SLACK_API_URL (the bench's Slack emulator), HOST, PORT.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_bolt_app() -> AsyncApp:
    client = AsyncWebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @app.event("message")
    async def noop() -> None:
        pass

    @app.command("/kyoso")
    async def help_command(ack: AsyncAck) -> None:
        await ack(text="Kyoso の使い方 / How to use Kyoso")

    return app


def asgi_app() -> Any:
    slack = AsyncSlackRequestHandler(build_bolt_app(), path=EVENTS_PATH)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == HEALTH_PATH:
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"status": "ok"}'})
            return
        await slack(scope, receive, send)

    return app


def main() -> None:
    uvicorn.run(
        asgi_app(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
