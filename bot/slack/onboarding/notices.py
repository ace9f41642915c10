"""The secretariat's onboarding messages in the review channel, in the workspace's language."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.onboarding import StuckMember, UnmatchedJoin
from bot.i18n import Language
from bot.slack_errors import error_code
from bot.views.blocks import to_dicts
from bot.views.onboarding.secretariat import (
    stuck_report_blocks,
    stuck_report_text,
    unmatched_join_blocks,
    unmatched_join_text,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SecretariatNotices:
    client: WebClient
    review_channel: str | None
    language: Language

    def unmatched_join(self, joiner: UnmatchedJoin) -> None:
        """Tell the secretariat, best effort; never remove anyone automatically."""
        if self.review_channel is None:
            log.warning(
                "%s joined without an application (KYOSO_REVIEW_CHANNEL unset)",
                joiner.slack_user_id,
            )
            return
        try:
            self.client.chat_postMessage(
                channel=self.review_channel,
                blocks=to_dicts(unmatched_join_blocks(joiner, self.language)),
                text=unmatched_join_text(joiner, self.language),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("alert for %s not posted: %s", joiner.slack_user_id, error_code(exc))

    def stuck_report(self, stuck: Sequence[StuckMember], *, min_business_days: int) -> bool:
        """The daily list; False where there is no review channel to post it to."""
        if self.review_channel is None:
            log.warning("%d members stuck in onboarding; KYOSO_REVIEW_CHANNEL unset", len(stuck))
            return False
        blocks = stuck_report_blocks(stuck, self.language, min_business_days=min_business_days)
        self.client.chat_postMessage(
            channel=self.review_channel,
            blocks=to_dicts(blocks),
            text=stuck_report_text(len(stuck), self.language),
        )
        return True
