"""Socket Mode: Slack's WebSocket endpoint, as slack_sdk's Socket Mode clients use it.

`apps.connections.open` (app-level token) hands out ws://HOST:PORT/socket-mode/<ticket>, good
for one connection. The client upgrades (RFC 6455), receives `hello`, pings now and then,
and answers every envelope with `{"envelope_id": ..., "payload": {...}?}` (its ack). Tests
drive it through the emulator:

    emu.socket_connected(timeout=10)
    eid = emu.socket_send("slash_commands", {...})   # or events_api / interactive
    emu.socket_ack(eid)                              # the ack, or None after the timeout
    emu.socket_disconnect()                          # `disconnect`, then close: it reconnects
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from .state import Workspace

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONTINUATION, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA
PAYLOAD_TYPES = ("events_api", "slash_commands", "interactive")
# Interactive payloads whose ack may carry a response (response_action, options).
ANSWERABLE_INTERACTIONS = ("view_submission", "block_suggestion")
DEBUG_INFO = {"host": "applink-emulated", "build_number": 1, "approximate_connection_time": 18060}


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key.strip() + WS_GUID).encode()).digest()).decode()


def encode_frame(opcode: int, data: bytes) -> bytes:
    """One unfragmented server frame; servers never mask (RFC 6455 section 5.1)."""
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + data


def read_frame(stream: io.BufferedIOBase) -> tuple[bool, int, bytes]:
    """(fin, opcode, unmasked payload) of the next frame; ConnectionError at end of stream."""
    first, second = _read_exact(stream, 2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _read_exact(stream, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _read_exact(stream, 8))
    mask = _read_exact(stream, 4) if second & 0x80 else b""
    data = _read_exact(stream, size)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return bool(first & 0x80), first & 0x0F, data


def _read_exact(stream: io.BufferedIOBase, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) < size:
        raise ConnectionError("WebSocket closed by the peer")
    return data


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False
        self._send_lock = threading.Lock()

    def send(self, opcode: int, data: bytes) -> bool:
        with self._send_lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(encode_frame(opcode, data))
                return True
            except OSError:
                self.closed = True
                return False

    def send_json(self, message: dict[str, Any]) -> bool:
        return self.send(OP_TEXT, json.dumps(message, ensure_ascii=False).encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        with self._send_lock:
            self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # ends the reader's blocking read


class SocketModeHub:
    """Socket Mode connections of one emulated app, the envelopes sent and the acks read."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace  # apps.connections.open registers tickets there
        self._cond = threading.Condition()
        self._live: list[_Connection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._stopped = False
        self.connections_opened = 0

    # ---- the endpoint (runs in the HTTP handler's thread) ---------------------------------

    def serve(self, handler: BaseHTTPRequestHandler, ticket: str) -> None:
        handler.close_connection = True
        key = handler.headers.get("Sec-WebSocket-Key", "")
        is_upgrade = handler.headers.get("Upgrade", "").lower() == "websocket"
        if handler.command != "GET" or not is_upgrade or not key:
            handler.send_error(400, "expected a WebSocket upgrade")
            return
        with self._ws.lock:
            known = ticket in self._ws.socket_tickets
            self._ws.socket_tickets.discard(ticket)
        if not known:
            handler.send_error(401, "unknown or already used ticket")
            return
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        conn = _Connection(handler.connection)
        with self._cond:
            if self._stopped:
                conn.close(1001, "going away")
                return
            self._live.append(conn)
            self.connections_opened += 1
            count = len(self._live)
            self._cond.notify_all()
        conn.send_json(
            {
                "type": "hello",
                "num_connections": count,
                "debug_info": DEBUG_INFO,
                "connection_info": {"app_id": self._ws.app_id},
            }
        )
        try:
            with contextlib.suppress(OSError):  # closed by the peer or by close()
                self._read_loop(conn, handler.rfile)
        finally:
            conn.close()
            with self._cond:
                if conn in self._live:
                    self._live.remove(conn)
                self._cond.notify_all()

    def _read_loop(self, conn: _Connection, stream: io.BufferedIOBase) -> None:
        message = b""
        while True:
            fin, opcode, data = read_frame(stream)
            if opcode == OP_PING:
                conn.send(OP_PONG, data)
            elif opcode == OP_CLOSE:
                (code,) = struct.unpack("!H", data[:2]) if len(data) >= 2 else (1000,)
                conn.close(code)
                return
            elif opcode in (OP_TEXT, OP_CONTINUATION):
                message += data
                if fin:
                    self._on_text(message)
                    message = b""

    def _on_text(self, raw: bytes) -> None:
        try:
            message = json.loads(raw.decode("utf-8"))
        except ValueError:
            return
        if isinstance(message, dict) and message.get("envelope_id"):
            with self._cond:
                self._acks[str(message["envelope_id"])] = message
                self._cond.notify_all()

    # ---- the test side ------------------------------------------------------------------

    def connected(self, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._live), timeout=timeout)

    def send(
        self,
        payload_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Pushes an envelope on the newest connection (waiting up to `timeout` for one)."""
        if payload_type not in PAYLOAD_TYPES:
            raise ValueError(f"payload_type must be one of {PAYLOAD_TYPES}, not {payload_type!r}")
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": payload_type,
            "payload": payload,
            "accepts_response_payload": payload_type == "slash_commands"
            or (payload_type == "interactive" and payload.get("type") in ANSWERABLE_INTERACTIONS),
        }
        if payload_type == "events_api":  # only Events API deliveries are retried
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._live), timeout=timeout):
                raise RuntimeError("no Socket Mode connection: is the app running?")
            conn = self._live[-1]
        if not conn.send_json(envelope):
            raise RuntimeError("the Socket Mode connection closed while sending")
        return str(envelope["envelope_id"])

    def ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any] | None:
        with self._cond:
            self._cond.wait_for(lambda: envelope_id in self._acks, timeout=timeout)
            return self._acks.get(envelope_id)

    def disconnect(self, reason: str = "refresh_requested", *, grace: float = 5.0) -> None:
        """Slack's refresh: `disconnect` on every open connection, then (once the client has
        opened a new one, or after `grace` seconds) a close frame."""
        with self._cond:
            old = list(self._live)
        for conn in old:
            conn.send_json({"type": "disconnect", "reason": reason, "debug_info": DEBUG_INFO})
        with self._cond:
            self._cond.wait_for(lambda: any(c not in old for c in self._live), timeout=grace)
        for conn in old:
            conn.close(1000, reason)

    def close_all(self) -> None:
        with self._cond:
            self._stopped = True
            live = list(self._live)
        for conn in live:
            conn.close(1001, "going away")
