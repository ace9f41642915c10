"""The daily work of appointments that needs Slack: the secretariat's reminder, in the
review channel, that a term ends within a month (one per appointment and end date).

Terms that start or end are settled in the database first; each reminder is claimed
(reminded_for) before it is posted, so two runs never post it both; when Slack refuses or
fails, the claim is released and the next day's run posts it (a reminder Slack took despite
an error may then show twice: better than none before a term ends)."""

from __future__ import annotations

import logging
from datetime import date

from bot.domain.ambassadors_appointments import TermReminder
from bot.services.ambassadors import appointments
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.ambassadors import appointments as views
from bot.views.blocks import to_dicts

log = logging.getLogger(__name__)


class AppointmentsSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._channel = wiring.settings.review_channel
        self._language = wiring.settings.default_locale
        self._zone = wiring.settings.zone

    def run_daily(self) -> dict[str, int]:
        """Terms that ended are ended, terms that began grant the role, then the reminders."""
        today = appointments.today_in(self._clock, self._zone)
        with self._session_factory.begin() as session:
            ended = appointments.end_finished_terms(session, clock=self._clock, today=today)
            started = appointments.start_terms(session, clock=self._clock, today=today)
        reminded, postponed = self._remind(today)
        return {"ended": ended, "started": started, "reminded": reminded, "postponed": postponed}

    def _remind(self, today: date) -> tuple[int, int]:
        if self._channel is None:  # no review channel configured: nobody to remind
            return 0, 0
        with self._session_factory.begin() as session:
            due = appointments.claim_reminders(session, clock=self._clock, today=today)
        reminded = postponed = 0
        for reminder in due:
            if self._post(self._channel, reminder, today):
                reminded += 1
            else:
                postponed += 1
        return reminded, postponed

    def _post(self, channel: str, reminder: TermReminder, today: date) -> bool:
        blocks, text = views.reminder_blocks(reminder, today, self._language)
        try:
            self._client.chat_postMessage(
                channel=channel, blocks=to_dicts(blocks), text=text, unfurl_links=False
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("term reminder %s not posted: %s", reminder.public_id, error_code(exc))
            with self._session_factory.begin() as session:
                appointments.release_reminder(session, reminder=reminder)
            return False
        with self._session_factory.begin() as session:
            appointments.reminder_sent(session, clock=self._clock, reminder=reminder)
        return True
