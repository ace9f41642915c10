"""HTTP mode on granian (a Rust HTTP server running the WSGI app on its own threads): measured
against waitress, gunicorn and uvicorn in bench/README.md, it costs about half of waitress's CPU
per request.

granian serves from a worker process: `kyoso run` builds the app, then granian forks its one
worker, which inherits the built app (no second start-up), starts the background work there
and serves. SIGTERM or SIGINT to `kyoso run` stops the worker gracefully."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10

# granian's own log lines go through Kyoso's handler (masking, format) instead of its stdout one.
_THROUGH_KYOSO_LOGGING = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    }
}


def serve_with_granian(
    factory_target: str, *, host: str, port: int, threads: int, log_level: str
) -> None:
    """Serve until SIGTERM or SIGINT. `factory_target` ("module:function") is called in the
    worker and returns the WSGI app; with fork, module state set before this call is there."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    # The worker must inherit the app built here; granian follows the start method.
    multiprocessing.set_start_method("fork", force=True)
    Granian(
        factory_target,
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=1,
        blocking_threads=threads,
        respawn_failed_workers=True,
        workers_kill_timeout=DRAIN_SECONDS,
        log_access=False,
        log_level=LogLevels(log_level.lower()),
        log_dictconfig=_THROUGH_KYOSO_LOGGING,
    ).serve()


class InFlight:
    """Counts requests inside the app, so the worker's shutdown flushes only once they ended."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            self._count += 1
        try:
            # The apps here answer with lists: the whole response is made inside this call.
            return self._app(environ, start_response)
        finally:
            with self._lock:
                self._count -= 1

    def wait_idle(self, timeout: float = DRAIN_SECONDS, quiet: float = 0.1) -> bool:
        """True once no request has been inside for `quiet` seconds, False after `timeout`."""
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            if self._count:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= quiet:
                return True
            time.sleep(0.01)
        log.warning("stopping with %d request(s) still in flight", self._count)
        return False
