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

Pacing, failures and business hours are those of every bulk DM sender
(bot/slack/paced_dms.py): a token bucket per run at `KYOSO_CONTACTS_PER_MINUTE`, Retry-After
honoured, a transient failure stops the run with nothing lost (so no email goes out early),
a refused token stops it and changes nothing, only errors final for the member mark the DM
failed; contacts go out on 開庁日 between 9:00 and 17:00, and the next run continues where
this one stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.i18n import Language, as_language, t
from bot.services.lifecycle import contacts
from bot.services.lifecycle.contacts import Contact
from bot.services.lifecycle.policy import THANKS, Policy, in_contact_hours
from bot.slack.lifecycle.pacing import Progress, TokenBucket
from bot.slack.paced_dms import DEFAULT_TIME_BUDGET_SECONDS, PacedDMSender
from bot.slack.wiring import SlackWiring
from bot.views.blocks import to_dicts
from bot.views.lifecycle import (
    contact_block_id,
    contact_dm_blocks,
    contact_dm_text,
    thanks_dm_blocks,
    thanks_dm_text,
)

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
        return ContactSender(
            self.wiring,
            result=ContactRun(),
            time_budget=time_budget,
            bucket=bucket,
            monotonic=monotonic,
            sleep=sleep,
            after_post=after_post,
            progress=progress,
        )


class ContactSender(PacedDMSender[Contact, ContactRun]):
    """One run; build it with `ContactSenders.start`."""

    job = "lifecycle-contacts"

    def __init__(self, wiring: SlackWiring, **pace: Any) -> None:  # pace: PacedDMSender's
        super().__init__(wiring, **pace)
        self._policy = Policy.from_settings(wiring.settings)
        self._terms = self._policy.contact_terms

    # -- the run --------------------------------------------------------------------------

    def run(self) -> ContactRun:
        if not in_contact_hours(self._clock.now(), self._zone):
            self.result.stopped = "hours"
            return self.result
        with self._session_factory.begin() as session:
            self._total = contacts.open_run(session, now=self._clock.now())
        self._report()
        return self._until_stopped(self._steps)

    def _steps(self) -> None:
        self._recover()
        self._queue_emails()
        self._send_due(self._next_dms)
        self._queue_emails()  # after a DM Slack refused, the email goes at once

    # -- 2. DMs a dead sender left in flight ---------------------------------------------

    def _recover(self) -> None:
        with self._session_factory() as session:
            stale = contacts.stale_claims(session, now=self._clock.now())
        self._settle_left_in_flight(stale)

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

    # -- 4. DMs: first contacts planned a chunk at a time, then what is due ----------------

    def _next_dms(self) -> list[Contact]:
        now = self._clock.now()
        with self._session_factory.begin() as session:
            contacts.plan_first_contacts(session, now=now, limit=CHUNK)
            return contacts.due_dms(session, now=now, limit=CHUNK)

    def _block_id(self, dm: Contact) -> str:
        return contact_block_id(dm.key)

    def _message(self, dm: Contact) -> tuple[list[dict[str, Any]], str]:
        language = self._language(dm)
        if dm.number == THANKS:
            return to_dicts(thanks_dm_blocks(dm.key, language)), thanks_dm_text(language)
        blocks = contact_dm_blocks(dm.key, language, terms=self._terms, last_active=dm.last_active)
        return to_dicts(blocks), contact_dm_text(language)

    def _claim(self, session: Session, dm: Contact, *, now: datetime) -> bool:
        return contacts.claim(session, attempt_id=dm.attempt_id, now=now)

    def _release(self, session: Session, dm: Contact) -> None:
        contacts.release(session, attempt_id=dm.attempt_id)

    def _defer(self, session: Session, dm: Contact, *, until: datetime) -> None:
        contacts.defer(session, attempt_id=dm.attempt_id, until=until)

    def _record(
        self, session: Session, dm: Contact, *, at: datetime, error: str | None = None
    ) -> None:
        contacts.settle(session, contact=dm, at=at, policy=self._policy, error=error)

    def _count_sent(self, dm: Contact) -> None:
        if dm.number == THANKS:
            self.result.thanks += 1
        else:
            self.result.dms += 1
