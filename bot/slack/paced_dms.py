"""The machinery shared by the bulk DM senders (the inactivity contacts, the 異動 season):
paced, resumable, in business hours, never twice. A sender says only which rows it reads,
which blocks it posts and what it records; this base sends.

Pacing: one token bucket per run at `KYOSO_CONTACTS_PER_MINUTE` (default 40), one token per
DM. Each DM costs one `dnd.info` (Tier 3, ~50/min) and one `chat.postMessage` (Slack allows
about one per second per channel and several hundred a minute per workspace, shared with
Kyoso's interactive replies), so 40 a minute stays under every limit with room to spare. A
`ratelimited` answer (HTTP 429) gives the claim back, pauses the bucket for the `Retry-After`
Slack asked for and tries the same DM again: nothing is lost.

Failures follow bot/slack_errors.py: a transient one (5xx, timeouts, resets) stops the run
with the DM still due (a claim that Slack may have acted on stays, and the next run looks in
the member's IM before sending again); a refused token alerts and stops the run, changing
nothing; only errors final for the member mark the DM failed.

Business hours: DMs go out on 開庁日 between 9:00 and 17:00 in KYOSO_TIMEZONE (JST). A run
stops when the hours end or its time budget is spent; the next run continues where it
stopped. Kind hours (bot/slack/kind_hours.py): a member in do-not-disturb, or whose Slack
status says they are away (one users.info per DM, Tier 4, outside the bucket), has the DM
postponed, never dropped.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from bot.i18n import Language, as_language
from bot.services.lifecycle.contacts import dnd_ends
from bot.services.lifecycle.policy import in_contact_hours
from bot.slack.kind_hours import KindHours
from bot.slack.lifecycle.pacing import Progress, TokenBucket
from bot.slack.sent_dms import bot_dm_carries
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import (
    SLACK_CALL_ERRORS,
    SlackFailure,
    alert_auth_failure,
    classify,
    error_code,
)

# A scheduled run stops after this long; the next hourly run continues.
DEFAULT_TIME_BUDGET_SECONDS = 50 * 60


class MemberDM(Protocol):
    """One DM to send, as a sender's use cases hand it over."""

    @property
    def key(self) -> str: ...  # idempotency key; its block_id is looked for after a crash

    @property
    def slack_user_id(self) -> str: ...

    @property
    def locale(self) -> str | None: ...

    @property
    def claimed_at(self) -> datetime | None: ...


class RunTally(Protocol):
    """The counts every sender's run result keeps (each adds its own)."""

    failed: int
    deferred: int
    recovered: int  # DMs a dead sender had posted, found in Slack and recorded
    resent: int  # DMs a dead sender had not posted, sent again
    rate_limited: int
    waited_seconds: float
    stopped: str  # done | hours | time budget | slack unavailable | slack auth | a sender's own
    errors: dict[str, int]


DM = TypeVar("DM", bound=MemberDM)
Run = TypeVar("Run", bound=RunTally)


