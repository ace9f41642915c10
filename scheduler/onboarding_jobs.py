"""Onboarding's scheduled work: rules re-asks, introduction reminders, profile nudges and the
secretariat's "stuck in onboarding" summary.

Each DM is claimed in its own committed transaction before it is sent, so a rerun or a
crash never repeats one; runs are capped and paced so that a new rules version reaches
15,000 members within a business day while leaving most of Slack's rate budget (users.info
is Tier 4, about 100/min) to interactive replies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.business_days import is_business_day
from bot.clock import Clock
from bot.db import SessionFactory
from bot.eligibility import OrganisationDirectory
from bot.i18n import Language, as_language
from bot.locale import LocaleResolver
from bot.services import members, onboarding, rules
from bot.services.welcome_sender import WelcomeSender
from bot.settings import Settings
from bot.views.onboarding import (
    AcceptedState,
    intro_reminder_blocks,
    intro_reminder_text,
    profile_nudge_blocks,
    profile_nudge_text,
    rules_updated_blocks,
    rules_updated_text,
    stuck_report_blocks,
    stuck_report_text,
    to_dicts,
)

log = logging.getLogger(__name__)

# One DM a second: ~60 users.info + ~60 chat.postMessage a minute at most.
DM_PACE_SECONDS = 1.0
# Per run; the jobs run every few minutes and pick up where the last run stopped.
MAX_DMS_PER_RUN = 250

JobResult = dict[str, Any]


@dataclass
class Messenger:
    """Sends paced DMs in the member's language."""

    client: WebClient
    settings: Settings
    session_factory: SessionFactory
    pause: Callable[[float], None] = time.sleep
    pace_seconds: float | None = None
    sent: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self.locales = LocaleResolver(
            client=self.client,
            session_factory=self.session_factory,
            default=self.settings.default_locale,
        )

    def language(self, slack_user_id: str, slack_user: dict[str, Any] | None = None) -> Language:
        if slack_user is not None:
            with self.session_factory() as session:
                member = members.find(session, slack_user_id)
                stored = member.locale if member is not None else None
            return as_language(stored or slack_user.get("locale"), self.settings.default_locale)
        return self.locales.for_user(slack_user_id)

    def send(self, slack_user_id: str, blocks: list[dict[str, Any]], text: str) -> bool:
        if self.sent or self.failed:
            self.pause(DM_PACE_SECONDS if self.pace_seconds is None else self.pace_seconds)
        try:
            self.client.chat_postMessage(
                channel=slack_user_id, blocks=blocks, text=text, unfurl_links=False
            )
        except (SlackApiError, SlackClientError) as exc:
            # Claimed already: not retried, so a member is never told twice.
            self.failed += 1
            log.warning("DM to %s failed: %s", slack_user_id, _error(exc))
            return False
        self.sent += 1
        return True


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return f"{type(exc).__name__}: {exc}"


def ask_again(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    messenger: Messenger,
    limit: int = MAX_DMS_PER_RUN,
) -> JobResult:
    """Members who accepted an older version are asked to accept the current one, once."""
    with session_factory() as session:
        current, user_ids = rules.members_to_ask_again(session, limit=limit)
    skipped = 0
    for user_id in user_ids:
        with session_factory.begin() as session:
            claimed = rules.claim_ask_again(
                session, clock=clock, slack_user_id=user_id, version=current.version
            )
            member = members.find(session, user_id)
            accepted = (
                AcceptedState(member.rules_version, member.rules_accepted_at)
                if member is not None and member.rules_version and member.rules_accepted_at
                else None
            )
        if not claimed:
            skipped += 1
            continue
        language = messenger.language(user_id)
        messenger.send(
            user_id,
            to_dicts(rules_updated_blocks(current, language, accepted=accepted)),
            rules_updated_text(current, language),
        )
    return {
        "version": current.version,
        "asked": messenger.sent,
        "failed": messenger.failed,
        "skipped": skipped,
        "more": len(user_ids) == limit,
    }


def remind_introductions(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    messenger: Messenger,
    limit: int = MAX_DMS_PER_RUN,
) -> JobResult:
    """One gentle reminder to members welcomed a week ago who have not introduced themselves."""
    intro_channel = messenger.settings.intro_channel
    if intro_channel is None:
        return {"skipped": "KYOSO_INTRO_CHANNEL is not set"}
    with session_factory() as session:
        user_ids = onboarding.due_intro_reminders(session, now=clock.now(), limit=limit)
    for user_id in user_ids:
        with session_factory.begin() as session:
            claimed = onboarding.claim_intro_reminder(session, clock=clock, slack_user_id=user_id)
        if not claimed:
            continue
        language = messenger.language(user_id)
        messenger.send(
            user_id,
            to_dicts(intro_reminder_blocks(intro_channel, language)),
            intro_reminder_text(intro_channel, language),
        )
    return {"reminded": messenger.sent, "failed": messenger.failed, "more": len(user_ids) == limit}


def nudge_profiles(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    messenger: Messenger,
    directory: OrganisationDirectory | None = None,
    limit: int = MAX_DMS_PER_RUN,
) -> JobResult:
    """One friendly DM to newcomers without a photo or with an organisation as display name."""
    directory = directory or OrganisationDirectory.from_master_data()
    with session_factory() as session:
        user_ids = onboarding.due_profile_checks(session, now=clock.now(), limit=limit)
    checked = 0
    for user_id in user_ids:
        try:
            user = messenger.client.users_info(user=user_id, include_locale=True)["user"]
        except (SlackApiError, SlackClientError) as exc:
            log.warning("users.info failed for %s: %s", user_id, _error(exc))
            continue
        checked += 1
        problems = onboarding.profile_problems(user, directory)
        if not problems or user.get("deleted"):
            continue
        with session_factory.begin() as session:
            claimed = onboarding.claim_profile_nudge(session, clock=clock, slack_user_id=user_id)
        if not claimed:
            continue
        language = messenger.language(user_id, user)
        messenger.send(
            user_id,
            to_dicts(profile_nudge_blocks(problems, language)),
            profile_nudge_text(language),
        )
    return {"checked": checked, "nudged": messenger.sent, "failed": messenger.failed}


def welcome_missed(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> JobResult:
    """Welcome members whose welcome DM Slack did not take (busy, down, token refused)."""
    sender = WelcomeSender(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    return sender.run()


def report_stuck(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> JobResult:
    """Post the daily list of members stuck in onboarding to the review channel."""
    now = clock.now()
    if not is_business_day(now.astimezone(settings.zone).date()):
        return {"skipped": "not a business day"}
    language = settings.default_locale
    with session_factory() as session:
        stuck = onboarding.stuck_in_onboarding(
            session, now=now, zone=settings.zone, language=language
        )
    if not stuck:
        return {"stuck": 0}
    if settings.review_channel is None:
        log.warning("%d members stuck in onboarding; KYOSO_REVIEW_CHANNEL unset", len(stuck))
        return {"stuck": len(stuck), "posted": False}
    blocks = stuck_report_blocks(
        stuck, language, min_business_days=onboarding.STUCK_AFTER_BUSINESS_DAYS
    )
    client.chat_postMessage(
        channel=settings.review_channel,
        blocks=to_dicts(blocks),
        text=stuck_report_text(len(stuck), language),
    )
    return {"stuck": len(stuck), "posted": True}
