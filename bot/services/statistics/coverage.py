"""Coverage: which local governments and agencies have at least one member, by prefecture."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.statistics import PrefectureCoverage
from bot.services.statistics.counting import count_if, is_member
from models import Member, Organisation, OrganisationKind

LOCAL_GOVERNMENT_KINDS = (
    OrganisationKind.PREFECTURE,
    OrganisationKind.CITY,
    OrganisationKind.TOWN,
    OrganisationKind.VILLAGE,
    OrganisationKind.SPECIAL_WARD,
)
MUNICIPALITY_KINDS = LOCAL_GOVERNMENT_KINDS[1:]


def _members_per_organisation() -> Any:
    """Members per organisation; a merged organisation's count under its successor (a
    code-list release moves them, this also covers any it left behind)."""
    counted_under = func.coalesce(Organisation.merged_into_id, Organisation.id)
    return (
        select(counted_under.label("organisation_id"), func.count().label("members"))
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(is_member())
        .group_by(counted_under)
        .subquery("members_per_organisation")
    )


def by_prefecture(session: Session) -> tuple[tuple[PrefectureCoverage, ...], tuple[int, int]]:
    """Per prefecture: local governments, how many have a member, members; and municipalities
    (how many, how many covered)."""
    per_org = _members_per_organisation()
    is_municipality = Organisation.kind.in_(MUNICIPALITY_KINDS)
    rows = session.execute(
        select(
            Organisation.prefecture,
            func.min(func.substr(Organisation.code, 1, 2)),
            func.max(Organisation.name_en).filter(Organisation.kind == OrganisationKind.PREFECTURE),
            func.count(Organisation.id),
            func.count(per_org.c.organisation_id),
            func.coalesce(func.sum(per_org.c.members), 0),
            count_if(is_municipality),
            func.count(per_org.c.organisation_id).filter(is_municipality),
        )
        .select_from(Organisation)
        .outerjoin(per_org, per_org.c.organisation_id == Organisation.id)
        .where(
            Organisation.kind.in_(LOCAL_GOVERNMENT_KINDS),
            Organisation.prefecture.is_not(None),
            Organisation.retired_at.is_(None),  # merged or removed: nothing left to cover
        )
        .group_by(Organisation.prefecture)
        .order_by(func.min(Organisation.code))
    ).all()
    prefectures = tuple(
        PrefectureCoverage(
            code=code or "",
            name=name,
            name_en=name_en,
            local_governments=total,
            covered=covered,
            members=int(members),
        )
        for name, code, name_en, total, covered, members, _, _ in rows
    )
    municipalities = (sum(r[6] for r in rows), sum(r[7] for r in rows))
    return prefectures, municipalities


def agencies(session: Session) -> tuple[int, int]:
    """Agencies, and how many of them have a member."""
    per_org = _members_per_organisation()
    row = session.execute(
        select(func.count(Organisation.id), func.count(per_org.c.organisation_id))
        .select_from(Organisation)
        .outerjoin(per_org, per_org.c.organisation_id == Organisation.id)
        .where(Organisation.kind == OrganisationKind.AGENCY, Organisation.retired_at.is_(None))
    ).one()
    return row[0], row[1]
