"""SlackEmulator: the Slack Web API over real HTTP on 127.0.0.1, for tests and benchmarks.

emu = SlackEmulator(bot_token="xoxb-test").start()
client = WebClient(token="xoxb-test", base_url=emu.api_url)
...
emu.stop()
"""

from __future__ import annotations

import collections
import contextlib
import copy
import email.parser
import email.policy
import json
import math
import random
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from . import spec as spec_check
from .methods import METHODS, Call
from .socket_mode import SocketModeHub
from .state import ApiError, TokenInfo, Workspace

DEFAULT_BOT_SCOPES = (
    "chat:write",
    "chat:write.public",
    "channels:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "groups:read",
    "groups:write",
    "groups:history",
    "im:read",
    "im:write",
    "im:history",
    "mpim:read",
    "mpim:write",
    "users:read",
    "users:read.email",
    "users.profile:read",
    "team:read",
    "dnd:read",
    "pins:write",
    "reactions:read",
    "reactions:write",
    "files:write",
    "commands",
)

# Slack lets a response_url be used 5 times within 30 minutes.
RESPONSE_URL_MAX_USES = 5
# A kept-alive connection idle this long is closed by the emulator, as Slack closes idle ones.
IDLE_CONNECTION_SECONDS = 30


@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]  # query string + form or JSON body, values as sent
    headers: dict[str, str]  # lower-cased names
    token: str | None
    time: float
    response: dict[str, Any]
    status: int
    spec_violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    def json_param(self, name: str) -> Any:
        """A parameter Slack takes as JSON (blocks, view, profile...), decoded if sent as a string."""
        value = self.params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class _Fault:
    kind: str  # "ratelimit" | "error" | "server"
    remaining: int
    retry_after: int = 1
    error: str = ""
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _TransportFault:
    kind: str  # "reset": close without answering | "timeout": answer after `seconds`
    remaining: int
    seconds: float = 0.0
    applied: bool = False  # the call takes effect although its answer never arrives


_F = TypeVar("_F", _Fault, _TransportFault)


def _take(faults: dict[str, list[_F]], method: str) -> _F | None:
    """The next fault queued for `method` (or for every method, "*"), used up once."""
    for key in (method, "*"):
        queue = faults.get(key, [])
        while queue and queue[0].remaining <= 0:
            queue.pop(0)
        if queue:
            queue[0].remaining -= 1
            return queue[0]
    return None


@dataclass
class _RandomFaults:
    rate: float  # probability that a call fails
    rng: random.Random
    spare: frozenset[str]  # methods that never fail this way


# The status a handler returns to drop the connection instead of answering.
_DROP = 0


@dataclass
class _Limiter:
    per_window: int
    window: float
    accepted: collections.deque[float] = field(default_factory=collections.deque)


class _ParseError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _parse_request(query: str, content_type: str, body: bytes) -> tuple[dict[str, Any], bool]:
    """Merged params and whether the body was JSON (Slack ignores a token inside JSON)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return params, False
    if ctype == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise _ParseError("invalid_json") from exc
        if not isinstance(data, dict):
            raise _ParseError("json_not_object")
        params.update(data)
        return params, True
    if ctype == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            if filename:
                params[name] = {"filename": filename, "size": len(payload)}
            else:
                params[name] = payload.decode("utf-8", "replace")
        return params, False
    try:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise _ParseError("invalid_charset") from exc
    return params, False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # As Slack: connections stay open between calls, and idle ones are closed after a while.
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    disable_nagle_algorithm = True  # headers and body leave at once on a kept connection

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def setup(self) -> None:
        super().setup()
        self.server.emulator._connection_opened(self.connection)

    def finish(self) -> None:
        self.server.emulator._connection_closed(self.connection)
        super().finish()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self) -> None:
        emu = self.server.emulator
        parts = urlsplit(self.path)
        if parts.path.startswith("/socket-mode/"):
            self.connection.settimeout(None)  # a WebSocket is not an idle HTTP connection
            emu.socket_mode.serve(self, parts.path.rsplit("/", 1)[1])  # until the socket closes
            self.close_connection = True
            return
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
            status, out_headers, payload = emu._handle_api(method, parts.query, headers, body)
        elif parts.path.startswith("/upload/v1/") and self.command == "POST":
            status, out_headers, payload = emu._handle_upload(parts.path.rsplit("/", 1)[1], body)
        elif parts.path.startswith("/scim/v2/"):
            status, out_headers, payload = emu._handle_scim(
                self.command, parts.path[len("/scim/v2/") :], headers, body
            )
        elif parts.path.startswith("/response_url/") and self.command == "POST":
            status, out_headers, payload = emu._handle_response_url(
                parts.path.rsplit("/", 1)[1], body
            )
        else:
            status, out_headers, payload = 404, {"Content-Type": "text/plain"}, b"not found"
        if status == _DROP:
            self._reset()
            return
        self._send(status, out_headers, payload)

    def _reset(self) -> None:
        """Close with a TCP reset, as a proxy or a crashed server would."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = _dispatch
    do_POST = _dispatch
    do_DELETE = _dispatch
    do_PATCH = _dispatch


