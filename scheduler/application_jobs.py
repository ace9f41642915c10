"""Scheduled work on applications: keep the 3-business-day promise, never lose a review.

Each job talks to Slack through the gateway's applications adapters (ctx.gateway) and skips
itself where the context has none."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.business_days import is_business_day
from bot.services.applications import invitations, records, reminders
from bot.services.applications.invitations import InviteOutcome
from bot.settings import Settings
from bot.slack.applications import ApplicationsSlack

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

log = logging.getLogger(__name__)

NO_SLACK = {"skipped": "no Slack client in this context"}


def _slack(ctx: JobContext) -> tuple[ApplicationsSlack, Settings] | None:
    if ctx.gateway is None or ctx.settings is None:
        return None
    return ctx.gateway.applications, ctx.settings


def remind_pending(ctx: JobContext) -> dict[str, Any]:
    """Post one summary of applications waiting more than 2 business days."""
    found = _slack(ctx)
    if found is None:
        return dict(NO_SLACK)
    slack, settings = found
    if settings.review_channel is None:
        return {"skipped": "KYOSO_REVIEW_CHANNEL is not set"}
    if not is_business_day(ctx.clock.now().astimezone(settings.zone).date()):
        return {"skipped": "not a business day"}
    with ctx.session_factory() as session:
        overdue = reminders.overdue_for_reminder(session, clock=ctx.clock, zone=settings.zone)
    if not overdue:
        return {"overdue": 0}
    slack.review.remind(overdue)
    with ctx.session_factory.begin() as session:
        reminders.mark_reminded(session, clock=ctx.clock, public_ids=[o.public_id for o in overdue])
    return {"overdue": len(overdue)}


def post_unposted(ctx: JobContext) -> dict[str, Any]:
    """Post applications that never reached the review channel (Slack was down, say)."""
    found = _slack(ctx)
    if found is None:
        return dict(NO_SLACK)
    slack, _ = found
    with ctx.session_factory() as session:
        waiting = records.awaiting_review_message(session)
    return dict(slack.review.post_waiting(waiting))


def invite_approved(ctx: JobContext) -> dict[str, Any]:
    """Finish invitations Slack could not take at approval time (busy, down): invite, or
    hand them to the secretariat when no admin token can any more. Applicants are told
    only the outcome."""
    found = _slack(ctx)
    if found is None:
        return dict(NO_SLACK)
    slack, _ = found
    with ctx.session_factory() as session:
        waiting = invitations.awaiting_invitation_outcome(session)
    counts = {outcome.value: 0 for outcome in InviteOutcome}
    for public_id in waiting:
        if slack.inviter is None:
            with ctx.session_factory.begin() as session:
                invitations.invite_by_hand(
                    session, clock=ctx.clock, public_id=public_id, error="no admin token"
                )
            counts[InviteOutcome.FAILED.value] += 1
            continue
        outcome = slack.inviter.invite(public_id)
        counts[outcome.value] += 1
        if outcome is InviteOutcome.LATER:
            break  # Slack is still unavailable: the next run goes on
        _refresh(slack, public_id)
    return counts


def _refresh(slack: ApplicationsSlack, public_id: str) -> None:
    try:
        slack.review.refresh(public_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("review message of %s not refreshed: %s", public_id, exc)
