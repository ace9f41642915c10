"""Onboarding's scheduled work: rules re-asks, introduction reminders, profile nudges and the
secretariat's "stuck in onboarding" summary (the welcome DMs Slack missed are
bot/slack/onboarding/welcome.py's `run`).

Kind hours (bot/slack/kind_hours.py): DMs go out on 開庁日 in contact hours, and a member in
do-not-disturb or whose status says they are away is left unclaimed, so a later run sends
the DM (postponed, not dropped). Each DM is claimed in its own committed transaction before
it is sent, so a rerun or a crash never repeats one; runs are capped and paced (bot/slack/onboarding/dms.py) so that a
new rules version reaches 15,000 members within a business day while leaving most of
Slack's rate budget (users.info is Tier 4, about 100/min) to interactive replies.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.business_days import is_business_day
from bot.clock import Clock
from bot.db import SessionFactory
from bot.eligibility.directory import OrganisationDirectory
from bot.services import members, rules
from bot.services.applications.organisations import current_directory
from bot.services.onboarding import introductions, profiles
from bot.services.onboarding.stuck import STUCK_AFTER_BUSINESS_DAYS, stuck_in_onboarding
from bot.slack.onboarding.dms import Messenger
from bot.slack.onboarding.notices import SecretariatNotices
from bot.views.blocks import to_dicts
from bot.views.onboarding.introduction import intro_reminder_blocks, intro_reminder_text
from bot.views.onboarding.profile import profile_nudge_blocks, profile_nudge_text
from bot.views.onboarding.rules import rules_updated_blocks, rules_updated_text

# Per run; the jobs run every few minutes and pick up where the last run stopped.
MAX_DMS_PER_RUN = 250

JobResult = dict[str, Any]


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
    if user_ids and not messenger.in_hours(clock.now()):
        return {"version": current.version, "skipped": "outside contact hours"}
    skipped = postponed = 0
    for user_id in user_ids:
        if messenger.postponed(user_id, now=clock.now()):
            postponed += 1
            continue
        with session_factory.begin() as session:
            claimed = rules.claim_ask_again(
                session, clock=clock, slack_user_id=user_id, version=current.version
            )
            accepted = rules.accepted_state(members.find(session, user_id))
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
        **({"postponed": postponed} if postponed else {}),
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
    intro_channel = messenger.intro_channel
    if intro_channel is None:
        return {"skipped": "KYOSO_INTRO_CHANNEL is not set"}
    with session_factory() as session:
        user_ids = introductions.due_intro_reminders(session, now=clock.now(), limit=limit)
    if user_ids and not messenger.in_hours(clock.now()):
        return {"reminded": 0, "skipped": "outside contact hours", "more": True}
    postponed = 0
    for user_id in user_ids:
        if messenger.postponed(user_id, now=clock.now()):
            postponed += 1
            continue
        with session_factory.begin() as session:
            claimed = introductions.claim_intro_reminder(
                session, clock=clock, slack_user_id=user_id
            )
        if not claimed:
            continue
        language = messenger.language(user_id)
        messenger.send(
            user_id,
            to_dicts(intro_reminder_blocks(intro_channel, language)),
            intro_reminder_text(intro_channel, language),
        )
    return {
        "reminded": messenger.sent,
        "failed": messenger.failed,
        **({"postponed": postponed} if postponed else {}),
        "more": len(user_ids) == limit,
    }


def nudge_profiles(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    messenger: Messenger,
    directory: OrganisationDirectory | None = None,
    limit: int = MAX_DMS_PER_RUN,
) -> JobResult:
    """One friendly DM to newcomers without a photo or with an organisation as display name."""
    with session_factory() as session:
        user_ids = profiles.due_profile_checks(session, now=clock.now(), limit=limit)
        directory = directory or current_directory(session)
    if user_ids and not messenger.in_hours(clock.now()):
        return {"checked": 0, "skipped": "outside contact hours"}
    checked = postponed = 0
    for user_id in user_ids:
        user = messenger.slack_user(user_id)
        if user is None:
            continue
        checked += 1
        problems = profiles.profile_problems(user, directory)
        if not problems or user.get("deleted"):
            continue
        if messenger.postponed(user_id, now=clock.now(), user=user):
            postponed += 1
            continue
        with session_factory.begin() as session:
            claimed = profiles.claim_profile_nudge(session, clock=clock, slack_user_id=user_id)
        if not claimed:
            continue
        language = messenger.language(user_id, user)
        messenger.send(
            user_id,
            to_dicts(profile_nudge_blocks(problems, language)),
            profile_nudge_text(language),
        )
    return {
        "checked": checked,
        "nudged": messenger.sent,
        "failed": messenger.failed,
        **({"postponed": postponed} if postponed else {}),
    }


def report_stuck(
    *, session_factory: SessionFactory, clock: Clock, zone: ZoneInfo, notices: SecretariatNotices
) -> JobResult:
    """Post the daily list of members stuck in onboarding to the review channel."""
    now = clock.now()
    if not is_business_day(now.astimezone(zone).date()):
        return {"skipped": "not a business day"}
    with session_factory() as session:
        stuck = stuck_in_onboarding(session, now=now, zone=zone, language=notices.language)
    if not stuck:
        return {"stuck": 0}
    posted = notices.stuck_report(stuck, min_business_days=STUCK_AFTER_BUSINESS_DAYS)
    return {"stuck": len(stuck), "posted": posted}
