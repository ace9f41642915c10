"""Scheduled work on moderation cases: follow up edit requests whose deadline passed, and
post alerts that never reached the review channel."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services import moderation
from bot.services.moderation_actions import UNDELIVERED, CaseAlerts, slack_error
from bot.settings import Settings

log = logging.getLogger(__name__)


def _alerts(session_factory: SessionFactory, client: WebClient, settings: Settings) -> CaseAlerts:
    return CaseAlerts(
        session_factory=session_factory,
        client=client,
        review_channel=settings.review_channel,
        language=settings.default_locale,
    )


def follow_up_edit_requests(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> dict[str, int]:
    """Each edit request past its deadline, once: a reply under its alert saying whether the
    author edited or deleted the message, and the alert updated (its buttons stay)."""
    with session_factory.begin() as session:
        # Marked in this transaction, before anyone is told: a crash never repeats it.
        due = moderation.take_overdue_edit_requests(session, clock=clock)
        changes = {
            public_id: moderation.author_changes_since_edit_request(session, public_id)
            for public_id in due
        }
    alerts = _alerts(session_factory, client, settings)
    done = failed = 0
    for public_id in due:
        try:
            alerts.follow_up(public_id, changes[public_id])
            done += 1
        except UNDELIVERED as exc:
            failed += 1
            log.warning("follow-up of case %s not posted: %s", public_id, slack_error(exc))
    return {"followed_up": done, "failed": failed}


def post_unposted(
    *, session_factory: SessionFactory, client: WebClient, settings: Settings
) -> dict[str, int]:
    """Post open cases whose alert never reached the review channel (Slack was down, say)."""
    alerts = _alerts(session_factory, client, settings)
    posted = failed = 0
    for public_id in alerts.unposted():
        try:
            posted += alerts.post(public_id)
        except UNDELIVERED as exc:
            failed += 1
            log.warning("case %s still not posted: %s", public_id, slack_error(exc))
    return {"posted": posted, "failed": failed}
