"""Sends the inactivity contacts: paced, resumable, in business hours, never twice.

One run:
1. ends rounds that have an answer (activity flushed since the sweep), so nobody active is
   contacted, and copies email results back;
2. settles DMs a dead sender left in flight: if the DM is in the member's IM history (its
   first block carries the attempt key) it was sent, otherwise it is sent again;
3. hands due emails (attempt 2) to the outbox, exactly once by key (again after step 4:
   when Slack refuses a DM, the email follows at once);
4. records the next chunk of first contacts and sends due DMs one by one: skip (postpone)
   members in do-not-disturb, claim the attempt in a committed transaction, post, record
   the result.

Pacing: one token bucket for the whole run at `KYOSO_CONTACTS_PER_MINUTE` (default 40), one
token per contact. Each contact costs one `dnd.info` (Tier 3, ~50/min) and one
`chat.postMessage` (Slack allows
about one per second per channel and several hundred a minute per workspace, shared with
Kyoso's interactive replies), so 40 a minute stays under every limit with room to spare.
A `ratelimited` answer (HTTP 429) gives the claim back, pauses the bucket for the
`Retry-After` Slack asked for and tries the same contact again: nothing is lost.

Failures follow bot/slack_errors.py: a transient one (5xx, timeouts, resets) stops the run
with the attempt still due (a claim that Slack may have acted on stays, and the next run
looks in the member's IM before sending again), so no email goes out early; a refused token
stops the run and changes nothing; only errors final for the member mark the DM failed.

Business hours: contacts go out on 開庁日 (no weekends, holidays or 12/29–1/3) between 9:00
and 17:00 in KYOSO_TIMEZONE (JST). A run stops when the hours end or its time budget is
spent; the next run continues where it stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.business_days import is_business_day
from bot.clock import Clock
from bot.db import SessionFactory
from bot.i18n import Language, as_language, t
from bot.locale import LocaleResolver
from bot.services import lifecycle
from bot.services.application_emails import SEPARATOR, ComposedEmail
from bot.services.lifecycle import Contact, Policy
from bot.services.mail import queue_email
from bot.services.sent_dms import bot_dm_carries
from bot.settings import Settings
from bot.slack_errors import (
    SLACK_CALL_ERRORS,
    SlackFailure,
    alert_auth_failure,
    classify,
)
from bot.views.lifecycle import (
    ContactTerms,
    contact_block_id,
    contact_dm_blocks,
    contact_dm_text,
    thanks_dm_blocks,
    thanks_dm_text,
    to_dicts,
)

log = logging.getLogger(__name__)

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

CONTACT_HOURS = (clock_time(9, 0), clock_time(17, 0))
# A scheduled run stops after this long; the next hourly run continues.
DEFAULT_TIME_BUDGET_SECONDS = 50 * 60
CHUNK = 100  # attempts recorded and fetched per round trip
_MAX_ERROR_CHARS = 500


def bulk_per_minute(method: str) -> float:
    """How many calls a minute bulk work may make to `method`."""
    return TIER_PER_MINUTE[METHOD_TIER[method]] * SHARE


def in_contact_hours(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    start, end = CONTACT_HOURS
    return is_business_day(local.date()) and start <= local.time() < end


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


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait, if this was a `ratelimited` (HTTP 429) answer."""
    return classify(exc).retry_after


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return f"{type(exc).__name__}: {exc}"


# --- The email (attempt 2) ---------------------------------------------------------------


def contact_email(*, name: str | None, terms: ContactTerms, language: Language) -> ComposedEmail:
    """Japanese first and English below, as every Kyoso email."""

    def section(lang: Language) -> str:
        paragraphs = []
        if name:
            paragraphs.append(t("mail.greeting", lang, name=" ".join(name.split())))
        paragraphs += [
            t("lifecycle.mail.body", lang, days=terms.inactive_days),
            t("lifecycle.mail.why", lang),
            t("lifecycle.mail.ask", lang),
            t("lifecycle.mail.next", lang, grace_days=terms.grace_days),
        ]
        closing = "\n" if lang == "en" else "\n\n"
        paragraphs.append(t("mail.closing", lang) + closing + t("mail.signature", lang))
        paragraphs.append(t("mail.automated", lang))
        return "\n\n".join(paragraphs)

    lead = [t("mail.english_follows", "en"), ""] if language == "en" else []
    body = "\n".join([*lead, section("ja"), "", SEPARATOR, "", section("en"), ""])
    subject = f"{t('lifecycle.mail.subject', 'ja')} / {t('lifecycle.mail.subject', 'en')}"
    return ComposedEmail(subject=subject, body=body)


# --- A run ---------------------------------------------------------------------------------


