"""The lifecycle's messages to the secretariat: each run's one-line summary and the weekly
flagged list in the review channel, and answers by DM where a click has no response_url."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.lifecycle import FlaggedBatch, ListTerms
from bot.i18n import Language
from bot.views.blocks import to_dicts
from bot.views.lifecycle import weekly_summary_blocks, weekly_summary_text

log = logging.getLogger(__name__)


class LifecycleMessages:
    def __init__(
        self, *, client: WebClient, review_channel: str | None, language: Language
    ) -> None:
        self._client = client
        self._review_channel = review_channel
        self.language = language

    def post_summary(self, text: str) -> bool:
        """A run's summary line in the review channel; False when it could not go."""
        if self._review_channel is None:
            return False
        try:
            self._client.chat_postMessage(channel=self._review_channel, text=text)
        except (SlackApiError, SlackClientError) as exc:
            log.warning("summary not posted to the review channel: %s", exc)
            return False
        return True

    def post_weekly(self, listing: FlaggedBatch, *, terms: ListTerms) -> bool:
        """Counts and the first batch of flagged members, with approve and restore buttons;
        False without a review channel."""
        if self._review_channel is None:
            return False
        blocks = weekly_summary_blocks(listing.overview, listing.batch, self.language, terms=terms)
        self._client.chat_postMessage(
            channel=self._review_channel,
            blocks=to_dicts(blocks),
            text=weekly_summary_text(listing.overview, self.language),
        )
        return True

    def dm(self, user_id: str, **message: Any) -> None:
        """An answer to a click on the App Home (a view has no response_url)."""
        message.pop("replace_original", None)
        message.pop("response_type", None)
        self._client.chat_postMessage(channel=user_id, **message)
