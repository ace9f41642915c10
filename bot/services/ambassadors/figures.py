"""The secretariat's figures on ambassadors: who serves per region, which prefectures have
nobody, how greetings go, and how coverage moved since each prefecture's ambassador began."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.ambassador_figures import AmbassadorFigures, CoverageChange
from bot.regions import PREFECTURES, REGION_KEYS, REGION_OF
from bot.services.ambassadors.coverage import covered_municipalities
from bot.services.ambassadors.greetings import greeting_figures
from bot.services.ambassadors.roster import serving_on
from models import AmbassadorAppointment, Member, MemberStatus

_SERVING_MEMBER = (MemberStatus.ACTIVE, MemberStatus.INACTIVE, MemberStatus.FLAGGED)


def ambassador_figures(session: Session, *, now: datetime, zone: ZoneInfo) -> AmbassadorFigures:
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(
            Member.slack_user_id,
            AmbassadorAppointment.prefectures,
            AmbassadorAppointment.region,
            AmbassadorAppointment.starts_on,
            AmbassadorAppointment.coverage_at_start,
        )
        .join(Member, Member.id == AmbassadorAppointment.member_id)
        .where(serving_on(today), Member.status.in_(_SERVING_MEMBER))
    ).all()
    in_region: dict[str, set[str]] = defaultdict(set)
    regions_served: set[str] = set()
    first_start: dict[str, tuple[date, int]] = {}
    for user, prefectures, region, starts_on, at_start in rows:
        for prefecture in prefectures or []:
            in_region[REGION_OF[prefecture]].add(user)
            known = first_start.get(prefecture)
            if known is None or starts_on < known[0]:
                first_start[prefecture] = (starts_on, int((at_start or {}).get(prefecture, 0)))
        if region:
            in_region[region].add(user)
            regions_served.add(region)
    # As the roster falls back: a prefecture's own ambassador, else its region's.
    without = tuple(
        p for p in PREFECTURES if p not in first_start and REGION_OF[p] not in regions_served
    )
    claimed, waiting, median = greeting_figures(session, now=now, zone=zone)
    ordered = [p for p in PREFECTURES if p in first_start]
    current = covered_municipalities(session, ordered)
    return AmbassadorFigures(
        by_region=tuple((key, len(in_region[key])) for key in REGION_KEYS),
        prefectures_without=without,
        greetings_claimed=claimed,
        greetings_open=waiting,
        median_hours_to_greet=median,
        coverage=tuple(
            CoverageChange(p, first_start[p][0], first_start[p][1], current[p]) for p in ordered
        ),
    )
