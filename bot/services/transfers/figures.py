"""Figures on people moving: pending and confirmed moves, leavers per month, and members whose
affiliation is unverified (an open affiliation check) per prefecture."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.transfers import MemberTransfers, MonthFigures, TransferFigures
from bot.services.transfers.season import season_banner
from bot.services.transfers.season_calendar import SeasonCalendar
from models import (
    OPEN_CHECK_STATUSES,
    OPEN_MOVE_STATUSES,
    AffiliationCheck,
    AffiliationMove,
    Departure,
    DepartureStatus,
    Member,
    MoveStatus,
    Organisation,
)

MONTHS_SHOWN = 6
UNKNOWN_PREFECTURE = "—"
# Departures that happened or will: a cancelled one is no leaver.
_LEAVING = (DepartureStatus.SCHEDULED, DepartureStatus.DONE, DepartureStatus.TODO)
# Pending: waiting for the member's confirmation or the secretariat's decision.
_PENDING_MOVES = (MoveStatus.AWAITING, MoveStatus.REVIEW)


def _month_keys(today: date, count: int) -> list[str]:
    keys = []
    year, month = today.year, today.month
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def _first_of(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def transfer_figures(
    session: Session, *, now: datetime, zone: ZoneInfo, months: int = MONTHS_SHOWN
) -> TransferFigures:
    today = now.astimezone(zone).date()
    keys = _month_keys(today, months)
    since = datetime.combine(_first_of(keys[0]), datetime.min.time(), zone)
    confirmed: Counter[str] = Counter(
        at.astimezone(zone).strftime("%Y-%m")
        for at in session.scalars(
            select(AffiliationMove.confirmed_at).where(
                AffiliationMove.status == MoveStatus.CONFIRMED,
                AffiliationMove.confirmed_at >= since,
            )
        )
        if at is not None
    )
    leavers: Counter[str] = Counter(
        day.strftime("%Y-%m")
        for day in session.scalars(
            select(Departure.last_day).where(
                Departure.status.in_(_LEAVING), Departure.last_day >= since.date()
            )
        )
    )
    pending = session.scalar(
        select(func.count())
        .select_from(AffiliationMove)
        .where(AffiliationMove.status.in_(_PENDING_MOVES))
    )
    scheduled = session.scalar(
        select(func.count())
        .select_from(Departure)
        .where(Departure.status == DepartureStatus.SCHEDULED, Departure.last_day >= today)
    )
    unverified = session.execute(
        select(Organisation.prefecture, func.count())
        .select_from(AffiliationCheck)
        .join(Member, Member.id == AffiliationCheck.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(AffiliationCheck.status.in_(OPEN_CHECK_STATUSES))
        .group_by(Organisation.prefecture)
    ).all()
    by_prefecture = sorted(
        ((prefecture or UNKNOWN_PREFECTURE, count) for prefecture, count in unverified),
        key=lambda row: (-row[1], row[0]),
    )
    return TransferFigures(
        pending_moves=pending or 0,
        scheduled_leavers=scheduled or 0,
        months=tuple(MonthFigures(k, confirmed[k], leavers[k]) for k in keys),
        unverified=tuple(by_prefecture),
        unverified_total=sum(count for _, count in by_prefecture),
    )


def member_transfers(
    session: Session,
    *,
    member_id: int,
    now: datetime,
    zone: ZoneInfo,
    calendar: SeasonCalendar | None = None,
) -> MemberTransfers:
    """The member's own open move, scheduled departure and the season's question, for their
    Home."""
    today = now.astimezone(zone).date()
    move, effective_on = session.execute(
        select(AffiliationMove.status, AffiliationMove.effective_on).where(
            AffiliationMove.member_id == member_id,
            AffiliationMove.status.in_(OPEN_MOVE_STATUSES),
        )
    ).first() or (None, None)
    last_day = session.scalar(
        select(Departure.last_day).where(
            Departure.member_id == member_id,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.last_day >= today,
        )
    )
    return MemberTransfers(
        move_awaiting=move is MoveStatus.AWAITING,
        move_in_review=move is MoveStatus.REVIEW,
        move_scheduled_on=effective_on if move is MoveStatus.SCHEDULED else None,
        last_day=last_day,
        season=season_banner(session, now=now, zone=zone, member_id=member_id, calendar=calendar),
    )
