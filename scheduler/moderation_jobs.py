"""Scheduled work on moderation cases: follow up edit requests whose deadline passed, and
post alerts that never reached the review channel.

Each job talks to Slack through the gateway's moderation adapters (ctx.gateway) and skips
itself where the context has none."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.services.moderation import cases, decisions
from bot.slack.moderation.calls import UNDELIVERED
from bot.slack_errors import error_code

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

log = logging.getLogger(__name__)

NO_SLACK = {"skipped": "no Slack client in this context"}


def follow_up_edit_requests(ctx: JobContext) -> dict[str, Any]:
    """Each edit request past its deadline, once: a reply under its alert saying whether the
    author edited or deleted the message, and the alert updated (its buttons stay)."""
    if ctx.gateway is None:
        return dict(NO_SLACK)
    with ctx.session_factory.begin() as session:
        # Marked in this transaction, before anyone is told: a crash never repeats it.
        due = decisions.overdue_edit_requests(session, clock=ctx.clock)
    alerts = ctx.gateway.moderation.alerts
    done = failed = 0
    for public_id, changes in due.items():
        try:
            alerts.follow_up(public_id, changes)
            done += 1
        except UNDELIVERED as exc:
            failed += 1
            log.warning("follow-up of case %s not posted: %s", public_id, error_code(exc))
    return {"followed_up": done, "failed": failed}


def post_unposted(ctx: JobContext) -> dict[str, Any]:
    """Post open cases whose alert never reached the review channel (Slack was down, say)."""
    if ctx.gateway is None:
        return dict(NO_SLACK)
    with ctx.session_factory() as session:
        waiting = cases.unposted(session)
    return dict(ctx.gateway.moderation.alerts.post_waiting(waiting))
