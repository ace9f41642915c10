"""Sends the inactivity contacts: paced, resumable, in business hours, never twice.

One run (bot/services/lifecycle/contacts.py records and decides each step):
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
`chat.postMessage` (Slack allows about one per second per channel and several hundred a
minute per workspace, shared with Kyoso's interactive replies), so 40 a minute stays under
every limit with room to spare. A `ratelimited` answer (HTTP 429) gives the claim back,
pauses the bucket for the `Retry-After` Slack asked for and tries the same contact again:
nothing is lost.

Failures follow bot/slack_errors.py: a transient one (5xx, timeouts, resets) stops the run
with the attempt still due (a claim that Slack may have acted on stays, and the next run
looks in the member's IM before sending again), so no email goes out early; a refused token
stops the run and changes nothing; only errors final for the member mark the DM failed.

Business hours: contacts go out on 開庁日 between 9:00 and 17:00 in KYOSO_TIMEZONE (JST). A
run stops when the hours end or its time budget is spent; the next run continues where it
stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import Language, as_language, t
from bot.services.lifecycle import contacts
from bot.services.lifecycle.contacts import Contact
from bot.services.lifecycle.policy import THANKS, Policy, in_contact_hours
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
from bot.views.blocks import to_dicts
from bot.views.lifecycle import (
    contact_block_id,
    contact_dm_blocks,
    contact_dm_text,
    thanks_dm_blocks,
    thanks_dm_text,
)

log = logging.getLogger(__name__)

# A scheduled run stops after this long; the next hourly run continues.
DEFAULT_TIME_BUDGET_SECONDS = 50 * 60
CHUNK = 100  # attempts recorded and fetched per round trip


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


@dataclass(frozen=True)
class ContactSenders:
    """Held by the gateway: a fresh sender per run (its bucket, budget and progress)."""

    wiring: SlackWiring

    def start(
        self,
        *,
        time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
        progress: Progress | None = None,
        bucket: TokenBucket | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        after_post: Callable[[Contact], None] | None = None,
    ) -> ContactSender:
        per_minute = self.wiring.settings.contacts_per_minute
        return ContactSender(
            self.wiring,
            bucket=bucket or TokenBucket(per_minute, monotonic=monotonic, sleep=sleep),
            time_budget=time_budget,
            monotonic=monotonic,
            progress=progress,
            after_post=after_post,
        )


class _Stop(Exception):
    """End the run early; the reason becomes `ContactRun.stopped`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class ContactSender(SlackAdapter):
    """One run; build it with `ContactSenders.start`."""

    def __init__(
        self,
        wiring: SlackWiring,
        *,
        bucket: TokenBucket,
        time_budget: float,
        monotonic: Callable[[], float],
        progress: Progress | None,
        after_post: Callable[[Contact], None] | None,
    ) -> None:
        super().__init__(wiring)
        settings = wiring.settings
        self._zone = settings.zone
        self._default_language = settings.default_locale
        self._policy = Policy.from_settings(settings)
        self._terms = self._policy.contact_terms
        self._bucket = bucket
        self._monotonic = monotonic
        self._deadline = monotonic() + time_budget
        self._progress = progress
        # Tests inject a crash right after Slack took a DM, before its result is recorded.
        self._after_post = after_post
        self.result = ContactRun()
        self._done = 0
        self._total: int | None = None

    # -- the run --------------------------------------------------------------------------

    def run(self) -> ContactRun:
        if not in_contact_hours(self._clock.now(), self._zone):
            self.result.stopped = "hours"
            return self.result
        with self._session_factory.begin() as session:
            self._total = contacts.open_run(session, now=self._clock.now())
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
        if not in_contact_hours(self._clock.now(), self._zone):
            self.result.stopped = "hours"
            return False
        return True

    def _report(self, step: int = 0) -> None:
        self._done += step
        if self._progress is not None:
            self._progress(self._done, self._total)

    def _count_error(self, error: str) -> None:
        self.result.errors[error] = self.result.errors.get(error, 0) + 1

    def _language(self, contact: Contact) -> Language:
        if contact.locale:
            return as_language(contact.locale, self._default_language)
        return self._locales.for_user(contact.slack_user_id)

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
            stale = contacts.stale_claims(session, now=self._clock.now())
        for contact in stale:
            try:
                posted = bot_dm_carries(
                    self._client,
                    contact.slack_user_id,
                    contact_block_id(contact.key),
                    call=self._call,
                )
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
                    contacts.settle(session, contact=contact, at=claimed, policy=self._policy)
                    self.result.recovered += 1
                else:
                    contacts.release(session, attempt_id=contact.attempt_id)
                    self.result.resent += 1  # sent by the DM loop below
            log.info("DM %s left in flight: %s", contact.key, "found" if posted else "resending")

    # -- 3. emails ----------------------------------------------------------------------------

    def _queue_emails(self) -> None:
        while self._can_go_on():
            with self._session_factory.begin() as session:
                due = contacts.due_emails(session, now=self._clock.now(), limit=CHUNK)
                for contact in due:
                    language = as_language(contact.locale, self._default_language)
                    queued = contacts.queue_contact_email(
                        session,
                        clock=self._clock,
                        contact=contact,
                        terms=self._terms,
                        language=language,
                    )
                    if queued:
                        self.result.emails += 1
                    else:
                        self.result.failed += 1
            self._report(len(due))
            if len(due) < CHUNK:
                return

    # -- 4. DMs -----------------------------------------------------------------------------

    def _send_dms(self) -> None:
        while self._can_go_on():
            now = self._clock.now()
            with self._session_factory.begin() as session:
                contacts.plan_first_contacts(session, now=now, limit=CHUNK)
                due = contacts.due_dms(session, now=now, limit=CHUNK)
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
                        contacts.defer(session, attempt_id=contact.attempt_id, until=until)
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
            log.info("dnd.info for %s: %s; sending anyway", contact.slack_user_id, error_code(exc))
            return None
        answer = dnd.data if isinstance(dnd.data, dict) else {}
        return contacts.dnd_ends(answer, now=self._clock.now())

    def _claim_and_post(self, contact: Contact) -> None:
        with self._session_factory.begin() as session:
            if not contacts.claim(session, attempt_id=contact.attempt_id, now=self._clock.now()):
                return  # another sender has it, or the round ended meanwhile
        language = self._language(contact)
        if contact.number == THANKS:
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
                    contacts.release(session, attempt_id=contact.attempt_id)
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
            contacts.settle(
                session, contact=contact, at=self._clock.now(), policy=self._policy, error=error
            )
        if error:
            self.result.failed += 1
            self._count_error(error)
            log.warning("DM %s to %s failed: %s", contact.key, contact.slack_user_id, error)
        elif contact.number == THANKS:
            self.result.thanks += 1
        else:
            self.result.dms += 1
