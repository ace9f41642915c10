"""Profile nudges: one friendly DM to a newcomer without a photo or with an organisation's
name as their display name."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.onboarding import ProfileProblems
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.names import organisation_like
from bot.services.onboarding.marks import claim_mark, reachable
from models import Member

# Give newcomers a day to set up their profile; stop checking after two weeks.
PROFILE_CHECK_AFTER = timedelta(days=1)
PROFILE_CHECK_UNTIL = timedelta(days=14)


def profile_problems(user: Mapping[str, Any], directory: OrganisationDirectory) -> ProfileProblems:
    """From a Slack user object (users.info): a default avatar, an organisation's name."""
    profile = user.get("profile") or {}
    custom = profile.get("is_custom_image")
    if custom is None:  # older payloads: Slack's default avatars live under /img/avatars/ava_
        custom = "/avatars/ava_" not in str(profile.get("image_72", "")).replace("%2F", "/")
    shown = str(
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or ""
    )
    organisation_like_name = shown if shown and organisation_like(shown, directory) else None
    return ProfileProblems(no_photo=not custom, organisation_like_name=organisation_like_name)


def due_profile_checks(session: Session, *, now: datetime, limit: int) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *reachable(),
                Member.welcomed_at <= now - PROFILE_CHECK_AFTER,
                Member.welcomed_at > now - PROFILE_CHECK_UNTIL,
                Member.profile_nudged_at.is_(None),
            )
            .order_by(Member.welcomed_at)
            .limit(limit)
        )
    )


def claim_profile_nudge(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return claim_mark(session, slack_user_id, Member.profile_nudged_at, clock.now())