class _Stop(Exception):
    """End the run early; the reason becomes the result's `stopped`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class PacedDMSender(SlackAdapter, ABC, Generic[DM, Run]):
    """One run of one sender. A subclass reads its rows, builds its blocks and records its
    results through the hooks at the end; `_until_stopped`, `_settle_left_in_flight` and
    `_send_due` do the rest."""

    job: ClassVar[str]  # names the run in the operators' alert when the token is refused
    dm_name: ClassVar[str] = "DM"  # how a failed DM is named in the log

    def __init__(
        self,
        wiring: SlackWiring,
        *,
        result: Run,
        time_budget: float,
        bucket: TokenBucket | None,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
        after_post: Callable[[DM], None] | None,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(wiring)
        settings = wiring.settings
        self._zone = settings.zone
        self._kind = KindHours.from_settings(settings)
        self._default_language = settings.default_locale
        self._bucket = bucket or TokenBucket(
            settings.contacts_per_minute, monotonic=monotonic, sleep=sleep
        )
        self._monotonic = monotonic
        self._deadline = monotonic() + time_budget
        self._progress = progress
        self._done = 0
        self._total: int | None = None  # a sender that can count its work sets it
        # Tests inject a crash right after Slack took a DM, before its result is recorded.
        self._after_post = after_post
        # Logged under the sender's own module, as each sender logged before sharing this.
        self._log = logging.getLogger(type(self).__module__)
        self.result = result

    # -- the run --------------------------------------------------------------------------

    def _until_stopped(self, steps: Callable[[], None]) -> Run:
        """Runs the steps; hours, budget or Slack may end them early, and the next run
        continues where this one stopped."""
        try:
            steps()
        except _Stop as stop:
            self.result.stopped = stop.reason
        self.result.waited_seconds = self._bucket.waited
        return self.result

    def _can_go_on(self) -> bool:
        if self._monotonic() >= self._deadline:
            self.result.stopped = "time budget"
            return False
        if not in_contact_hours(self._clock.now(), self._zone):
            self.result.stopped = "hours"
            return False
        return True

    def _report(self, step: int = 0) -> None:
        self._done += step
        if self._progress is not None:
            self._progress(self._done, self._total)

    def _language(self, dm: DM) -> Language:
        if dm.locale:
            return as_language(dm.locale, self._default_language)
        return self._locales.for_user(dm.slack_user_id)

    # -- Slack calls ------------------------------------------------------------------------

    def _call(self, method: Callable[..., Any], *, take_token: bool = True, **kwargs: Any) -> Any:
        """One paced call; `ratelimited` waits as told and tries again. Transient and token
        failures end the run; a final error is the caller's to read."""
        while True:
            if take_token:
                self._bucket.take()
            try:
                return method(**kwargs)
            except SLACK_CALL_ERRORS as exc:
                failure = classify(exc)
                if failure.retry_after is not None:
                    self._wait(failure.retry_after)
                    continue
                self._stop_unless_final(failure, exc)
                raise

    def _stop_unless_final(self, failure: SlackFailure, exc: Exception) -> None:
        if failure.transient:
            self._log.warning("Slack unavailable (%s); the next run goes on", failure.error)
            raise _Stop("slack unavailable") from exc
        if failure.auth:
            alert_auth_failure(failure, job=self.job)
            raise _Stop("slack auth") from exc

    def _wait(self, seconds: float) -> None:
        if self._monotonic() + seconds >= self._deadline:
            raise _Stop("time budget")  # the next run picks up from here
        self.result.rate_limited += 1
        self._log.info("Slack asked to wait %.0f s (ratelimited); waiting", seconds)
        self._bucket.hold(seconds)

    # -- DMs a dead sender left in flight ---------------------------------------------------

    def _settle_left_in_flight(self, stale: Sequence[DM]) -> None:
        """A claim whose sender died: if the DM is in the member's IM history (its first
        block carries the key) it was sent; otherwise it is given back and sent again."""
        for dm in stale:
            try:
                posted = bot_dm_carries(
                    self._client, dm.slack_user_id, self._block_id(dm), call=self._call
                )
            except SLACK_CALL_ERRORS as exc:  # final ones only: _call stops on the others
                failure = classify(exc)
                if failure.member_specific:
                    self._settle(dm, error=failure.error)
                else:
                    self._log.warning("cannot check DM %s in Slack (%s); later", dm.key, failure)
                continue
            with self._session_factory.begin() as session:
                if posted:
                    self._record(session, dm, at=dm.claimed_at or self._clock.now())
                    self.result.recovered += 1
                else:
                    self._release(session, dm)
                    self.result.resent += 1  # sent by `_send_due`
            self._log.info("DM %s left in flight: %s", dm.key, "found" if posted else "resending")

    # -- due DMs ----------------------------------------------------------------------------

    def _send_due(self, next_due: Callable[[], Sequence[DM]]) -> None:
        """Sends `next_due()` chunk by chunk, one DM at a time, while hours and budget last."""
        while self._can_go_on():
            due = next_due()
            if not due:
                return
            for dm in due:
                if not self._can_go_on():
                    return
                self._send(dm)
                self._report(1)

    def _send(self, dm: DM) -> None:
        while True:
            try:
                until = self._away_until(dm) or self._dnd_until(dm)
                if until is not None:
                    with self._session_factory.begin() as session:
                        self._defer(session, dm, until=until)
                    self.result.deferred += 1
                    return
                self._claim_and_post(dm)
                return
            except _RateLimited as limited:
                self._wait(limited.seconds)

    def _away_until(self, dm: DM) -> datetime | None:
        """When to look again, if the member's Slack status says they are away."""
        try:
            answer = self._call(self._client.users_info, take_token=False, user=dm.slack_user_id)
        except SLACK_CALL_ERRORS as exc:  # final for this member: the post will tell
            self._log.info("users.info for %s: %s; not away", dm.slack_user_id, error_code(exc))
            return None
        user = answer.data.get("user") if isinstance(answer.data, dict) else None
        return self._kind.away_until(user or {}, now=self._clock.now())

    def _dnd_until(self, dm: DM) -> datetime | None:
        """When the member's do-not-disturb ends, if they are in it now."""
        try:
            dnd = self._call(self._client.dnd_info, user=dm.slack_user_id)
        except SLACK_CALL_ERRORS as exc:  # final for this member: the post will tell
            self._log.info("dnd.info for %s: %s; sending anyway", dm.slack_user_id, error_code(exc))
            return None
        answer = dnd.data if isinstance(dnd.data, dict) else {}
        return dnd_ends(answer, now=self._clock.now())

    def _claim_and_post(self, dm: DM) -> None:
        with self._session_factory.begin() as session:
            if not self._claim(session, dm, now=self._clock.now()):
                return  # another sender has it, or it is no longer needed
        blocks, text = self._message(dm)
        # No token of its own: the DM's dnd.info took this DM's one.
        try:
            self._client.chat_postMessage(channel=dm.slack_user_id, blocks=blocks, text=text)
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient and failure.maybe_delivered:
                # Unknown whether Slack took it: the claim stays, the next run looks in Slack.
                self._log.warning("DM %s: %s; checked in Slack next run", dm.key, failure.error)
                raise _Stop("slack unavailable") from exc
            if failure.transient or failure.auth:
                # Slack refused it: certainly not posted. Give the claim back.
                with self._session_factory.begin() as session:
                    self._release(session, dm)
                if failure.retry_after is not None:
                    raise _RateLimited(failure.retry_after) from exc
                self._stop_unless_final(failure, exc)
            self._settle(dm, error=failure.error)
            return
        if self._after_post is not None:
            self._after_post(dm)
        self._settle(dm)

    def _settle(self, dm: DM, *, error: str | None = None) -> None:
        with self._session_factory.begin() as session:
            self._record(session, dm, at=self._clock.now(), error=error)
        if error:
            self.result.failed += 1
            self.result.errors[error] = self.result.errors.get(error, 0) + 1
            self._log.warning(
                "%s %s to %s failed: %s", self.dm_name, dm.key, dm.slack_user_id, error
            )
        else:
            self._count_sent(dm)

    # -- what each sender says: its rows, its blocks, its records --------------------------

    @abstractmethod
    def _block_id(self, dm: DM) -> str:
        """The block_id the DM's first block carries (looked for after a crash)."""

    @abstractmethod
    def _message(self, dm: DM) -> tuple[list[dict[str, Any]], str]:
        """The DM's blocks and its notification text."""

    @abstractmethod
    def _claim(self, session: Session, dm: DM, *, now: datetime) -> bool:
        """Take the DM for this run; False when another sender has it or it is not wanted."""

    @abstractmethod
    def _release(self, session: Session, dm: DM) -> None:
        """Give the claim back: the DM is certainly not posted."""

    @abstractmethod
    def _defer(self, session: Session, dm: DM, *, until: datetime) -> None:
        """Postpone the DM while the member is in do-not-disturb or away."""

    @abstractmethod
    def _record(self, session: Session, dm: DM, *, at: datetime, error: str | None = None) -> None:
        """Record the DM's result: sent at `at`, or failed for good with `error`."""

    @abstractmethod
    def _count_sent(self, dm: DM) -> None:
        """Count a DM that reached the member in the run's result."""
