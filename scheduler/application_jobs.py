"""Scheduled work on applications: keep the 3-business-day promise, never lose a review."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.business_days import is_business_day
from bot.clock import Clock
from bot.db import SessionFactory
from bot.services import applications, invitations
from bot.services.application_review import organisation_label
from bot.services.review_messages import ReviewMessages
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.views.applications import ReminderItem, reminder_blocks, to_dicts
from models import Organisation

log = logging.getLogger(__name__)


def remind_pending(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> dict[str, int | str]:
    """Post one summary of applications waiting more than 2 business days."""
    channel = settings.review_channel
    if channel is None:
        return {"skipped": "KYOSO_REVIEW_CHANNEL is not set"}
    if not is_business_day(clock.now().astimezone(settings.zone).date()):
        return {"skipped": "not a business day"}
    with session_factory() as session:
        overdue = applications.overdue_for_reminder(session, clock=clock, zone=settings.zone)
        items = [
            ReminderItem(
                name=o.application.name,
                organisation=organisation_label(
                    session.get(Organisation, o.application.organisation_id)
                    if o.application.organisation_id
                    else None
                ),
                submitted_at=o.application.submitted_at,
                business_days=o.business_days,
                link=_permalink(
                    client, o.application.review_channel_id, o.application.review_message_ts
                ),
            )
            for o in overdue
        ]
        public_ids = [o.application.public_id for o in overdue]
    if not items:
        return {"overdue": 0}
    language = settings.default_locale
    blocks = reminder_blocks(items, language)
    client.chat_postMessage(
        channel=channel, blocks=to_dicts(blocks), text=blocks[0].to_dict()["text"]["text"]
    )
    with session_factory.begin() as session:
        applications.mark_reminded(session, clock=clock, public_ids=public_ids)
    return {"overdue": len(items)}


def _permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not (channel and ts):
        return None
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except (SlackApiError, SlackClientError) as exc:
        log.warning("no permalink for %s/%s: %s", channel, ts, exc)
        return None


def post_unposted(
    *, session_factory: SessionFactory, client: WebClient, settings: Settings
) -> dict[str, int]:
    """Post applications that never reached the review channel (Slack was down, say)."""
    messages = ReviewMessages(
        session_factory=session_factory,
        client=client,
        review_channel=settings.review_channel,
        language=settings.default_locale,
    )
    posted = failed = 0
    for public_id in messages.unposted():
        try:
            posted += messages.post(public_id)
        except (SlackApiError, SlackClientError) as exc:
            failed += 1
            log.warning("application %s still not posted: %s", public_id, exc)
    return {"posted": posted, "failed": failed}


def invite_approved(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> dict[str, int]:
    """Finish invitations Slack could not take at approval time (busy, down): invite, or
    hand them to the secretariat when no admin token can any more. Applicants are told
    only the outcome."""
    with session_factory() as session:
        waiting = invitations.awaiting_invitation_outcome(session)
    token = settings.slack_admin_user_token
    admin = (
        make_web_client(token.get_secret_value(), settings.slack_api_url)
        if token is not None and settings.invite_channel_ids
        else None
    )
    counts = {outcome.value: 0 for outcome in invitations.InviteOutcome}
    for public_id in waiting:
        if admin is None:
            with session_factory.begin() as session:
                invitations.invite_by_hand(
                    session, clock=clock, public_id=public_id, error="no admin token"
                )
            counts[invitations.InviteOutcome.FAILED.value] += 1
            continue
        outcome = invitations.invite(
            session_factory=session_factory,
            clock=clock,
            admin=admin,
            channel_ids=settings.invite_channel_ids,
            public_id=public_id,
        )
        counts[outcome.value] += 1
        if outcome is invitations.InviteOutcome.LATER:
            break  # Slack is still unavailable: the next run goes on
        _refresh(session_factory, client, settings, public_id)
    return counts


def _refresh(
    session_factory: SessionFactory, client: WebClient, settings: Settings, public_id: str
) -> None:
    messages = ReviewMessages(
        session_factory=session_factory,
        client=client,
        review_channel=settings.review_channel,
        language=settings.default_locale,
    )
    try:
        messages.refresh(public_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("review message of %s not refreshed: %s", public_id, exc)
