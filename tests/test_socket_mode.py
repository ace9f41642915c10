"""`kyoso run` in Socket Mode: a real process that dials out to the emulator, no inbound port."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.support.kyoso_server import wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import JSON, SlackResponse, SlackSender
from tests.test_cli import KYOSO, _env, _free_port
from tests.test_e2e_foundation import _team_join


class SocketSender(SlackSender):
    """SlackSender's payloads, delivered as Socket Mode envelopes instead of signed POSTs.

    The answer is the app's ack: status 200 with the ack as JSON, or 504 if none came."""

    def __init__(self, emulator: SlackEmulator) -> None:
        super().__init__("socket-mode", "", emulator)
        self.envelope_ids: list[str] = []

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: float | None = None,
        tamper: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        assert self.emulator is not None
        payload: dict[str, Any]
        if content_type == JSON:
            payload_type, payload = "events_api", json.loads(body)
        else:
            fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            if "payload" in fields:
                payload_type, payload = "interactive", json.loads(fields["payload"])
            else:
                payload_type, payload = "slash_commands", fields
        headers = extra_headers or {}
        envelope_id = self.emulator.socket_send(
            payload_type,
            payload,
            retry_attempt=int(headers.get("X-Slack-Retry-Num", 0)),
            retry_reason=headers.get("X-Slack-Retry-Reason", ""),
        )
        self.envelope_ids.append(envelope_id)
        ack = self.emulator.socket_ack(envelope_id)
        return SlackResponse(200 if ack else 504, {}, json.dumps(ack) if ack else "")


class SocketKyoso:
    def __init__(self, tmp_path: Path, emulator: SlackEmulator) -> None:
        self.log_path = tmp_path / "kyoso.log"
        self.db_path = tmp_path / "kyoso.db"
        self.port = _free_port()  # set as PORT: Socket Mode must not listen on it
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [*KYOSO, "run"],
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_env(
                    tmp_path,
                    SLACK_BOT_TOKEN="xoxb-test",
                    SLACK_APP_TOKEN="xapp-test",
                    SLACK_API_URL=emulator.api_url,
                    DATABASE_URL="sqlite:///kyoso.db",
                    KYOSO_SCHEDULER_ENABLED="false",
                    PORT=str(self.port),
                    HOST="127.0.0.1",
                ),
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM; the exit code, or None if it had to be killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            return None

    def count(self, sql: str, *params: str) -> int:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return int(db.execute(sql, params).fetchone()[0])


@pytest.fixture
def app(tmp_path: Path, emulator: SlackEmulator) -> Iterator[SocketKyoso]:
    emulator.add_token("xapp-test", scopes=["connections:write"], kind="app")
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    running = SocketKyoso(tmp_path, emulator)
    try:
        connected = emulator.socket_connected(timeout=30)
        assert connected and running.process.poll() is None, running.log()
        yield running
    finally:
        code = running.stop()
        assert code == 0, f"kyoso run after SIGTERM: exit {code} (None: hung)\n{running.log()}"


def _answers(emulator: SlackEmulator, count: int) -> list[Any]:
    """Bodies posted to response_urls, once at least `count` have arrived."""
    wait_for(lambda: len(emulator.all_responses()) >= count)
    return [body for _, body in emulator.all_responses()]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_slash_command_over_the_socket_is_acked_and_answered_in_japanese(
    app: SocketKyoso, emulator: SlackEmulator
) -> None:
    assert not _listening(app.port)  # no inbound port in Socket Mode
    assert len(emulator.calls_to("apps.connections.open")) == 1
    sender = SocketSender(emulator)
    started = time.monotonic()
    ack = sender.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert ack.status == 200 and time.monotonic() - started < 3
    assert ack.json()["envelope_id"] == sender.envelope_ids[-1]
    assert "Kyoso の使い方" in _answers(emulator, 1)[0]["text"]


def test_a_retried_team_join_is_acked_twice_and_has_one_effect(
    app: SocketKyoso, emulator: SlackEmulator
) -> None:
    sender = SocketSender(emulator)
    event = _team_join("U0NEW", "yamada@city.example.lg.jp")
    first = sender.event(event, event_id="Ev0SOCKETJOIN")
    retried = sender.event(event, event_id="Ev0SOCKETJOIN", retry_num=1)
    assert [first.json(), retried.json()] == [{"envelope_id": e} for e in sender.envelope_ids]

    def effects() -> tuple[int, int]:
        joined = "SELECT count(*) FROM audit_log WHERE action = ?"
        return app.count("SELECT count(*) FROM members"), app.count(joined, "member.joined")

    wait_for(lambda: effects() == (1, 1))
    time.sleep(0.3)  # give a wrongly repeated effect the chance to show
    assert effects() == (1, 1)


def test_after_a_refresh_the_app_reconnects_and_still_answers(
    app: SocketKyoso, emulator: SlackEmulator
) -> None:
    emulator.socket_disconnect()
    wait_for(lambda: len(emulator.calls_to("apps.connections.open")) == 2, timeout=10)
    assert emulator.socket_connected(timeout=10)
    ack = SocketSender(emulator).command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert ack.status == 200
    assert "Kyoso の使い方" in _answers(emulator, 1)[0]["text"]
    assert emulator.socket_mode.connections_opened == 2


def test_sigterm_stops_socket_mode_cleanly(app: SocketKyoso) -> None:
    code = app.stop()
    assert code == 0, f"exit code {code} after SIGTERM:\n{app.log()}"
    assert "Traceback" not in app.log()


def test_the_emulator_speaks_socket_mode_to_slack_sdks_client(emulator: SlackEmulator) -> None:
    web = WebClient(base_url=emulator.api_url)
    with pytest.raises(SlackApiError) as refused:
        web.apps_connections_open(app_token="xoxb-test")  # a bot token cannot open one
    assert refused.value.response["error"] == "not_allowed_token_type"
    emulator.add_token("xapp-test", scopes=["connections:write"], kind="app")
    received: list[SocketModeRequest] = []

    def answer(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        reply = {"response_action": "clear"} if request.accepts_response_payload else None
        client.send_socket_mode_response(SocketModeResponse(request.envelope_id, reply))

    client = SocketModeClient("xapp-test", web_client=web)
    client.socket_mode_request_listeners.append(answer)
    client.connect()
    try:
        assert emulator.socket_connected(timeout=5)
        wait_for(lambda: client.current_session and client.current_session.last_ping_pong_time)
        big = {"type": "view_submission", "view": {"private_metadata": "あ" * 30_000}}  # > 64 KiB
        eid = emulator.socket_send("interactive", big)
        assert emulator.socket_ack(eid) == {
            "envelope_id": eid,
            "payload": {"response_action": "clear"},
        }
        assert received[0].payload == big and received[0].accepts_response_payload
        eid = emulator.socket_send("events_api", {"type": "event_callback"}, retry_attempt=2)
        assert emulator.socket_ack(eid) == {"envelope_id": eid}
        assert (received[1].retry_attempt, received[1].accepts_response_payload) == (2, False)
    finally:
        client.close()

    url = urlsplit(web.apps_connections_open(app_token="xapp-test")["url"])
    assert (url.scheme, url.port) == ("ws", emulator.port)
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    for expected in (101, 401):  # a ticket is good for one connection
        conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
        conn.request("GET", url.path, headers=upgrade)
        response = conn.getresponse()
        assert response.status == expected
        if expected == 101:  # RFC 6455's worked example
            assert response.getheader("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        conn.close()
