"""What a member hears after submitting the request modal: the receipt, and the similar
channels they could join instead (not repeated when the same form is sent again)."""

from __future__ import annotations

import logging

from bot.domain.channels import Similar, Submitted
from bot.i18n import Language, t
from bot.services.channels.requests import SimilarNotices
from bot.slack.channels.base import ChannelAdapter, ChannelConfig, send_dm
from bot.slack.wiring import SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.text import escape_mrkdwn
from bot.views.blocks import to_dicts
from bot.views.channels import requests as request_views

log = logging.getLogger(__name__)


class RequestReceipts(ChannelAdapter):
    def __init__(
        self,
        wiring: SlackWiring,
        config: ChannelConfig,
        *,
        notices: SimilarNotices | None = None,
    ) -> None:
        super().__init__(wiring, config)
        self._notices = notices or SimilarNotices()

    def confirm(self, user_id: str, submitted: Submitted, language: Language) -> None:
        """A receipt is a courtesy: the review goes on without it."""
        key = (
            "channels.request.resubmitted" if submitted.resubmitted else "channels.request.received"
        )
        text = t(key, language, name=escape_mrkdwn(submitted.name))
        try:
            self._client.chat_postMessage(channel=user_id, text=text)
        except SLACK_CALL_ERRORS as exc:
            log.warning("receipt DM to %s failed: %s", user_id, error_code(exc))

    def tell_similar(self, user_id: str, similar: tuple[Similar, ...]) -> bool:
        """Links to the similar channels, beside the modal's error, so the member can join."""
        if not self._notices.due(user_id, similar):
            return False
        language = self._locales.for_user(user_id)
        blocks = to_dicts(request_views.similar_blocks(similar, language))
        return send_dm(self._client, user_id, blocks, blocks[0]["text"]["text"])
