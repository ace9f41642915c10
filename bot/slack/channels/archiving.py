"""Answers to the dormancy round in Slack: the question's message once answered, and the
secretariat's one click that archives a listed channel and marks it on the list."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.decided import AlreadyDecided
from bot.domain.channels import ArchiveResult
from bot.i18n import Language
from bot.services.channels import dormancy
from bot.slack.channels.base import ChannelAdapter, ChannelConfig
from bot.slack.channels.dormancy import DormancyRound
from bot.slack.wiring import SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.channels import dormancy as views

log = logging.getLogger(__name__)

_REFUSED = ("cant_archive_general", "cant_archive_required")


class DormancyAnswers(ChannelAdapter):
    def __init__(
        self, wiring: SlackWiring, config: ChannelConfig, *, dormancy: DormancyRound
    ) -> None:
        super().__init__(wiring, config)
        self._round = dormancy

    def show_answer(
        self, container: Mapping[str, Any], *, review_id: int, language: Language
    ) -> None:
        """The question's buttons give way to who decided what (`container`: where the
        clicked message is)."""
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not (channel and ts):
            return
        item = self._round.item(review_id)
        self._client.chat_update(
            channel=str(channel),
            ts=str(ts),
            blocks=to_dicts(views.dormancy_answered_blocks(item, language)),
            text=views.dormancy_ask_text(item, language, reminder=False),
        )

    def archive_listed(self, review_id: int, actor: str) -> ArchiveResult:
        """The secretariat's one click: archive in Slack, then record it once."""
        with self._session_factory() as session:
            try:
                review = dormancy.archivable(session, review_id)
            except AlreadyDecided as exc:
                return ArchiveResult("decided", outcome=exc.status)
            channel_id = dormancy.channel_of(session, review).slack_channel_id
            protected = dormancy.protected_channel_ids(session, self._config.kyoso_channels)
        if channel_id in protected:
            self._refused(review_id, actor, "protected")
            return ArchiveResult("refused", error="protected", slack_channel_id=channel_id)
        try:
            self._client.conversations_archive(channel=channel_id)
        except SLACK_CALL_ERRORS as exc:
            error = error_code(exc)
            if error in _REFUSED:
                self._refused(review_id, actor, error)
                return ArchiveResult("refused", error=error, slack_channel_id=channel_id)
            if error != "already_archived":
                return ArchiveResult("failed", error=error, slack_channel_id=channel_id)
        with self._session_factory.begin() as session:
            done = dormancy.mark_archived(
                session, clock=self._clock, review_id=review_id, actor=actor
            )
            outcome = dormancy.get_review(session, review_id).outcome.value
        if not done:
            return ArchiveResult("decided", outcome=outcome, slack_channel_id=channel_id)
        return ArchiveResult("archived", slack_channel_id=channel_id)

    def _refused(self, review_id: int, actor: str, error: str) -> None:
        with self._session_factory.begin() as session:
            dormancy.mark_archive_refused(
                session, clock=self._clock, review_id=review_id, actor=actor, error=error
            )

    def refresh_list(self, container: Mapping[str, Any], review_ids: Sequence[int]) -> None:
        """Re-render the secretariat's list in place: archived ones lose their button."""
        channel = container.get("channel_id")
        if not review_ids or not channel:
            return
        items = [self._round.item(review_id) for review_id in review_ids]
        language = self._config.language
        try:
            self._client.chat_update(
                channel=str(channel),
                ts=str(container["message_ts"]),
                blocks=to_dicts(views.dormancy_list_blocks(items, language)),
                text=views.dormancy_list_text(len(items), language),
            )
        except SLACK_CALL_ERRORS as exc:  # the archive itself is done and recorded
            log.warning("dormant list not updated: %s", error_code(exc))
