"""The front door of /slack/events: only verified, well-formed Slack requests reach Bolt.

Checked in this order, so that nothing read from an unverified body is ever parsed or acted
on: the declared size, the shape of the signature headers, the 5-minute replay window, the
HMAC-SHA256 signature over the raw bytes, and only then the body's shape, the way Bolt parses
it (`request.internals.parse_body`). Refusals carry no detail: the log says why, without any
of the request's content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# The largest request Slack sends is a view_submission: a modal (at most 100 blocks and
# 250 kB of JSON) echoed back with what the member typed, form-encoded, which can triple
# the bytes of Japanese text. Kyoso's own modals are far smaller; 1 MiB leaves room and
# refuses the megabytes nobody but an attacker sends.
MAX_BODY_BYTES = 1024 * 1024

# Slack's replay window: a timestamp further than this from our clock is refused.
REPLAY_WINDOW_SECONDS = 5 * 60

# Plain ASCII digits of a sane length (Unix seconds have 10 digits until the year 2286).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # for the log: names the check, never the request's content


TOO_LARGE = Refusal(413, "body larger than the limit")
MALFORMED_HEADERS = Refusal(401, "signature headers missing or malformed")
OUTSIDE_WINDOW = Refusal(401, "timestamp outside the replay window")
BAD_SIGNATURE = Refusal(401, "signature mismatch")
MALFORMED_BODY = Refusal(400, "body is not a Slack payload")


class SlackGate:
    def __init__(
        self,
        signing_secret: str,
        *,
        now: Callable[[], float] = time.time,  # Slack's timestamps are real wall time
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not signing_secret:
            raise ValueError("a signing secret is required")
        self._secret = signing_secret.encode()
        self._now = now
        self.max_body_bytes = max_body_bytes

    def check_length(self, content_length: int | None) -> Refusal | None:
        """Before the body is read: refuse what declares itself too large."""
        if content_length is not None and content_length > self.max_body_bytes:
            return TOO_LARGE
        return None

    def check(
        self, *, timestamp: str, signature: str, content_type: str | None, body: bytes
    ) -> Refusal | None:
        """None when the request is Slack's and shaped as Slack shapes it. `timestamp` and
        `signature` are the X-Slack-Request-Timestamp and X-Slack-Signature headers."""
        if len(body) > self.max_body_bytes:
            return TOO_LARGE
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return MALFORMED_HEADERS
        if abs(self._now() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return OUTSIDE_WINDOW
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
            return BAD_SIGNATURE
        if not is_slack_payload(body, content_type):
            return MALFORMED_BODY
        return None


def is_slack_payload(body: bytes, content_type: str | None) -> bool:
    """The shapes Bolt can dispatch: a JSON object with a `type` (Events API), a form whose
    `payload` is such an object (interactivity), or a slash command (or ssl_check) form."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json" or text.startswith("{"):
        return _is_typed_object(text)
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _is_typed_object(fields["payload"])
    return bool(fields.get("command", "").startswith("/") or fields.get("ssl_check") == "1")


def _is_typed_object(text: str) -> bool:
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("type"), str)
