"""Sends the 異動 season's DMs: the survey, then the reminders; paced, resumable, in business
hours, never twice.

One run (bot/services/transfers/season*.py record and decide each step):
1. stages the season's contacts (set-based: the survey from its day, reminders from theirs)
   and drops unsent ones nobody needs any more (answered, confirmed, left);
2. settles DMs a dead sender left in flight: if the DM is in the member's IM history (its
   first block carries the contact key) it was sent, otherwise it is sent again;
3. sends due DMs one by one: postpone members in do-not-disturb, claim the contact in a
   committed transaction, post, record the result.

Pacing, failures and business hours are those of every bulk DM sender
(bot/slack/paced_dms.py): one token bucket per run at KYOSO_CONTACTS_PER_MINUTE, Retry-After
honoured, a transient failure stops the run with nothing lost, only errors final for the
member mark the contact failed; DMs go out on 開庁日 between 9:00 and 17:00 in
KYOSO_TIMEZONE."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.services.transfers import season, season_contacts
from bot.services.transfers.season_calendar import SeasonCalendar
from bot.services.transfers.season_contacts import SeasonDM
from bot.slack.lifecycle.pacing import TokenBucket
from bot.slack.paced_dms import DEFAULT_TIME_BUDGET_SECONDS, PacedDMSender
from bot.slack.wiring import SlackWiring
from bot.views.blocks import to_dicts
from bot.views.transfers.season import (
    reminder_dm_blocks,
    reminder_dm_text,
    season_block_id,
    survey_dm_blocks,
    survey_dm_text,
)
from models import SeasonContactKind

CHUNK = 100  # contacts fetched per round trip


@dataclass
class SeasonRun:
    season: int | None = None
    surveys_staged: int = 0
    reminders_staged: int = 0
    dropped: int = 0  # unsent contacts nobody needed any more
    dms: int = 0
    failed: int = 0
    deferred: int = 0
    recovered: int = 0  # DMs a dead sender had posted, found in Slack and recorded
    resent: int = 0  # DMs a dead sender had not posted, sent again
    rate_limited: int = 0
    waited_seconds: float = 0.0
    stopped: str = "done"  # done | outside the window | hours | time budget | slack …
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["waited_seconds"] = round(self.waited_seconds, 1)
        return out


@dataclass(frozen=True)
class SeasonSenders:
    """Held by the gateway: a fresh sender per run (its bucket and budget)."""

    wiring: SlackWiring

    def start(
        self,
        *,
        time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
        bucket: TokenBucket | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        after_post: Callable[[SeasonDM], None] | None = None,
    ) -> SeasonSender:
        return SeasonSender(
            self.wiring,
            result=SeasonRun(),
            time_budget=time_budget,
            bucket=bucket,
            monotonic=monotonic,
            sleep=sleep,
            after_post=after_post,
        )


class SeasonSender(PacedDMSender[SeasonDM, SeasonRun]):
    """One run; build it with `SeasonSenders.start`."""

    job = "transfers-season"
    dm_name = "season DM"

    def __init__(self, wiring: SlackWiring, **pace: Any) -> None:  # pace: PacedDMSender's
        super().__init__(wiring, **pace)
        self._calendar = SeasonCalendar.from_settings(wiring.settings)

    # -- the run --------------------------------------------------------------------------

    def run(self) -> SeasonRun:
        now = self._clock.now()
        with self._session_factory.begin() as session:
            staged = season.stage(session, now=now, zone=self._zone, calendar=self._calendar)
            current = staged["season"]
            if current is not None:
                self.result.dropped = season_contacts.drop_unwanted(session, season=current)
        self.result.season = current
        self.result.surveys_staged = staged["surveys"] or 0
        self.result.reminders_staged = staged["reminders"] or 0
        if current is None:
            self.result.stopped = "outside the window"
            return self.result
        if not self._can_go_on():
            return self.result
        return self._until_stopped(lambda: self._steps(current))

    def _steps(self, current: int) -> None:
        with self._session_factory() as session:
            stale = season_contacts.stale_claims(
                session, season=current, now=self._clock.now(), limit=CHUNK
            )
        self._settle_left_in_flight(stale)
        self._send_due(lambda: self._due(current))

    def _due(self, current: int) -> list[SeasonDM]:
        with self._session_factory() as session:
            return season_contacts.due(session, season=current, now=self._clock.now(), limit=CHUNK)

    # -- its blocks and records -----------------------------------------------------------

    def _block_id(self, dm: SeasonDM) -> str:
        return season_block_id(dm.key)

    def _message(self, dm: SeasonDM) -> tuple[list[dict[str, Any]], str]:
        language = self._language(dm)
        if dm.kind is SeasonContactKind.REMINDER:
            return to_dicts(reminder_dm_blocks(dm.key, language)), reminder_dm_text(language)
        until = self._calendar.window(dm.season)[1]
        blocks = survey_dm_blocks(dm.key, language, season=dm.season, until=until)
        return to_dicts(blocks), survey_dm_text(language)

    def _claim(self, session: Session, dm: SeasonDM, *, now: datetime) -> bool:
        return season_contacts.claim(session, contact_id=dm.contact_id, now=now)

    def _release(self, session: Session, dm: SeasonDM) -> None:
        season_contacts.release(session, contact_id=dm.contact_id)

    def _defer(self, session: Session, dm: SeasonDM, *, until: datetime) -> None:
        season_contacts.defer(session, contact_id=dm.contact_id, until=until)

    def _record(
        self, session: Session, dm: SeasonDM, *, at: datetime, error: str | None = None
    ) -> None:
        season_contacts.settle(session, contact_id=dm.contact_id, at_=at, error=error)

    def _count_sent(self, dm: SeasonDM) -> None:
        self.result.dms += 1
