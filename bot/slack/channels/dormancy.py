"""The weekly dormant-channel round in Slack: read a quiet channel's history where its
activity is unknown, ask its facilitators (or the secretariat), remind once, list the
unanswered and agreed ones for the secretariat, and report facilitators who left.

`conversations.history` is Tier 3 (one call every 1.2 s here) and `users.info` Tier 4."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.channels import DormantItem
from bot.services.activity import slack_ts_to_datetime
from bot.services.channels import dormancy
from bot.services.channels.facilitation import GONE_MEMBER_STATUSES, facilitators_of
from bot.services.lifecycle.policy import in_contact_hours
from bot.slack.channels.base import (
    TIER3_PACE_SECONDS,
    TIER4_PACE_SECONDS,
    ChannelAdapter,
    Pacer,
    send_dm,
)
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.channels import dormancy as views
from models import Channel

log = logging.getLogger(__name__)

_MEMBER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


@dataclass
class _Run:
    """Counts of one dormancy run."""

    counts: Counter[str] = field(default_factory=Counter)
    users: dict[str, bool] = field(default_factory=dict)  # user id → deleted in Slack
    users_pacer: Pacer | None = None


class DormancyRound(ChannelAdapter):
    def item(self, review_id: int, gone: list[str] | None = None) -> DormantItem:
        with self._session_factory() as session:
            if gone is None:
                channel = dormancy.channel_of(session, dormancy.get_review(session, review_id))
                gone = dormancy.gone_facilitators(session, channel)
            return dormancy.dormant_item(
                session,
                review_id,
                today=self._config.today(self._clock),
                dormant_days=self._config.dormant_days,
                gone=gone,
            )

    def run(
        self,
        *,
        history_pace_seconds: float = TIER3_PACE_SECONDS,
        users_pace_seconds: float = TIER4_PACE_SECONDS,
        limit: int = 200,
    ) -> dict[str, Any]:
        """The weekly round: ask about quiet or finished channels, remind once, then list the
        unanswered and agreed ones for the secretariat to archive. Only on a business day in
        business hours (kind hours): a round that falls on a holiday waits for the next one,
        which finds the same channels."""
        now, today = self._clock.now(), self._config.today(self._clock)
        if not in_contact_hours(now, self._config.zone):
            return {"skipped": "outside contact hours"}
        run = _Run(users_pacer=Pacer(users_pace_seconds))
        threshold = now - timedelta(days=self._config.dormant_days)
        with self._session_factory() as session:
            protected = dormancy.protected_channel_ids(session, self._config.kyoso_channels)
            candidates = dormancy.dormancy_candidates(
                session,
                now=now,
                today=today,
                dormant_days=self._config.dormant_days,
                protected=protected,
            )
        pacer = Pacer(history_pace_seconds)
        for candidate in candidates[:limit]:
            channel, reason = candidate.channel, candidate.reason
            if reason == "unknown":
                pacer.wait()
                known, latest = self._latest_message(channel.slack_channel_id)
                run.counts["history_checked"] += 1
                if not known:
                    run.counts["unknown"] += 1
                    continue
                if latest is not None:
                    with self._session_factory.begin() as session:
                        dormancy.record_activity(
                            session, slack_channel_id=channel.slack_channel_id, at=latest
                        )
                    if latest >= threshold:
                        continue
                reason = "quiet"
            with self._session_factory.begin() as session:
                review = dormancy.start_review(
                    session, clock=self._clock, channel=channel, today=today, reason=reason
                )
                review_id = review.id if review is not None else None
            if review_id is not None:
                self._ask(run, review_id, reminder=False)
        with self._session_factory() as session:
            due = [r.id for r in dormancy.due_reminders(session, now=now)]
        for review_id in due:
            with self._session_factory.begin() as session:
                claimed = dormancy.claim_reminder(session, clock=self._clock, review_id=review_id)
            if claimed:
                self._ask(run, review_id, reminder=True)
        run.counts["listed"] += self._list_for_archiving(run, now)
        run.counts["left_reported"] += self._report_left(run)
        return dict(run.counts)

    def _deleted_in_slack(self, run: _Run, user_id: str) -> bool:
        if user_id not in run.users:
            if run.users_pacer is not None:
                run.users_pacer.wait()
            try:
                user = self._client.users_info(user=user_id)["user"]
                run.users[user_id] = bool(user.get("deleted"))
            except SlackApiError as exc:
                run.users[user_id] = error_code(exc) in ("user_not_found", "account_inactive")
            except SLACK_CALL_ERRORS:
                run.users[user_id] = False  # unknown: keep asking them
        return run.users[user_id]

    def _people(self, run: _Run, channel: Channel) -> tuple[list[str], list[str]]:
        """(facilitators to ask, facilitators who left the workspace)."""
        with self._session_factory() as session:
            everyone = facilitators_of(session, channel)
        active: list[str] = []
        gone: list[str] = []
        for member in everyone:
            left = member.status in GONE_MEMBER_STATUSES or self._deleted_in_slack(
                run, member.slack_user_id
            )
            (gone if left else active).append(member.slack_user_id)
        return active, gone

    def _channel_of(self, review_id: int) -> Channel:
        with self._session_factory() as session:
            return dormancy.channel_of(session, dormancy.get_review(session, review_id))

    def _latest_message(self, slack_channel_id: str) -> tuple[bool, datetime | None]:
        """(known, latest member message) from conversations.history; joins if need be."""
        for attempt in range(2):
            try:
                response = self._client.conversations_history(channel=slack_channel_id, limit=20)
            except SlackApiError as exc:
                if error_code(exc) == "not_in_channel" and attempt == 0:
                    try:
                        self._client.conversations_join(channel=slack_channel_id)
                    except SLACK_CALL_ERRORS as join_exc:
                        log.info("cannot join %s: %s", slack_channel_id, error_code(join_exc))
                        return False, None
                    continue
                log.info("history of %s unavailable: %s", slack_channel_id, error_code(exc))
                return False, None
            except SLACK_CALL_ERRORS:
                return False, None
            for message in response.get("messages") or []:
                if message.get("bot_id") or message.get("subtype") not in _MEMBER_SUBTYPES:
                    continue
                return True, slack_ts_to_datetime(str(message["ts"]))
            return True, None
        return False, None

    def _ask(self, run: _Run, review_id: int, *, reminder: bool) -> None:
        active, gone = self._people(run, self._channel_of(review_id))
        item = self.item(review_id, gone)
        if gone:
            run.counts["facilitators_left"] += len(gone)
        sent = 0
        for user_id in active:
            language = self._locales.for_user(user_id)
            blocks = views.dormancy_ask_blocks(
                item, language, reminder=reminder, to_secretariat=False
            )
            sent += send_dm(
                self._client,
                user_id,
                to_dicts(blocks),
                views.dormancy_ask_text(item, language, reminder=reminder),
            )
        if not active:
            sent += self._ask_secretariat(item, reminder=reminder)
        run.counts["reminded" if reminder else "asked"] += 1
        run.counts["messages"] += sent

    def _ask_secretariat(self, item: DormantItem, *, reminder: bool) -> int:
        language = self._config.language
        blocks = to_dicts(
            views.dormancy_ask_blocks(item, language, reminder=reminder, to_secretariat=True)
        )
        text = views.dormancy_ask_text(item, language, reminder=reminder)
        if self._config.review_channel is not None:
            try:
                self._client.chat_postMessage(
                    channel=self._config.review_channel, blocks=blocks, text=text
                )
                return 1
            except SLACK_CALL_ERRORS as exc:
                log.warning("dormancy question not posted: %s", error_code(exc))
                return 0
        with self._session_factory() as session:
            secretaries = dormancy.secretariat_ids(session)
        return sum(send_dm(self._client, user_id, blocks, text) for user_id in secretaries)

    def _list_for_archiving(self, run: _Run, now: datetime) -> int:
        review_channel = self._config.review_channel
        if review_channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL unset: dormant channels are not listed")
            return 0
        with self._session_factory.begin() as session:
            ids = [r.id for r in dormancy.claim_listing(session, clock=self._clock, now=now)]
        items = []
        for review_id in ids:
            _, gone = self._people(run, self._channel_of(review_id))
            items.append(self.item(review_id, gone))
        language = self._config.language
        for start in range(0, len(items), views.DORMANCY_LIST_MAX):
            chunk = items[start : start + views.DORMANCY_LIST_MAX]
            try:
                self._client.chat_postMessage(
                    channel=review_channel,
                    blocks=to_dicts(views.dormancy_list_blocks(chunk, language)),
                    text=views.dormancy_list_text(len(chunk), language),
                )
            except SLACK_CALL_ERRORS as exc:
                log.warning("dormant list not posted: %s; listed again next run", error_code(exc))
                with self._session_factory.begin() as session:
                    dormancy.unclaim_listing(session, review_ids=[i.review_id for i in chunk])
                return start
        return len(items)

    def _report_left(self, run: _Run) -> int:
        """Facilitators who left the workspace, reported once per channel to the secretariat."""
        if self._config.review_channel is None:
            return 0
        rows: list[tuple[str, list[str]]] = []
        with self._session_factory() as session:
            watched = dormancy.channels_with_facilitators(session)
        for channel in watched:
            _, gone = self._people(run, channel)
            if not gone:
                continue
            with self._session_factory.begin() as session:
                new = [
                    user_id
                    for user_id in gone
                    if dormancy.claim_left_report(
                        session, clock=self._clock, channel=channel, slack_user_id=user_id
                    )
                ]
            if new:
                rows.append((channel.slack_channel_id, new))
        if not rows:
            return 0
        blocks = to_dicts(views.left_facilitators_blocks(rows, self._config.language))
        try:
            self._client.chat_postMessage(
                channel=self._config.review_channel, blocks=blocks, text=blocks[0]["text"]["text"]
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("left facilitators not reported: %s", error_code(exc))
        return len(rows)
