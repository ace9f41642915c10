"""Member figures: by status, by type of organisation, new members week by week."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.domain.statistics import KindCount, WeekCount
from bot.services.statistics.counting import count_if, is_member, joined
from bot.services.statistics.coverage import LOCAL_GOVERNMENT_KINDS
from bot.services.statistics.periods import ACTIVE_WINDOW, start_of, week_starts
from models import Member, MemberStatus, Organisation, OrganisationKind

NEW_MEMBER_WEEKS = 12
# Members by organisation type, in this order; "unknown" is a member without an organisation.
KIND_ORDER = (*LOCAL_GOVERNMENT_KINDS, OrganisationKind.UNION, OrganisationKind.AGENCY)
UNKNOWN_KIND = "unknown"


def by_status(session: Session) -> dict[str, int]:
    """Every MemberStatus value, bots excluded."""
    counts = dict.fromkeys((s.value for s in MemberStatus), 0)
    for status, count in session.execute(
        select(Member.status, func.count()).where(Member.is_bot.is_(False)).group_by(Member.status)
    ):
        counts[MemberStatus(status).value] = count
    return counts


def by_kind(session: Session, *, now: datetime) -> tuple[KindCount, ...]:
    """Members and active members by type of organisation: KIND_ORDER, then "unknown"."""
    kinds: dict[str, KindCount] = {}
    for kind, count, active in session.execute(
        select(
            Organisation.kind,
            func.count(),
            count_if(Member.last_seen_at >= now - ACTIVE_WINDOW),
        )
        .select_from(Member)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(is_member())
        .group_by(Organisation.kind)
    ):
        key = OrganisationKind(kind).value if kind is not None else UNKNOWN_KIND
        kinds[key] = KindCount(key, count, active)
    return tuple(
        kinds.get(key, KindCount(key, 0, 0))
        for key in (*(k.value for k in KIND_ORDER), UNKNOWN_KIND)
    )


def new_by_week(
    session: Session, *, now: datetime, zone: ZoneInfo, weeks: int = NEW_MEMBER_WEEKS
) -> tuple[WeekCount, ...]:
    starts = week_starts(now, zone, weeks)
    bounds = [start_of(day, zone) for day in starts] + [now]
    since = joined()
    columns = [
        count_if(and_(since >= bounds[i], since < bounds[i + 1])).label(f"w{i}")
        for i in range(weeks)
    ]
    row = session.execute(
        select(*columns).where(Member.is_bot.is_(False), since >= bounds[0], since < now)
    ).one()
    return tuple(WeekCount(day, row[i]) for i, day in enumerate(starts))


def new_in_last_week(session: Session, *, now: datetime) -> int:
    count = session.scalar(
        select(func.count()).where(Member.is_bot.is_(False), joined() >= now - timedelta(days=7))
    )
    return count or 0


def estimates(
    session: Session, *, now: datetime, zone: ZoneInfo, weeks: int
) -> list[tuple[date, int]]:
    """Today's members by the week they had joined by: an estimate for weeks with no snapshot
    (members who have left since are not known to it)."""
    starts = week_starts(now, zone, weeks)
    since = joined()
    columns = [count_if(since < start_of(day, zone)).label(f"w{i}") for i, day in enumerate(starts)]
    row = session.execute(select(*columns).where(is_member())).one()
    return [(day, row[i]) for i, day in enumerate(starts)]
