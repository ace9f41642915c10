"""Coverage of a prefecture: how many of its municipalities have at least one active member.
Recorded on each appointment when its term begins; the secretariat's figures compare it with
today's."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.statistics.counting import is_member
from bot.services.statistics.coverage import MUNICIPALITY_KINDS
from models import Member, Organisation


def covered_municipalities(session: Session, prefectures: Sequence[str]) -> dict[str, int]:
    """Per prefecture asked for: its current municipalities with an active member (a merged
    organisation's members count for its successor). Every prefecture asked for has a key."""
    if not prefectures:
        return {}
    counted_under = func.coalesce(Organisation.merged_into_id, Organisation.id)
    with_members = (
        select(counted_under)
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(is_member())
    )
    rows = session.execute(
        select(Organisation.prefecture, func.count(Organisation.id))
        .where(
            Organisation.kind.in_(MUNICIPALITY_KINDS),
            Organisation.prefecture.in_(list(prefectures)),
            Organisation.retired_at.is_(None),
            Organisation.id.in_(with_members),
        )
        .group_by(Organisation.prefecture)
    ).all()
    counted = {prefecture: count for prefecture, count in rows}
    return {prefecture: int(counted.get(prefecture, 0)) for prefecture in prefectures}
