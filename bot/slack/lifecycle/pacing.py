"""Pacing of bulk Slack work: a token bucket per run at a share of each method's tier, and
paged reads that wait out `ratelimited` answers instead of failing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack_errors import classify

log = logging.getLogger(__name__)

# Called as bulk work goes on with (done, total); total may be unknown. The CLI draws a bar.
Progress = Callable[[int, int | None], None]

# Slack's published tiers, calls per minute per method and workspace (SLACK-FACTS.md).
# Bulk work uses SHARE of a tier, leaving the rest to interactive replies and other jobs.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
SHARE = 0.8
METHOD_TIER = {
    "users.list": 2,
    "team.accessLogs": 2,
    "dnd.info": 3,
    "conversations.open": 3,
    "conversations.history": 3,
    "users.info": 4,
}


def bulk_per_minute(method: str) -> float:
    """How many calls a minute bulk work may make to `method`."""
    return TIER_PER_MINUTE[METHOD_TIER[method]] * SHARE


class TokenBucket:
    """`per_minute` tokens a minute, at most `burst` saved up. `take` waits for one;
    `hold(seconds)` hands out none before then (Slack's Retry-After). Thread-safe."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = burst
        self._last = monotonic()
        self._not_before = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0

    def take(self) -> None:
        while True:
            with self._lock:
                now = self._monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if now >= self._not_before and self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = max(self._not_before - now, (1 - self._tokens) / self.rate)
            self.waited += wait
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        with self._lock:
            now = self._monotonic()
            self._not_before = max(self._not_before, now + seconds)
            self._tokens = 0.0
            self._last = now


def paced_call(bucket: TokenBucket, method: Callable[..., Any], **kwargs: Any) -> Any:
    """One call within the bucket's pace; `ratelimited` waits for Retry-After and retries."""
    while True:
        bucket.take()
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            wait = classify(exc).retry_after
            if wait is None:
                raise
            log.info("Slack asked to wait %.0f s (ratelimited); waiting", wait)
            bucket.hold(wait)


def pages(
    bucket: TokenBucket, method: Callable[..., Any], key: str, **kwargs: Any
) -> Iterator[list[dict[str, Any]]]:
    """The `key` list of each page of a cursor-paginated method, paced."""
    cursor: str | None = None
    while True:
        response = paced_call(bucket, method, cursor=cursor, **kwargs)
        yield list(response.get(key) or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return
