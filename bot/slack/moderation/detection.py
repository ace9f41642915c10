"""The Slack side of the detectors: the poster's warning and the case alert, around the one
transaction that records what was found (bot/services/moderation/detection.py).

Runs inside the `message` listener, after Bolt acknowledged the event: detectors never delay
the ack, and most messages cost no database work."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.moderation import DetectorWarning
from bot.services.moderation import detection
from bot.services.moderation.detection import Seen
from bot.slack.moderation.alerts import CaseAlerts
from bot.slack.moderation.calls import best_effort
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, classify, error_code
from bot.views.blocks import to_dicts
from bot.views.moderation.messages import warning_blocks, warning_text

log = logging.getLogger(__name__)


class Detectors(SlackAdapter):
    def __init__(self, wiring: SlackWiring, *, alerts: CaseAlerts) -> None:
        super().__init__(wiring)
        self._review_channel = wiring.settings.review_channel
        self._alerts = alerts

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A new, edited or deleted post: warn, open or note a case, update its alert."""
        seen = detection.inspect(event, review_channel=self._review_channel)
        if seen is None:
            return
        if not seen.findings:  # an edit or a deletion: only a message with a case matters
            with self._session_factory() as session:
                if not detection.worth_recording(session, seen):
                    return
        with self._session_factory.begin() as session:
            recorded = detection.record(
                session,
                clock=self._clock,
                seen=seen,
                event_id=body.get("event_id"),
                event_type=str((body.get("event") or {}).get("type", "")),
            )
        with self._session_factory() as session:
            # Owed until Slack has it: a retry of the event (the inbox's, after a failure
            # here) still warns, while a warning that went out is not repeated.
            warning = detection.owed_warning(session, seen=seen, recorded=recorded)
        if warning is not None:
            self._warn(seen, warning)
            with self._session_factory.begin() as session:
                detection.mark_warned(
                    session, clock=self._clock, channel_id=seen.channel_id, message_ts=seen.ts
                )
        if recorded is None:
            return
        for public_id in recorded.alerts_to_post():
            best_effort("case alert", self._alerts.post, public_id)
        for public_id in recorded.alerts_to_refresh():
            best_effort("case alert update", self._alerts.refresh, public_id)

    def _warn(self, seen: Seen, warning: DetectorWarning) -> None:
        """An ephemeral warning in the channel, in the poster's language: the label, never
        the value."""
        language = self._locales.for_user(seen.user)
        extra: dict[str, Any] = {"thread_ts": seen.thread_ts} if seen.thread_ts else {}
        try:
            self._client.chat_postEphemeral(
                channel=seen.channel_id,
                user=seen.user,
                blocks=to_dicts(warning_blocks(language, warning)),
                text=warning_text(language, warning),
                **extra,
            )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient or failure.auth:
                raise  # passing (or our token): the event is retried and the warning with it
            log.warning(
                "detector warning to %s in %s failed: %s",
                seen.user,
                seen.channel_id,
                error_code(exc),
            )
