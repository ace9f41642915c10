"""Applicants are promised an answer within 3 business days: the secretariat is reminded of
what waits longer, once a business day (JST)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.business_days import business_days_between
from bot.clock import Clock
from bot.services.applications.organisations import label_of
from bot.services.applications.records import awaiting_decision
from models import Application


@dataclass(frozen=True)
class Overdue:
    public_id: str
    name: str
    organisation: str | None  # as the secretariat reads it: 北海道 札幌市（011002）
    submitted_at: datetime
    business_days: int
    review_channel_id: str | None  # where its review message is, to link to it
    review_message_ts: str | None


def overdue_for_reminder(
    session: Session, *, clock: Clock, zone: ZoneInfo, after_business_days: int = 2
) -> list[Overdue]:
    """Undecided applications older than N business days, not yet reminded today (JST).

    Reminding from the second business day keeps the promise even when a reminder is read
    late."""
    now = clock.now()
    today = now.astimezone(zone).date()
    overdue = []
    for application in awaiting_decision(session, submitted_before=now):
        reminded = application.last_reminded_at
        if reminded is not None and reminded.astimezone(zone).date() == today:
            continue
        submitted = application.submitted_at.astimezone(zone).date()
        days = business_days_between(submitted, today)
        if days >= after_business_days:
            overdue.append(
                Overdue(
                    public_id=application.public_id,
                    name=application.name,
                    organisation=label_of(session, application.organisation_id),
                    submitted_at=application.submitted_at,
                    business_days=days,
                    review_channel_id=application.review_channel_id,
                    review_message_ts=application.review_message_ts,
                )
            )
    return overdue


def mark_reminded(session: Session, *, clock: Clock, public_ids: Sequence[str]) -> None:
    if public_ids:
        session.execute(
            update(Application)
            .where(Application.public_id.in_(public_ids))
            .values(last_reminded_at=clock.now())
        )
