"""A per-client limit on submissions (in memory, per process), counted only after the CSRF
check so that a forged post costs nobody their quota."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from flask import Request

from bot.proxies import TrustedProxies


class RateLimiter:
    """At most `limit` hits per `window_seconds` per key (a sliding window), in memory.

    Per process: with several instances behind a load balancer each keeps its own count,
    which is enough to slow a script down without a shared store."""

    def __init__(
        self,
        *,
        limit: int = 10,
        window_seconds: float = 600,
        max_keys: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._monotonic = monotonic
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the next one is."""
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
            return None


def client_address(req: Request, proxies: TrustedProxies) -> str:
    """The applicant's address for the rate limit.

    Behind the TLS-terminating proxy the README asks for, every request comes from the
    proxy, and only `X-Forwarded-For` tells applicants apart; it is believed only when the
    peer is a proxy KYOSO_TRUSTED_PROXIES names, so a client cannot choose its own key."""
    peer = req.remote_addr or "unknown"
    return proxies.client(peer, req.headers.get("X-Forwarded-For"))