@dataclass
class ContactRun:
    dms: int = 0
    thanks: int = 0
    emails: int = 0
    failed: int = 0
    deferred: int = 0
    recovered: int = 0  # DMs a dead sender had posted, found in Slack and recorded
    resent: int = 0  # DMs a dead sender had not posted, sent again
    rate_limited: int = 0
    waited_seconds: float = 0.0
    stopped: str = "done"  # done | hours | time budget | slack unavailable | slack auth
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def more(self) -> bool:
        return self.stopped != "done"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["waited_seconds"] = round(self.waited_seconds, 1)
        return out

    def summary(self, language: Language) -> str:
        return t(
            "lifecycle.summary.contacts",
            language,
            dms=self.dms,
            emails=self.emails,
            thanks=self.thanks,
            failed=self.failed,
            deferred=self.deferred,
            more=t("lifecycle.summary.more", language) if self.more else "",
        )

    @property
    def changed(self) -> bool:
        return bool(self.dms or self.thanks or self.emails or self.failed or self.deferred)


Progress = Callable[[int, int | None], None]


class _Stop(Exception):
    """End the run early; the reason becomes `ContactRun.stopped`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class ContactSender:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        clock: Clock,
        client: WebClient,
        settings: Settings,
        policy: Policy | None = None,
        bucket: TokenBucket | None = None,
        time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress | None = None,
        after_post: Callable[[Contact], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._client = client
        self._settings = settings
        self._policy = policy or Policy.from_settings(settings)
        self._bucket = bucket or TokenBucket(
            settings.contacts_per_minute, monotonic=monotonic, sleep=sleep
        )
        self._monotonic = monotonic
        self._deadline = monotonic() + time_budget
        self._progress = progress
        # Tests inject a crash right after Slack took a DM, before its result is recorded.
        self._after_post = after_post
        self._locales = LocaleResolver(
            client=client, session_factory=session_factory, default=settings.default_locale
        )
        self._terms = ContactTerms(
            inactive_days=self._policy.inactive_days,
            email_after_days=self._policy.email_after_days,
            grace_days=self._policy.grace_days,
        )
        self.result = ContactRun()
        self._done = 0
        self._total: int | None = None

    # -- the run --------------------------------------------------------------------------

    def run(self) -> ContactRun:
        if not in_contact_hours(self._clock.now(), self._settings.zone):
            self.result.stopped = "hours"
            return self.result
        now = self._clock.now()
        with self._session_factory.begin() as session:
            lifecycle.end_on_activity(session, now=now)
            lifecycle.end_for_exempt(session, now=now)
            lifecycle.plan_thanks(session, now=now)
            lifecycle.reconcile_emails(session, now=now)
            lifecycle.drop_unsent_attempts(session)
            lifecycle.sync_member_status(session, now=now)
            self._total = lifecycle.pending_contacts(session, now=now)
        self._report()
        try:
            self._recover()
            self._queue_emails()
            self._send_dms()
            self._queue_emails()  # after a DM Slack refused, the email goes at once
        except _Stop as stop:
            self.result.stopped = stop.reason
        self.result.waited_seconds = self._bucket.waited
        return self.result

    def _can_go_on(self) -> bool:
        if self._monotonic() >= self._deadline:
            self.result.stopped = "time budget"
            return False
        if not in_contact_hours(self._clock.now(), self._settings.zone):
            self.result.stopped = "hours"
            return False
        return True

    def _report(self, step: int = 0) -> None:
        self._done += step
        if self._progress is not None:
            self._progress(self._done, self._total)

    def _count_error(self, error: str) -> None:
        self.result.errors[error] = self.result.errors.get(error, 0) + 1

    # -- Slack calls ------------------------------------------------------------------------

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """One paced call; `ratelimited` waits as told and tries again. Transient and token
        failures end the run; a final error is the caller's to read."""
        while True:
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
            log.warning("Slack unavailable (%s); the next run goes on", failure.error)
            raise _Stop("slack unavailable") from exc
        if failure.auth:
            alert_auth_failure(failure, job="lifecycle-contacts")
            raise _Stop("slack auth") from exc

    def _wait(self, seconds: float) -> None:
        if self._monotonic() + seconds >= self._deadline:
            raise _Stop("time budget")  # the next run picks up from here
        self.result.rate_limited += 1
        log.info("Slack asked to wait %.0f s (ratelimited); waiting", seconds)
        self._bucket.hold(seconds)

    # -- 2. DMs a dead sender left in flight ---------------------------------------------

    def _recover(self) -> None:
        with self._session_factory() as session:
            stale = lifecycle.stale_claims(session, now=self._clock.now())
        for contact in stale:
            try:
                posted = self._find_in_slack(contact)
            except SLACK_CALL_ERRORS as exc:  # final ones only: _call stops on the others
                failure = classify(exc)
                if failure.member_specific:
                    self._settle(contact, error=failure.error)
                else:
                    log.warning("cannot check DM %s in Slack (%s); later", contact.key, failure)
                continue
            with self._session_factory.begin() as session:
                if posted:
                    claimed = contact.claimed_at or self._clock.now()
                    lifecycle.settle(session, contact=contact, at=claimed, policy=self._policy)
                    self.result.recovered += 1
                else:
                    lifecycle.release(session, attempt_id=contact.attempt_id)
                    self.result.resent += 1  # sent by the DM loop below
            log.info("DM %s left in flight: %s", contact.key, "found" if posted else "resending")

    def _find_in_slack(self, contact: Contact) -> bool:
        return bot_dm_carries(
            self._client,
            contact.slack_user_id,
            contact_block_id(contact.key),
            call=self._call,
        )

    # -- 3. emails ----------------------------------------------------------------------------

    def _queue_emails(self) -> None:
        while self._can_go_on():
            with self._session_factory.begin() as session:
                due = lifecycle.due_emails(session, now=self._clock.now(), limit=CHUNK)
                for contact in due:
                    self._queue_email(session, contact)
            self._report(len(due))
            if len(due) < CHUNK:
                return

    def _queue_email(self, session: Any, contact: Contact) -> None:
        if not contact.email:
            lifecycle.fail_email(session, contact=contact, error="no email address on record")
            self.result.failed += 1
            return
        language = as_language(contact.locale, self._settings.default_locale)
        email = contact_email(name=contact.name, terms=self._terms, language=language)
        try:
            queue_email(
                session,
                clock=self._clock,
                key=lifecycle.outbox_key(contact.key),
                to=contact.email,
                subject=email.subject,
                body=email.body,
            )
        except ValueError as exc:  # an address the outbox cannot take
            lifecycle.fail_email(session, contact=contact, error=f"unusable address: {exc}")
            self.result.failed += 1
            return
        self.result.emails += 1

    # -- 4. DMs -----------------------------------------------------------------------------

    def _send_dms(self) -> None:
        while self._can_go_on():
            now = self._clock.now()
            with self._session_factory.begin() as session:
                lifecycle.plan_first_contacts(session, now=now, limit=CHUNK)
                due = lifecycle.due_dms(session, now=now, limit=CHUNK)
            if not due:
                return
            for contact in due:
                if not self._can_go_on():
                    return
                self._send_dm(contact)
                self._report(1)

    def _send_dm(self, contact: Contact) -> None:
        while True:
            try:
                until = self._dnd_until(contact)
                if until is not None:
                    with self._session_factory.begin() as session:
                        lifecycle.defer(session, attempt_id=contact.attempt_id, until=until)
                    self.result.deferred += 1
                    return
                self._claim_and_post(contact)
                return
            except _RateLimited as limited:
                self._wait(limited.seconds)

    def _dnd_until(self, contact: Contact) -> datetime | None:
        """When the member's do-not-disturb ends, if they are in it now."""
        try:
            dnd = self._call(self._client.dnd_info, user=contact.slack_user_id)
        except SLACK_CALL_ERRORS as exc:  # final for this member: the post will tell
            log.info("dnd.info for %s: %s; sending anyway", contact.slack_user_id, _error(exc))
            return None
        now = self._clock.now().timestamp()
        ends: list[float] = []
        if dnd.get("snooze_enabled") and float(dnd.get("snooze_endtime") or 0) > now:
            ends.append(float(dnd["snooze_endtime"]))
        start, end = (
            float(dnd.get("next_dnd_start_ts") or 0),
            float(dnd.get("next_dnd_end_ts") or 0),
        )
        if dnd.get("dnd_enabled") and start <= now < end:
            ends.append(end)
        return datetime.fromtimestamp(max(ends), UTC) if ends else None

    def _claim_and_post(self, contact: Contact) -> None:
        with self._session_factory.begin() as session:
            if not lifecycle.claim(session, attempt_id=contact.attempt_id, now=self._clock.now()):
                return  # another sender has it, or the round ended meanwhile
        language = (
            as_language(contact.locale, self._settings.default_locale)
            if contact.locale
            else self._locales.for_user(contact.slack_user_id)
        )
        if contact.number == lifecycle.THANKS:
            blocks, text = thanks_dm_blocks(contact.key, language), thanks_dm_text(language)
        else:
            blocks = contact_dm_blocks(
                contact.key, language, terms=self._terms, last_active=contact.last_active
            )
            text = contact_dm_text(language)
        # No token of its own: the contact's dnd.info took this contact's one.
        try:
            self._client.chat_postMessage(
                channel=contact.slack_user_id, blocks=to_dicts(blocks), text=text
            )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient and failure.maybe_delivered:
                # Unknown whether Slack took it: the claim stays, the next run looks in Slack.
                log.warning("DM %s: %s; checked in Slack next run", contact.key, failure.error)
                raise _Stop("slack unavailable") from exc
            if failure.transient or failure.auth:
                # Slack refused it: certainly not posted. Give the claim back.
                with self._session_factory.begin() as session:
                    lifecycle.release(session, attempt_id=contact.attempt_id)
                if failure.retry_after is not None:
                    raise _RateLimited(failure.retry_after) from exc
                self._stop_unless_final(failure, exc)
            self._settle(contact, error=failure.error)
            return
        if self._after_post is not None:
            self._after_post(contact)
        self._settle(contact)

    def _settle(self, contact: Contact, *, error: str | None = None) -> None:
        with self._session_factory.begin() as session:
            lifecycle.settle(
                session, contact=contact, at=self._clock.now(), policy=self._policy, error=error
            )
        if error:
            self.result.failed += 1
            self._count_error(error)
            log.warning("DM %s to %s failed: %s", contact.key, contact.slack_user_id, error)
        elif contact.number == lifecycle.THANKS:
            self.result.thanks += 1
        else:
            self.result.dms += 1
