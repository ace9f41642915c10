"""`kyoso run` in Socket Mode with KYOSO_WEB_PORT (issue 16, item 7): a real process dials
out to the emulator's socket and also serves the application page, the move confirmation
pages and the health check over HTTP — never Slack's endpoint — and stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kyoso_server import wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.test_cli import KYOSO, _env, _free_port
from tests.test_socket_mode import SocketSender


class PagesKyoso:
    def __init__(self, tmp_path: Path, emulator: SlackEmulator) -> None:
        self.log_path = tmp_path / "kyoso.log"
        self.port = _free_port()  # PORT: still nothing listens there in Socket Mode
        self.web_port = _free_port()
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
                    KYOSO_WEB_PORT=str(self.web_port),
                    HOST="127.0.0.1",
                ),
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, *, method: str = "GET") -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.web_port}{path}"
        request = urllib.request.Request(
            url, method=method, data=b"{}" if method == "POST" else None
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def app(tmp_path: Path, emulator: SlackEmulator) -> Iterator[PagesKyoso]:
    emulator.add_token("xapp-test", scopes=["connections:write"], kind="app")
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    running = PagesKyoso(tmp_path, emulator)
    try:
        assert emulator.socket_connected(timeout=30), running.log()
        assert wait_for(lambda: _listening(running.web_port), timeout=15), running.log()
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(timeout=5)


def test_socket_mode_with_a_web_port_serves_the_pages_but_not_slack_events(
    app: PagesKyoso, emulator: SlackEmulator
) -> None:
    status, page = app.get("/apply")
    assert status == 200 and "<form" in page and 'name="csrf_token"' in page
    status, health = app.get("/healthz")
    assert status == 200 and json.loads(health) == {"status": "ok", "database": "ok"}
    status, move = app.get("/move/confirm/not-a-token")
    assert status == 404 and "見つかりませんでした" in move  # the move page's own answer
    assert app.get("/slack/events", method="POST")[0] == 404
    assert not _listening(app.port)  # PORT stays closed: Slack reaches Kyoso over the socket

    # Slack's requests still come over the socket, beside the pages.
    ack = SocketSender(emulator).command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert ack.status == 200
    wait_for(lambda: emulator.all_responses())

    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(timeout=15) == 0, app.log()
    assert not _listening(app.web_port)  # both closed on a clean stop
