"""The one WebClient per token, pointed at SLACK_API_URL, with Slack-aware retries."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

# Each handler sleeps in the calling thread: never call Slack before an ack.
MAX_RETRIES = 3


def make_web_client(token: str, base_url: str, *, timeout: int = 30) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),  # honours Retry-After
            ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ],
    )
