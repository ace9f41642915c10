"""waitress with a graceful stop: the pages in Socket Mode (KYOSO_WEB_PORT), HTTP mode when
KYOSO_HTTP_SERVER=waitress (one process, pure Python), and the tests' in-process server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from handlers.web import MAX_REQUEST_BYTES

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication


class HttpServer:
    """waitress with a graceful stop from any thread (a signal handler, a test).

    stop() closes the listening socket at once, lets requests in flight finish and their
    responses flush, then closes the remaining (idle) connections; after DRAIN_SECONDS it
    closes whatever is left."""

    DRAIN_SECONDS = 10.0

    def __init__(self, web: WSGIApplication, *, host: str, port: int, threads: int) -> None:
        # waitress would drop X-Forwarded-For itself; KYOSO_TRUSTED_PROXIES decides whom
        # to believe (handlers/registration/limits.py, bot/proxies.py).
        server = create_server(
            web,
            host=host,
            port=port,
            threads=threads,
            ident="kyoso",
            clear_untrusted_proxy_headers=False,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
        if not isinstance(server, TcpWSGIServer):  # one host and port give one TCP socket
            raise RuntimeError("expected a single listening socket")
        self._server = server
        self._stopping = threading.Event()
        # The bound port, also when 0 (any free port) was asked for.
        self.port = int(server.getsockname()[1])

    def serve(self) -> None:
        """Serve until stop() has drained the connections."""
        self._server.run()
        self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._in_loop(self._stop_listening)
        threading.Thread(target=self._drain, name="kyoso-http-drain", daemon=True).start()

    # Sockets are only ever closed inside waitress's own loop (via its trigger): closing
    # them from another thread pulls them from under select() and fails with EBADF.
    def _in_loop(self, thunk: Callable[[], None]) -> None:
        trigger: Any = self._server.trigger
        trigger.pull_trigger(thunk)

    def _channels(self) -> dict[int, Any]:
        channels: dict[int, Any] = vars(self._server)["_map"]
        return channels

    def _stop_listening(self) -> None:
        wasyncore.dispatcher.close(self._server)  # not the trigger: the loop still runs

    def _drain(self) -> None:
        deadline = time.monotonic() + self.DRAIN_SECONDS
        trigger = self._server.trigger
        while time.monotonic() < deadline:
            if all(c is trigger for c in list(self._channels().values())):
                break
            self._in_loop(self._close_idle)
            time.sleep(0.05)
        self._in_loop(self._close_all)

    def _close_idle(self) -> None:
        for channel in list(self._channels().values()):
            if channel is self._server.trigger:
                continue
            busy = channel.requests or channel.total_outbufs_len or channel.request is not None
            if not busy:
                channel.close()

    def _close_all(self) -> None:
        for channel in list(self._channels().values()):
            channel.close()
