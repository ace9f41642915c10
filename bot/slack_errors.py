"""One reading of a failed Slack call, used by everything that contacts people.

slack_sdk's retry handlers (bot/slack_client.py) have already retried 429, 500/503 and
dropped connections a few times when an exception reaches us, so what is left is either:

- TRANSIENT: Slack is busy or unreachable (429, 5xx, `ratelimited`, `fatal_error`, read
  timeouts, resets, refused connections...). Retry later; never count the attempt as made
  nor as failed. `maybe_delivered` says whether Slack may have acted on the request anyway
  (a timeout or a reset after sending): a sender then looks before it sends again.
- AUTH: the token itself is refused (revoked, expired, missing a scope). Nothing a retry or
  another member changes: stop the job, alert the operators, change nothing.
- FINAL: Slack refused this one request for good (`user_not_found`, `cannot_dm_bot`,
  `is_archived`...): record it as undeliverable and move on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

# What a Slack call may raise once slack_sdk's own retries are spent.
SLACK_CALL_ERRORS: tuple[type[Exception], ...] = (
    SlackApiError,
    SlackClientError,
    OSError,  # includes URLError, TimeoutError, ConnectionResetError, RemoteDisconnected
    HTTPException,  # a truncated or malformed answer
)

TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",  # a workspace migration in progress
    }
)
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",  # the token's own user or workspace is deactivated
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "org_login_required",
    }
)
# Final for one member: worth recording as "could not reach this person".
MEMBER_ERRORS = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "users_not_found",
        "user_not_visible",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "messages_tab_disabled",
        "not_in_channel",
        "restricted_action",
    }
)


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    AUTH = "auth"
    FINAL = "final"


@dataclass(frozen=True)
class SlackFailure:
    kind: FailureKind
    error: str  # Slack's error code, or the exception's name for transport failures
    maybe_delivered: bool = False
    retry_after: float | None = None  # seconds Slack asked to wait (HTTP 429)

    @property
    def transient(self) -> bool:
        return self.kind is FailureKind.TRANSIENT

    @property
    def auth(self) -> bool:
        return self.kind is FailureKind.AUTH

    @property
    def member_specific(self) -> bool:
        return self.kind is FailureKind.FINAL and self.error in MEMBER_ERRORS


def classify(exc: BaseException) -> SlackFailure:
    if isinstance(exc, SlackApiError):
        return _from_answer(exc)
    reason = exc.reason if isinstance(exc, URLError) else exc
    if isinstance(reason, ConnectionRefusedError):  # nothing reached Slack
        return SlackFailure(FailureKind.TRANSIENT, "connection_refused")
    # Timeouts, resets, DNS and TLS trouble: the request may or may not have reached Slack.
    return SlackFailure(FailureKind.TRANSIENT, type(exc).__name__, maybe_delivered=True)


def _from_answer(exc: SlackApiError) -> SlackFailure:
    response = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or f"http_{status}")
    if status == 429 or error == "ratelimited":
        return SlackFailure(
            FailureKind.TRANSIENT, "ratelimited", retry_after=_retry_after(response.headers)
        )
    if status >= 500 or error in TRANSIENT_ERRORS:
        # Slack may have failed after acting on the request.
        return SlackFailure(FailureKind.TRANSIENT, error, maybe_delivered=True)
    if error in AUTH_ERRORS:
        return SlackFailure(FailureKind.AUTH, error)
    return SlackFailure(FailureKind.FINAL, error)


def _retry_after(headers: object) -> float:
    """Slack's Retry-After header (any case, a list or a value), at least 1 s."""
    items = headers.items() if isinstance(headers, dict) else []
    lowered = {str(k).lower(): v for k, v in items}
    value = lowered.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


def alert_auth_failure(failure: SlackFailure, *, job: str) -> None:
    """Operators must act (a new token, a scope): said at ERROR so that alerting sees it.
    `kyoso doctor` shows the same refusal through auth.test."""
    log.error(
        "Slack refused the token (%s); %s stopped and changed nothing. Run `kyoso doctor`.",
        failure.error,
        job,
    )


def error_code(exc: BaseException) -> str:
    """Slack's error code for a refused call (`channel_not_found`), or the kind of failure
    when Slack never answered (`connection`): what a to-do or a log line should show."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "unknown_error")
    return "connection"
