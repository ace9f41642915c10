"""The front door of HTTP mode: nothing unverified acts, nothing malformed reaches Bolt.

Requests go over real HTTP into the running app; "the attacker's host" is a second HTTP
server that records whatever reaches it, and the Slack emulator records every call."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from handlers.slack_gate import (
    BAD_SIGNATURE,
    MALFORMED_BODY,
    MALFORMED_HEADERS,
    MAX_BODY_BYTES,
    OUTSIDE_WINDOW,
    TOO_LARGE,
    Refusal,
    SlackGate,
)
from handlers.web import MAX_REQUEST_BYTES
from tests.support.kyoso_server import SIGNING_SECRET, RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import FORM, JSON, SlackSender, sign


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append((self.path, self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AttackerHost:
    """A host of the sender's choosing: it must never hear from Kyoso."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self._server.received = []  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/commands/T0KYOSO/1/x"

    @property
    def received(self) -> list[tuple[str, bytes]]:
        return list(self._server.received)  # type: ignore[attr-defined]

    def __enter__(self) -> AttackerHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def attacker() -> Iterator[AttackerHost]:
    with AttackerHost() as host:
        yield host


def _command_body(response_url: str, user_id: str = "U0VICTIM") -> bytes:
    return urlencode(
        {
            "command": "/kyoso",
            "text": "help",
            "user_id": user_id,
            "channel_id": "C0REVIEW",
            "team_id": "T0KYOSO",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def _action_body(response_url: str, user_id: str = "U0VICTIM") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id},
        "team": {"id": "T0KYOSO"},
        "actions": [{"action_id": "no_such_action", "type": "button", "value": "1"}],
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _settle() -> None:
    time.sleep(0.3)  # give a wrongly started reply the chance to show


def _nothing_went_out(emulator: SlackEmulator, calls_before: int, attacker: AttackerHost) -> None:
    assert attacker.received == []
    assert emulator.calls[calls_before:] == []
    assert emulator.all_responses() == []


# ---- malformed signature headers: 401, and nothing at all goes out ------------------------


@pytest.mark.parametrize("timestamp", ["abc", "", "123.5", "9" * 400])
@pytest.mark.parametrize("make_body", [_command_body, _action_body], ids=["command", "action"])
def test_a_malformed_timestamp_is_refused_and_nothing_goes_out(
    timestamp: str,
    make_body: Any,
    slack: SlackSender,
    emulator: SlackEmulator,
    attacker: AttackerHost,
) -> None:
    emulator.add_user("U0VICTIM", name="victim", locale="ja-JP")
    calls_before = len(emulator.calls)
    body = make_body(attacker.url)
    response = slack.raw(
        body,
        {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body),
        },
    )
    assert response.status == 401
    assert "signature" not in response.body_text and "timestamp" not in response.body_text
    _settle()
    _nothing_went_out(emulator, calls_before, attacker)


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "v1=" + "0" * 64,
        "v0=" + "A" * 64,  # Slack writes lower-case hex
        "v0=" + "0" * 63,
        "v0=" + "0" * 64 + "0",
    ],
    ids=["missing", "empty", "v1", "upper-case", "short", "long"],
)
def test_a_malformed_signature_is_refused(
    signature: str | None, slack: SlackSender, emulator: SlackEmulator, attacker: AttackerHost
) -> None:
    calls_before = len(emulator.calls)
    body = _command_body(attacker.url)
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(int(time.time()))}
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    assert slack.raw(body, headers).status == 401
    _settle()
    _nothing_went_out(emulator, calls_before, attacker)


def test_a_tampered_signature_is_refused(
    slack: SlackSender, emulator: SlackEmulator, attacker: AttackerHost
) -> None:
    calls_before = len(emulator.calls)
    response = slack.send(_command_body(attacker.url), FORM, tamper=True)
    assert response.status == 401
    _settle()
    _nothing_went_out(emulator, calls_before, attacker)


# A future timestamp comes closer to the server's clock while the request travels: a few
# seconds past the window, so that a loaded machine does not bring it back inside.
@pytest.mark.parametrize(
    "offset", [-301, 305, -(10**9), 10**9], ids=["stale", "future", "1990", "2060"]
)
def test_a_timestamp_outside_five_minutes_is_refused(
    offset: int, slack: SlackSender, emulator: SlackEmulator, attacker: AttackerHost
) -> None:
    calls_before = len(emulator.calls)
    response = slack.send(_command_body(attacker.url), FORM, timestamp=time.time() + offset)
    assert response.status == 401
    _settle()
    _nothing_went_out(emulator, calls_before, attacker)


# ---- size: 413 before the body is read or parsed ----------------------------------------


def test_a_body_over_the_limit_is_refused_with_413(slack: SlackSender) -> None:
    body = b"payload=" + b"x" * MAX_BODY_BYTES  # just over: the gate's own limit
    response = slack.send(body, FORM)
    assert response.status == 413
    assert len(response.body_text) < 100


