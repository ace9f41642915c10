"""A real HTTP server on an ephemeral loopback port that speaks the chat-completions shape.

It records every request (path, headers, JSON body) and answers according to its `mode`:
- CITED: an answer citing [1] and an invented [9];
- NOTHING: the sentinel NO_RELEVANT_SOURCE;
- SLOW: the CITED answer after `delay` seconds (longer than a client's timeout);
- ERROR: HTTP 500;
- MALFORMED: a 200 whose body is not JSON.
`reply` replaces the answer's text. Use it as a context manager: `with FakeLlm() as llm:`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
PATH = "/v1/chat/completions"

CITED_REPLY = (
    "申請は所属課の窓口で受け付けています[1]。"
    "書類は月末までに提出してください [9]。"
    "様式は共通のものを使います[1]。"
)


class Mode(Enum):
    CITED = "cited"
    NOTHING = "nothing"
    SLOW = "slow"
    ERROR = "error"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def user_message(self) -> str:
        return str(next(m["content"] for m in self.body["messages"] if m["role"] == "user"))

    @property
    def system_message(self) -> str:
        return str(next(m["content"] for m in self.body["messages"] if m["role"] == "system"))


class FakeLlm:
    def __init__(self, mode: Mode = Mode.CITED, *, delay: float = 2.0) -> None:
        self.mode = mode
        self.delay = delay
        self.reply: str | None = None
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()  # cuts a SLOW handler's wait short on close
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://{HOST}:{port}{PATH}"

    def __enter__(self) -> FakeLlm:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _response(self) -> tuple[int, bytes]:
        if self.mode is Mode.ERROR:
            return 500, b'{"error": {"message": "internal error"}}'
        if self.mode is Mode.MALFORMED:
            return 200, b"<html>not json"
        if self.mode is Mode.SLOW:
            self._closing.wait(self.delay)
        text = "NO_RELEVANT_SOURCE" if self.mode is Mode.NOTHING else CITED_REPLY
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply or text},
                    "finish_reason": "stop",
                }
            ],
        }
        return 200, json.dumps(completion, ensure_ascii=False).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake._record(RecordedRequest(self.path, dict(self.headers.items()), body))
                status, payload = fake._response()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (SLOW): that is the point

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler
