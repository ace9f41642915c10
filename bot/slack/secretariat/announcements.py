"""Announcements in Slack: each recipient's DM (paced, resumable, in business hours, never
twice), the progress message in the review channel edited in place, the test send to the
secretariat member, and a channel's members as an audience.

One run (bot/services/secretariat/announcements.py records each step):
1. settles DMs a dead sender left in flight: if the DM is in the member's IM history (its
   first block carries the recipient key) it was sent, otherwise it is sent again;
2. sends due DMs of announcements being sent, one by one: postpone members in
   do-not-disturb, claim the recipient in a committed transaction, post, record the result;
3. marks announcements with nobody left DONE and edits every touched progress message with
   the true counts (the undeliverable recipients listed at the end).

Pacing, failures and business hours are those of every bulk DM sender
(bot/slack/paced_dms.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Language
from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.secretariat import announcements
from bot.services.secretariat.announcements import AnnouncementDM
from bot.slack.lifecycle.pacing import TokenBucket
from bot.slack.paced_dms import DEFAULT_TIME_BUDGET_SECONDS, PacedDMSender
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.secretariat.announcements import (
    dm_block_id,
    dm_blocks,
    dm_text,
    progress_blocks,
    progress_text,
)
from models import Announcement, AnnouncementStatus

CHUNK = 100  # recipients fetched per round trip
MAX_CHANNEL_MEMBERS = 20_000

log = logging.getLogger(__name__)


@dataclass
class AnnouncementRun:
    dms: int = 0
    failed: int = 0
    deferred: int = 0
    recovered: int = 0  # DMs a dead sender had posted, found in Slack and recorded
    resent: int = 0  # DMs a dead sender had not posted, sent again
    rate_limited: int = 0
    waited_seconds: float = 0.0
    finished: list[str] = field(default_factory=list)  # announcements done in this run
    stopped: str = "done"  # done | hours | time budget | slack unavailable | slack auth
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["waited_seconds"] = round(self.waited_seconds, 1)
        return out


class AnnouncementProgress(ReviewPost):
    """The review channel's message about one announcement, edited in place."""

    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(
            wiring,
            Placement(
                key=Announcement.public_id,
                channel=Announcement.progress_channel_id,
                ts=Announcement.progress_ts,
            ),
            render=self._rendered,
            what="announcement",
            unfurl=False,
        )
        self._language: Language = wiring.settings.default_locale

    def _rendered(self, public_id: str) -> Rendered:
        with self._session_factory() as session:
            found = announcements.find(session, public_id)
            if found is None:
                raise LookupError(public_id)
            counts = announcements.progress(session, announcement_id=found.id)
            failed = announcements.undeliverable(session, announcement_id=found.id)
            blocks = progress_blocks(
                public_id=public_id,
                title=found.title,
                status=found.status,
                planned=counts.planned,
                sent=counts.sent,
                failed=counts.failed,
                undeliverable=failed,
                language=self._language,
            )
        return Rendered(to_dicts(blocks), progress_text(found.title, self._language))

    def show(self, public_id: str) -> None:
        """Post or edit the message; Slack failing is logged, the next run shows it again."""
        try:
            self.refresh(public_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("announcement %s progress not shown: %s", public_id, error_code(exc))


class AnnouncementSlack(SlackAdapter):
    """Held by the gateway: a fresh sender per run (its bucket and budget), the progress
    message, the test send and a channel's members."""

    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self.wiring = wiring
        self.progress = AnnouncementProgress(wiring)

    def start(
        self,
        *,
        time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
        bucket: TokenBucket | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        after_post: Callable[[AnnouncementDM], None] | None = None,
    ) -> AnnouncementSender:
        return AnnouncementSender(
            self.wiring,
            result=AnnouncementRun(),
            time_budget=time_budget,
            bucket=bucket,
            monotonic=monotonic,
            sleep=sleep,
            after_post=after_post,
            progress_post=self.progress,
        )

    def send_test(self, public_id: str, *, user_id: str) -> bool:
        """The announcement as members will see it, to the secretariat member alone."""
        with self._session_factory() as session:
            found = announcements.find(session, public_id)
        if found is None:
            return False
        language = self._locales.for_user(user_id)
        blocks = dm_blocks(
            key=f"test:{public_id}",
            title=found.title,
            text_ja=found.text_ja,
            text_en=found.text_en,
            category=found.category,
            language=language,
        )
        self._client.chat_postMessage(
            channel=user_id, blocks=to_dicts(blocks), text=dm_text(found.title)
        )
        return True

    def show_confirmation(self, *, user_id: str, blocks: list[dict[str, Any]], text: str) -> None:
        """The preview and its buttons, to the secretariat member alone (their DM with Kyoso,
        which works wherever the command was typed)."""
        self._client.chat_postMessage(channel=user_id, blocks=blocks, text=text)

    def channel_members(self, channel_id: str) -> list[str] | None:
        """The channel's members (conversations.members, paged); None if Slack refuses."""
        members: list[str] = []
        cursor: str | None = None
        try:
            while len(members) < MAX_CHANNEL_MEMBERS:
                page = self._client.conversations_members(
                    channel=channel_id, limit=1000, cursor=cursor
                )
                members += [str(m) for m in page.get("members") or []]
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return members
        except SLACK_CALL_ERRORS as exc:
            log.info("conversations.members %s: %s", channel_id, error_code(exc))
            return None
        return members


class AnnouncementSender(PacedDMSender[AnnouncementDM, AnnouncementRun]):
    """One run; build it with `AnnouncementSlack.start`."""

    job = "secretariat-announcements"
    dm_name = "announcement DM"

    def __init__(
        self, wiring: SlackWiring, *, progress_post: AnnouncementProgress, **pace: Any
    ) -> None:  # pace: PacedDMSender's
        super().__init__(wiring, **pace)
        self._progress_post = progress_post
        self._touched: set[str] = set()

    def run(self) -> AnnouncementRun:
        with self._session_factory() as session:
            running = set(
                session.scalars(
                    select(Announcement.public_id).where(
                        Announcement.status == AnnouncementStatus.SENDING
                    )
                )
            )
        if not running:
            return self.result
        self._touched |= running
        if self._can_go_on():
            self._until_stopped(self._steps)
        with self._session_factory.begin() as session:
            self.result.finished = announcements.finish_sent(session, now=self._clock.now())
        for public_id in sorted(self._touched):
            self._progress_post.show(public_id)
        return self.result

    def _steps(self) -> None:
        with self._session_factory() as session:
            stale = announcements.stale_claims(session, now=self._clock.now(), limit=CHUNK)
        self._settle_left_in_flight(stale)
        self._send_due(self._due)

    def _due(self) -> list[AnnouncementDM]:
        with self._session_factory() as session:
            return announcements.due(session, now=self._clock.now(), limit=CHUNK)

    # -- its blocks and records -----------------------------------------------------------

    def _block_id(self, dm: AnnouncementDM) -> str:
        return dm_block_id(dm.key)

    def _message(self, dm: AnnouncementDM) -> tuple[list[dict[str, Any]], str]:
        blocks = dm_blocks(
            key=dm.key,
            title=dm.title,
            text_ja=dm.text_ja,
            text_en=dm.text_en,
            category=dm.category,
            language=self._language(dm),
        )
        return to_dicts(blocks), dm_text(dm.title)

    def _claim(self, session: Session, dm: AnnouncementDM, *, now: datetime) -> bool:
        return announcements.claim(session, recipient_id=dm.recipient_id, now=now)

    def _release(self, session: Session, dm: AnnouncementDM) -> None:
        announcements.release(session, recipient_id=dm.recipient_id)

    def _defer(self, session: Session, dm: AnnouncementDM, *, until: datetime) -> None:
        announcements.defer(session, recipient_id=dm.recipient_id, until=until)

    def _record(
        self, session: Session, dm: AnnouncementDM, *, at: datetime, error: str | None = None
    ) -> None:
        announcements.settle(session, recipient_id=dm.recipient_id, at_=at, error=error)

    def _count_sent(self, dm: AnnouncementDM) -> None:
        self.result.dms += 1