def test_a_declared_huge_body_is_refused_before_it_is_sent(kyoso: RunningKyoso) -> None:
    """Ten megabytes declared: refused from the headers, without waiting for the body."""
    parts = urlsplit(kyoso.events_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.putrequest("POST", parts.path)
        connection.putheader("Content-Type", FORM)
        connection.putheader("Content-Length", str(10 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert MAX_REQUEST_BYTES < 10 * 1024 * 1024
    finally:
        connection.close()


# ---- malformed bodies, correctly signed: 400, never 500 ----------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot+json", FORM),
        (urlencode({"payload": "[1, 2]"}).encode(), FORM),
        (urlencode({"payload": '{"no_type": 1}'}).encode(), FORM),
        (b"[1, 2, 3]", JSON),
        (b'{"type": 5}', JSON),
        (b"{not json", JSON),
        (urlencode({"payload": '{"type": "block_actions"}'}).encode(), JSON),
        (b"user_id=U0&text=hello", FORM),  # a form that is neither command nor payload
        (b"", FORM),
        (b"payload=" + "テスト".encode("shift_jis"), FORM),  # not UTF-8
        (b"[" * 100_000 + b"]" * 100_000, JSON),  # deeper than Python recurses
    ],
    ids=[
        "payload-not-json",
        "payload-list",
        "payload-without-type",
        "json-list",
        "json-type-not-string",
        "json-broken",
        "form-sent-as-json",
        "form-without-command",
        "empty",
        "not-utf8",
        "deep-nesting",
    ],
)
def test_a_signed_but_malformed_body_is_refused_with_400(
    body: bytes, content_type: str, slack: SlackSender, emulator: SlackEmulator
) -> None:
    calls_before = len(emulator.calls)
    response = slack.send(body, content_type)
    assert response.status == 400
    _settle()
    assert emulator.calls[calls_before:] == []


# ---- what Slack really sends still works -------------------------------------------------


def test_url_verification_still_answers_the_challenge(slack: SlackSender) -> None:
    response = slack.url_verification("gate-challenge-42")
    assert response.status == 200
    assert "gate-challenge-42" in response.body_text


def test_a_signed_slash_command_is_answered(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    response = slack.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert response.status == 200
    answers = wait_for(lambda: emulator.all_responses())
    assert "Kyoso の使い方" in answers[0][1]["text"]


def test_a_request_four_minutes_old_is_still_accepted(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    response = slack.command(
        "/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW", timestamp=time.time() - 240
    )
    assert response.status == 200
    wait_for(lambda: emulator.all_responses())


# ---- the gate on its own, with an injected clock ----------------------------------------

NOW = 1_800_000_000.0
SECRET = "unit-secret"


def _check(
    gate: SlackGate,
    body: bytes,
    timestamp: str,
    content_type: str = JSON,
    *,
    sent: bytes | None = None,
) -> Refusal | None:
    """Signs `body` as Slack would; `sent` is what arrives instead, if anything else."""
    return gate.check(
        timestamp=timestamp,
        signature=sign(SECRET, timestamp, body),
        content_type=content_type,
        body=body if sent is None else sent,
    )


def test_the_gate_checks_in_order_with_its_own_clock() -> None:
    gate = SlackGate(SECRET, now=lambda: NOW)
    event = b'{"type": "event_callback", "event": {"type": "team_join"}}'
    assert _check(gate, event, str(int(NOW))) is None
    assert _check(gate, event, str(int(NOW - 300))) is None  # the edge is in
    assert _check(gate, event, str(int(NOW + 300))) is None
    assert _check(gate, event, str(int(NOW - 301))) == OUTSIDE_WINDOW
    assert _check(gate, event, str(int(NOW + 301))) == OUTSIDE_WINDOW
    assert _check(gate, event, "１８００００００００") == MALFORMED_HEADERS  # full-width digits
    assert _check(gate, event, str(int(NOW)), sent=event + b" ") == BAD_SIGNATURE
    assert _check(gate, b"[]", str(int(NOW))) == MALFORMED_BODY
    assert gate.check_length(MAX_BODY_BYTES) is None
    assert gate.check_length(MAX_BODY_BYTES + 1) == TOO_LARGE
    assert gate.check_length(None) is None


def test_the_gate_accepts_every_shape_slack_sends() -> None:
    gate = SlackGate(SECRET, now=lambda: NOW)
    ts = str(int(NOW))
    shapes = [
        (b'{"type": "url_verification", "challenge": "x"}', JSON),
        (b'{"type": "event_callback"}', "application/json; charset=utf-8"),
        (urlencode({"payload": json.dumps({"type": "view_submission"})}).encode(), FORM),
        (urlencode({"command": "/kyoso", "text": "cases 2"}).encode(), FORM),
        (b"ssl_check=1&token=x", FORM),
    ]
    for body, content_type in shapes:
        assert _check(gate, body, ts, content_type) is None, body
