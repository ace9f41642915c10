"""Stuck in onboarding: joined some business days ago and not yet accepted the rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.business_days import business_days_between
from bot.domain.onboarding import StuckMember
from bot.i18n import Language
from bot.services.onboarding.marks import reachable
from bot.services.onboarding.organisations import organisation_name
from models import Member, Organisation

STUCK_AFTER_BUSINESS_DAYS = 3


def stuck_in_onboarding(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    language: Language = "ja",
    min_business_days: int = STUCK_AFTER_BUSINESS_DAYS,
) -> list[StuckMember]:
    """Members who joined `min_business_days` 開庁日 ago or more and have not accepted the rules.

    Oldest first. The secretariat's daily summary and the dashboard both use this list."""
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(Member, Organisation)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(
            *reachable(),
            Member.joined_at.is_not(None),
            # a business day is at least a calendar day: let the database skip the newest
            Member.joined_at <= now - timedelta(days=min_business_days),
            Member.rules_accepted_at.is_(None),
        )
        .order_by(Member.joined_at, Member.id)
    )
    stuck = []
    for member, organisation in rows:
        assert member.joined_at is not None
        days = business_days_between(member.joined_at.astimezone(zone).date(), today)
        if days >= min_business_days:
            stuck.append(
                StuckMember(
                    slack_user_id=member.slack_user_id,
                    name=member.real_name or member.display_name,
                    email=member.email,
                    organisation=organisation_name(organisation, language),
                    joined_at=member.joined_at,
                    business_days=days,
                )
            )
    return stuck
