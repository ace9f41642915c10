"""Facilitators' tools in Slack: an edited purpose sent to the channel, a summary pinned and
recorded, a message pointed to a better channel in its thread."""

from __future__ import annotations

import logging

from bot.domain.channels import PURPOSE_MAX, ChannelUpdate
from bot.i18n import Language, t
from bot.services.channels import facilitation
from bot.slack.channels.base import ChannelAdapter
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.channels import facilitation as views
from bot.views.channels.common import channel_link
from bot.views.channels.metadata import PointModalMetadata

log = logging.getLogger(__name__)


class FacilitatorTools(ChannelAdapter):
    def publish_purpose(self, update: ChannelUpdate, *, actor: str, language: Language) -> None:
        """An edited purpose goes to Slack too; the editor hears if Slack refused it."""
        if not update.purpose_changed:
            return
        try:
            self._client.conversations_setPurpose(
                channel=update.channel_id, purpose=update.purpose[:PURPOSE_MAX]
            )
        except SLACK_CALL_ERRORS as exc:
            text = t(
                "channels.edit.purpose_failed",
                language,
                channel=channel_link(update.channel_id),
                error=error_code(exc),
            )
            self._client.chat_postMessage(channel=actor, text=text)

    def record_summary(
        self, *, channel_id: str, message_ts: str, author: str, actor: str
    ) -> tuple[bool, str | None]:
        """Pin the message and record it; (newly recorded, Slack error if the pin failed)."""
        try:
            self._client.pins_add(channel=channel_id, timestamp=message_ts)
        except SLACK_CALL_ERRORS as exc:
            error = error_code(exc)
            if error != "already_pinned":
                return False, error
        permalink = None
        try:
            answer = self._client.chat_getPermalink(channel=channel_id, message_ts=message_ts)
            permalink = str(answer["permalink"])
        except SLACK_CALL_ERRORS as exc:
            log.info("no permalink for %s/%s: %s", channel_id, message_ts, error_code(exc))
        with self._session_factory.begin() as session:
            recorded = facilitation.record_summary(
                session,
                clock=self._clock,
                channel_id=channel_id,
                message_ts=message_ts,
                author_id=author,
                recorded_by=actor,
                permalink=permalink,
            )
        return recorded, None

    def point(self, where: PointModalMetadata, *, target: str, note: str, actor: str) -> None:
        """Reply in the message's thread with the suggested channel; the facilitator hears
        (in the modal's language) if Slack refused it."""
        text = views.pointer_text(
            author=where.author, target=target, note=note, language=self._config.language
        )
        try:
            self._client.chat_postMessage(
                channel=where.slack_channel_id,
                thread_ts=where.message_ts,
                text=text,
                unfurl_links=False,
            )
        except SLACK_CALL_ERRORS as exc:
            failed = t("channels.point.failed", where.language, error=error_code(exc))
            self._client.chat_postMessage(channel=actor, text=failed)
            return
        with self._session_factory.begin() as session:
            facilitation.record_pointer(
                session,
                clock=self._clock,
                channel_id=where.slack_channel_id,
                message_ts=where.message_ts,
                target=target,
                actor=actor,
            )
