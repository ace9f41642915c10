"""The one WebClient per token, pointed at SLACK_API_URL, with Slack-aware retries and
connections kept open between calls."""

from __future__ import annotations

import http.client
import io
import os
import threading
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import SplitResult, urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.idle_sockets import closed_by_peer

# Each handler sleeps in the calling thread: never call Slack before an ack.
MAX_RETRIES = 3


def make_web_client(token: str, base_url: str, *, timeout: int = 30) -> WebClient:
    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),  # honours Retry-After
            ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ],
    )


class KeepAliveWebClient(WebClient):
    """slack_sdk's WebClient with one HTTP/1.1 connection per thread and host, kept open.

    slack_sdk opens a new connection (and TLS session) for every call through urllib. Here
    the request and its answer are the same; only the transport differs. Failures look as
    urllib's do, so slack_sdk's retry handlers and `bot.slack_errors` read them alike: an HTTP
    error status raises HTTPError, a failed connect URLError. A proxy keeps urllib's path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._pid = os.getpid()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        target = urlsplit(url)
        if self.proxy is not None or target.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        connection = self._connection(target)
        path = target.path + (f"?{target.query}" if target.query else "")
        # Never reused after a failure: its state is unknown.
        try:
            connection.request(
                req.get_method(), path, body=req.data, headers=dict(req.header_items())
            )
        except OSError as exc:
            self._discard(target)
            raise URLError(exc) from exc  # as urlopen reports a failed send
        try:
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self._discard(target)
            raise
        if response.will_close:
            self._discard(target)
        headers = response.headers
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, headers, io.BytesIO(body))
        if headers.get_content_type() == "application/gzip":  # admin.analytics.getFile
            return {"status": response.status, "headers": headers, "body": body}
        charset = headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": headers, "body": body.decode(charset)}

    def _connection(self, target: SplitResult) -> http.client.HTTPConnection:
        if self._pid != os.getpid():
            # A forked worker (granian's) must not share its parent's sockets.
            self._local, self._pid = threading.local(), os.getpid()
        key = (target.scheme, target.netloc)
        pool: _Connections = self._local.__dict__.setdefault("connections", _Connections())
        connection = pool.get(key)
        if connection is not None and not _closed_by_server(connection):
            return connection
        if connection is not None:
            connection.close()
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(
                target.netloc, timeout=self.timeout, context=self.ssl
            )
        else:
            connection = http.client.HTTPConnection(target.netloc, timeout=self.timeout)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise URLError(exc) from exc  # as urlopen reports a failed connect
        pool[key] = connection
        return connection

    def _discard(self, target: SplitResult) -> None:
        pool = self._local.__dict__.get("connections", {})
        connection = pool.pop((target.scheme, target.netloc), None)
        if connection is not None:
            connection.close()


class _Connections(dict[tuple[str, str], http.client.HTTPConnection]):
    """One thread's kept connections, closed when the thread ends or the client goes (its
    thread-local storage is dropped then), not left for the garbage collector to find open."""

    def __del__(self) -> None:
        for connection in self.values():
            connection.close()


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Slack's idle timeout ended it: replaced before a request is written to it."""
    return connection.sock is None or closed_by_peer(connection.sock)