def _scim_error(status: int, description: str) -> tuple[int, dict[str, str], bytes]:
    body = {"Errors": {"description": description, "code": status}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of parallel calls must not be reset at the backlog
    emulator: SlackEmulator


class SlackEmulator:
    """An emulated Slack workspace and Web API; see the module docstring."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        bot_scopes: list[str] | tuple[str, ...] | None = None,
        *,
        team_id: str = "T0KYOSO",
        team_name: str = "Kyoso",
        team_domain: str = "kyoso",
        app_id: str = "A0KYOSO",
        bot_user_id: str = "U0KYOSOBOT",
        bot_id: str = "B0KYOSOBOT",
        bot_name: str = "kyoso",
        include_slackbot: bool = True,
        check_spec: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.state = Workspace(
            team_id=team_id, team_name=team_name, team_domain=team_domain, app_id=app_id
        )
        self._lock = self.state.lock
        self.host = host
        self.bot_token = bot_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.calls: list[RecordedCall] = []
        self.spec_violations: list[str] = []
        self.internal_errors: list[str] = []  # emulator bugs (answered HTTP 500)
        self._check_spec = check_spec
        self._faults: dict[str, list[_Fault]] = {}
        self._transport_faults: dict[str, list[_TransportFault]] = {}
        self._random_faults: _RandomFaults | None = None
        self._limiters: dict[str, _Limiter] = {}
        self._latency: dict[str, float] = {}
        self._responses: list[tuple[str, Any]] = []
        self.scim_calls: list[tuple[str, str]] = []
        self._response_urls: set[str] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.connections_opened = 0  # TCP connections accepted, kept alive or not
        self._open_connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.socket_mode = SocketModeHub(self.state)
        if include_slackbot:
            # Slack lists Slackbot among members, with is_bot false.
            self.state.add_user("USLACKBOT", name="slackbot", real_name="Slackbot", locale="en-US")
        self.state.add_user(
            bot_user_id,
            name=bot_name,
            real_name=bot_name,
            is_bot=True,
            bot_id=bot_id,
            locale="en-US",
        )
        self.add_token(
            bot_token,
            scopes=list(bot_scopes or DEFAULT_BOT_SCOPES),
            user_id=bot_user_id,
            kind="bot",
        )

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        server = _Server((self.host, 0), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.socket_mode.close_all()
        self.close_connections()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def close_connections(self) -> None:
        """Close every open connection, as Slack does with idle ones (or a load balancer
        restarting): a client must open a new one for its next call."""
        with self._connections_lock:
            open_now = list(self._open_connections)
        for connection in open_now:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def open_connections(self) -> int:
        with self._connections_lock:
            return len(self._open_connections)

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self.connections_opened += 1
            self._open_connections.add(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._open_connections.discard(connection)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackEmulator is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def team_id(self) -> str:
        return self.state.team_id

    @property
    def app_id(self) -> str:
        return self.state.app_id

    # ---- workspace set-up ---------------------------------------------------------------

    def add_user(self, user_id: str | None = None, *, name: str, **kwargs: Any) -> dict[str, Any]:
        """Keyword options: email, real_name, display_name, locale ("ja-JP"), tz, is_admin,
        is_owner, is_bot, is_restricted, deleted, image (False: default avatar)."""
        return self.state.add_user(user_id, name=name, **kwargs)

    def update_user(
        self, user_id: str, *, profile: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        with self._lock:
            user = self.state.users[user_id]
            user.update(fields)
            user["profile"].update(profile or {})
            return copy.deepcopy(user)

    def add_channel(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Keyword options: channel_id, is_general, is_private, is_archived, members, created,
        creator, purpose, topic. The bot is a member only if listed in `members`."""
        return self.state.add_channel(name, **kwargs)

    def add_token(
        self,
        token: str,
        *,
        scopes: list[str] | tuple[str, ...],
        user_id: str | None = None,
        kind: str = "user",
        enterprise: bool = False,
        paid: bool = False,
    ) -> str:
        if kind not in ("user", "bot", "app"):
            raise ValueError(f"unknown token kind {kind!r}")
        with self._lock:
            self.state.tokens[token] = TokenInfo(
                token=token,
                kind=kind,
                scopes=list(scopes),
                user_id=user_id,
                bot_id=self.bot_id if kind == "bot" else None,
                enterprise=enterprise,
                paid=paid,
            )
        return token

    def set_access_log(
        self,
        user_id: str,
        date_last: int | float,
        *,
        date_first: int | float | None = None,
        count: int = 1,
        ip: str = "203.0.113.10",
        user_agent: str = "Mozilla/5.0 (Slack)",
    ) -> None:
        with self._lock:
            user = self.state.users.get(user_id, {})
            self.state.access_logs[user_id] = {
                "user_id": user_id,
                "username": user.get("name", ""),
                "date_first": int(date_first if date_first is not None else date_last),
                "date_last": int(date_last),
                "count": count,
                "ip": ip,
                "user_agent": user_agent,
                "isp": "Emulated ISP",
                "country": "JP",
                "region": "Tokyo",
            }

    def set_dnd(self, user_id: str, **state: Any) -> None:
        """dnd.info fields for a user, e.g. dnd_enabled=True, snooze_enabled=True."""
        with self._lock:
            self.state.dnd[user_id] = dict(state)

    # ---- accessors (deep copies) --------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.state.users.get(user_id))

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self.state.users.values()))

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.state.channels.get(channel_id))

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.state.channel_by_name(name))

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """All messages of a conversation, oldest first, thread replies included."""
        with self._lock:
            return copy.deepcopy(self.state.messages.get(channel_id, []))

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        """Messages in the IM between the bot and this user."""
        with self._lock:
            im = self.state.ims.get(frozenset((self.bot_user_id, user_id)))
            return self.messages(im) if im else []

    def im_channel_id(self, user_id: str) -> str | None:
        with self._lock:
            return self.state.ims.get(frozenset((self.bot_user_id, user_id)))

    def ephemeral_messages(
        self, channel_id: str | None = None, user_id: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(
                [
                    m
                    for m in self.state.ephemeral
                    if channel_id in (None, m["channel"]) and user_id in (None, m["user"])
                ]
            )

    def deleted_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.state.deleted_messages)

    def published_home(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            vid = self.state.home_views.get(user_id)
            return copy.deepcopy(self.state.views[vid]) if vid else None

    def opened_views(self) -> list[dict[str, Any]]:
        """Modals opened or pushed, in order, as they are now (after views.update)."""
        with self._lock:
            return copy.deepcopy([self.state.views[v] for v in self.state.modal_order])

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.state.views.get(view_id))

    def pins(self, channel_id: str) -> list[str]:
        with self._lock:
            return list(self.state.pins.get(channel_id, []))

    def files(self) -> list[dict[str, Any]]:
        """Uploaded files: id, name, title, size, channels, content (bytes), completed."""
        with self._lock:
            return copy.deepcopy(list(self.state.files.values()))

    def invites(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.state.invites)

    def removed_users(self) -> list[str]:
        with self._lock:
            return list(self.state.removed_users)

    # ---- call log -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.spec_violations.clear()
            self.internal_errors.clear()

    def assert_spec_clean(self) -> None:
        """Raises AssertionError listing spec violations (and emulator bugs, if any)."""
        with self._lock:
            violations = list(self.spec_violations)
            bugs = list(self.internal_errors)
        lines = []
        if violations:
            lines.append(f"{len(violations)} Slack API spec violation(s):")
            lines += [f"  {v}" for v in violations]
        if bugs:
            lines.append(f"{len(bugs)} emulator internal error(s):")
            lines += [f"  {b}" for b in bugs]
        if lines:
            raise AssertionError("\n".join(lines))

    # ---- fault injection ----------------------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls answer HTTP 429 with Retry-After. method "*" = any method."""
        self._add_fault(method, _Fault("ratelimit", times, retry_after=retry_after))

    def fail(self, method: str, error: str, times: int = 1, **extra: Any) -> None:
        """The next `times` calls answer HTTP 200 `{"ok": false, "error": error, **extra}`."""
        self._add_fault(method, _Fault("error", times, error=error, extra=extra))

    def server_error(self, method: str, status: int = 503, times: int = 1) -> None:
        self._add_fault(method, _Fault("server", times, status=status))

    def reset_connection(self, method: str, times: int = 1, *, applied: bool = False) -> None:
        """The next `times` calls are answered by closing the connection (a TCP reset).
        applied=True: the call takes effect first (Slack acted, the answer was lost)."""
        with self._lock:
            fault = _TransportFault("reset", times, applied=applied)
            self._transport_faults.setdefault(method, []).append(fault)

    def time_out(
        self, method: str, seconds: float, times: int = 1, *, applied: bool = False
    ) -> None:
        """The next `times` calls get no answer for `seconds` (longer than the client's
        timeout), then the connection closes. applied=True: the call takes effect."""
        with self._lock:
            fault = _TransportFault("timeout", times, seconds=seconds, applied=applied)
            self._transport_faults.setdefault(method, []).append(fault)

    def fail_randomly(
        self,
        rate: float,
        *,
        seed: int | None = None,
        spare: tuple[str, ...] = ("auth.test",),
    ) -> None:
        """From now on each call (methods in `spare` aside) fails with probability `rate`,
        half of them HTTP 503, half HTTP 429 with Retry-After 1; rate 0 stops it. Queued
        faults (fail, server_error, rate_limit) come first."""
        with self._lock:
            self._random_faults = (
                _RandomFaults(rate, random.Random(seed), frozenset(spare)) if rate else None
            )

    def enforce_rate_limit(
        self, method: str, per_minute: int | None, *, window_seconds: float = 60.0
    ) -> None:
        """Sliding-window limit: over `per_minute` calls per window -> 429 with an honest
        Retry-After. per_minute=None removes it. method "*" limits each method separately."""
        with self._lock:
            if per_minute is None:
                self._limiters.pop(method, None)
            else:
                self._limiters[method] = _Limiter(per_minute, window_seconds)

    def latency(self, method: str, seconds: float) -> None:
        """Delay every answer of `method` ("*" = all) by `seconds` (0 removes)."""
        with self._lock:
            if seconds:
                self._latency[method] = seconds
            else:
                self._latency.pop(method, None)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._transport_faults.clear()
            self._random_faults = None
            self._limiters.clear()
            self._latency.clear()

    def _add_fault(self, method: str, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        return _take(self._faults, method)

    def _random_fault(self, method: str) -> _Fault | None:
        faults = self._random_faults
        if faults is None or method in faults.spare or faults.rng.random() >= faults.rate:
            return None
        if faults.rng.random() < 0.5:
            return _Fault("server", 1, status=503)
        return _Fault("ratelimit", 1, retry_after=1)

    def _take_transport_fault(self, method: str) -> _TransportFault | None:
        return _take(self._transport_faults, method)

    def _over_limit(self, method: str, now: float) -> int | None:
        """Retry-After seconds if this call exceeds an enforced limit, else None (counted)."""
        limiter = self._limiters.get(method)
        if limiter is None and "*" in self._limiters:
            template = self._limiters["*"]
            limiter = self._limiters[method] = _Limiter(template.per_window, template.window)
        if limiter is None:
            return None
        while limiter.accepted and limiter.accepted[0] <= now - limiter.window:
            limiter.accepted.popleft()
        if len(limiter.accepted) >= limiter.per_window:
            return max(1, math.ceil(limiter.accepted[0] + limiter.window - now))
        limiter.accepted.append(now)
        return None

    # ---- response_url -------------------------------------------------------------------

    def new_response_url(self) -> str:
        rid = uuid.uuid4().hex
        with self._lock:
            self._response_urls.add(rid)
        return f"{self.base_url}/response_url/{rid}"

    def responses(self, response_id: str) -> list[Any]:
        """Bodies POSTed to one response_url (id = last path segment, or the whole URL)."""
        rid = response_id.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            return copy.deepcopy([body for key, body in self._responses if key == rid])

    def all_responses(self) -> list[tuple[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._responses)

    def _handle_response_url(self, rid: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        text = body.decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        with self._lock:
            if rid not in self._response_urls:
                return 404, {"Content-Type": "text/plain"}, b"no_service"
            self._responses.append((rid, parsed))
            uses = sum(1 for key, _ in self._responses if key == rid)
        if uses > RESPONSE_URL_MAX_USES:
            return 404, {"Content-Type": "text/plain"}, b"used_url"
        return 200, {"Content-Type": "text/html"}, b"ok"

    # ---- Socket Mode (socket_mode.py) -----------------------------------------------------

    def socket_connected(self, timeout: float = 10) -> bool:
        """Whether an app holds a Socket Mode connection (waiting up to `timeout` seconds)."""
        return self.socket_mode.connected(timeout)

    def socket_send(
        self,
        payload_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Pushes `payload` in a Socket Mode envelope (events_api | slash_commands |
        interactive) to the connected app; returns its envelope_id."""
        return self.socket_mode.send(
            payload_type, payload, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def socket_ack(self, envelope_id: str, timeout: float = 5) -> dict[str, Any] | None:
        """The app's ack of an envelope ({"envelope_id", "payload"?}), or None if none came."""
        return self.socket_mode.ack(envelope_id, timeout)

    def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's connection refresh: `{"type": "disconnect"}`, then close; the client
        calls apps.connections.open again and reconnects."""
        self.socket_mode.disconnect(reason)

    # ---- SCIM (Business+ / Enterprise): enough to probe and to deactivate --------------------

    def _handle_scim(
        self, verb: str, path: str, headers: dict[str, str], data: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        self.scim_calls.append((verb, path))
        with self._lock:
            info = self.state.tokens.get(token)
            if info is None or info.kind != "user":
                return _scim_error(401, "invalid_authentication")
            if not info.paid or "admin" not in info.scopes:
                # Slack answers 403 on plans without SCIM or for tokens without `admin`.
                return _scim_error(403, "unauthorized: SCIM needs Business+ and an admin token")
            if verb == "GET" and path == "Users":
                users = [u for u in self.state.users.values() if not u.get("is_bot")]
                resources = [
                    {"id": u["id"], "userName": u["name"], "active": not u.get("deleted")}
                    for u in users
                ]
                body = {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": len(resources),
                    "itemsPerPage": len(resources),
                    "startIndex": 1,
                    "Resources": resources,
                }
                return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
            if verb == "DELETE" and path.startswith("Users/"):
                user = self.state.users.get(path.removeprefix("Users/"))
                if user is None:
                    return _scim_error(404, "user_not_found")
                user["deleted"] = True  # SCIM DELETE deactivates; it does not erase
                return 204, {}, b""
            if verb == "PATCH" and path.startswith("Users/"):
                # As Slack's SCIM v2: a PatchOp replacing `emails` changes the profile email.
                user = self.state.users.get(path.removeprefix("Users/"))
                if user is None:
                    return _scim_error(404, "user_not_found")
                operations = json.loads(data or b"{}").get("Operations") or []
                for operation in operations:
                    if operation.get("path") == "emails" and operation.get("value"):
                        user["profile"]["email"] = operation["value"][0]["value"]
                resource = {"id": user["id"], "userName": user["name"], "active": True}
                resource["emails"] = [{"value": user["profile"].get("email"), "primary": True}]
                return 200, {"Content-Type": "application/json"}, json.dumps(resource).encode()
        return _scim_error(404, "not_found")

    def _handle_upload(self, file_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            record = self.state.files.get(file_id)
            if record is None:
                return 404, {"Content-Type": "text/plain"}, b"not found"
            record["content"] = body
            record["size"] = len(body)
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()

    # ---- Web API ------------------------------------------------------------------------

    def _handle_api(
        self, method: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            delay = self._latency.get(method, self._latency.get("*", 0.0))
            transport = self._take_transport_fault(method)
        if transport is not None and not transport.applied:
            self._record_dropped(method, query, headers, transport)
            time.sleep(transport.seconds)
            return _DROP, {}, b""
        if delay:
            time.sleep(delay)  # outside the lock: other calls go on meanwhile
        now = time.time()
        parse_error: str | None = None
        try:
            params, is_json = _parse_request(query, headers.get("content-type", ""), body)
        except _ParseError as exc:
            params, is_json, parse_error = dict(parse_qsl(query)), False, exc.error
        token = _bearer(headers.get("authorization", ""))
        if token is None:
            # A token inside a JSON body is ignored by Slack: JSON needs the header.
            source = dict(parse_qsl(query)) if is_json else params
            token = source.get("token") or None

        with self._lock:
            violations = self._check_spec_call(method, params)
            status, out_headers, response = self._respond(method, token, params, parse_error, now)
            self.calls.append(
                RecordedCall(
                    method=method,
                    params=params,
                    headers=headers,
                    token=token,
                    time=now,
                    response=response,
                    status=status,
                    spec_violations=violations,
                )
            )
            self.spec_violations.extend(violations)
            # Slack sends both scope headers on every answer, empty when unknown.
            info = self.state.tokens.get(token) if token else None
            method_spec = METHODS.get(method)
            out_headers = {
                "Content-Type": "application/json; charset=utf-8",
                "x-slack-req-id": uuid.uuid4().hex,
                "x-oauth-scopes": ",".join(info.scopes) if info else "",
                "x-accepted-oauth-scopes": ",".join(method_spec.scopes or ())
                if method_spec
                else "",
                **out_headers,
            }
        if transport is not None:  # applied: Slack acted, the answer is lost
            time.sleep(transport.seconds)
            return _DROP, {}, b""
        return status, out_headers, json.dumps(response, ensure_ascii=False).encode("utf-8")

    def _record_dropped(
        self, method: str, query: str, headers: dict[str, str], fault: _TransportFault
    ) -> None:
        """A call that never reached the method: recorded, not ok, with what happened."""
        error = "connection_reset" if fault.kind == "reset" else "no_answer"
        with self._lock:
            self.calls.append(
                RecordedCall(
                    method=method,
                    params=dict(parse_qsl(query)),
                    headers=headers,
                    token=_bearer(headers.get("authorization", "")),
                    time=time.time(),
                    response={"ok": False, "error": error},
                    status=_DROP,
                )
            )

    def _check_spec_call(self, method: str, params: dict[str, Any]) -> list[str]:
        if not self._check_spec:
            return []
        index = spec_check.load_spec_index()
        return spec_check.check_call(index, method, params) if index is not None else []

    def _respond(
        self,
        method: str,
        token: str | None,
        params: dict[str, Any],
        parse_error: str | None,
        now: float,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        fault = self._take_fault(method) or self._random_fault(method)
        if fault is not None:
            if fault.kind == "ratelimit":
                return (
                    429,
                    {"Retry-After": str(fault.retry_after)},
                    {"ok": False, "error": "ratelimited"},
                )
            if fault.kind == "server":
                return fault.status, {}, {"ok": False, "error": "fatal_error"}
            return 200, {}, {"ok": False, "error": fault.error, **fault.extra}
        retry_after = self._over_limit(method, now)
        if retry_after is not None:
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        if parse_error is not None:
            return 200, {}, {"ok": False, "error": parse_error}

        method_spec = METHODS.get(method)
        if method_spec is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        headers: dict[str, str] = {}
        info = self.state.tokens.get(token) if token else None
        if method_spec.scopes is not None:
            error = self._auth_error(method_spec.kinds, method_spec.scopes, token, info)
            if error is not None:
                return 200, headers, error
        call = Call(ws=self.state, token=info, params=params, base_url=self.base_url)
        try:
            return 200, headers, {"ok": True, **method_spec.handler(call)}
        except ApiError as exc:
            return 200, headers, {"ok": False, "error": exc.error, **exc.extra}
        except Exception as exc:
            # A bug in the emulator: answer 500 (not a dropped connection) and say so loudly.
            traceback.print_exc(file=sys.stderr)
            self.internal_errors.append(f"{method}: {exc!r}")
            return 500, headers, {"ok": False, "error": "fatal_error", "emulator_error": repr(exc)}

    def _auth_error(
        self,
        kinds: frozenset[str],
        scopes: tuple[str, ...],
        token: str | None,
        info: TokenInfo | None,
    ) -> dict[str, Any] | None:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if info is None:
            return {"ok": False, "error": "invalid_auth"}
        user = self.state.users.get(info.user_id or "")
        if user is not None and user["deleted"]:
            return {"ok": False, "error": "account_inactive"}
        if info.kind not in kinds:
            return {"ok": False, "error": "not_allowed_token_type"}
        if scopes and not any(s in info.scopes for s in scopes):
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": scopes[0],
                "provided": ",".join(info.scopes),
            }
        return None


def _bearer(value: str) -> str | None:
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return None
