"""Who serves where on a given day: an appointment counts from its first to its last day,
while it is active and its member's account is; a prefecture without its own ambassador falls
back to its region's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from bot.regions import REGION_OF, prefectures_of
from models import AmbassadorAppointment, AppointmentStatus, Member, MemberStatus

_SERVING_MEMBER = (MemberStatus.ACTIVE, MemberStatus.INACTIVE, MemberStatus.FLAGGED)


def serving_on(today: date) -> ColumnElement[bool]:
    """The appointment runs on `today` (its member's account checked by the caller's join)."""
    return and_(
        AmbassadorAppointment.status == AppointmentStatus.ACTIVE,
        AmbassadorAppointment.starts_on <= today,
        AmbassadorAppointment.ends_on >= today,
    )


def _serving(session: Session, today: date) -> list[tuple[str, list[str], str | None]]:
    rows = session.execute(
        select(
            Member.slack_user_id,
            AmbassadorAppointment.prefectures,
            AmbassadorAppointment.region,
        )
        .join(Member, Member.id == AmbassadorAppointment.member_id)
        .where(serving_on(today), Member.status.in_(_SERVING_MEMBER))
        .order_by(AmbassadorAppointment.starts_on, AmbassadorAppointment.id)
    ).all()
    return [(user, list(prefectures or []), region) for user, prefectures, region in rows]


def ambassadors_for(session: Session, *, prefecture: str | None, today: date) -> tuple[str, ...]:
    """The Slack ids of the prefecture's ambassadors on `today`; its region's when it has
    none of its own; none for an unknown prefecture."""
    if prefecture is None:
        return ()
    serving = _serving(session, today)
    own = [user for user, prefectures, _ in serving if prefecture in prefectures]
    if own:
        return tuple(dict.fromkeys(own))
    region = REGION_OF.get(prefecture)
    return tuple(dict.fromkeys(user for user, _, r in serving if region and r == region))


def prefectures_served(session: Session, *, slack_user_id: str, today: date) -> tuple[str, ...]:
    """The prefectures an ambassador serves on `today` (a region: all of its prefectures), in
    the national code's order."""
    served: set[str] = set()
    for user, prefectures, region in _serving(session, today):
        if user != slack_user_id:
            continue
        served.update(prefectures)
        if region:
            served.update(prefectures_of(region))
    return _in_order(served)


def is_serving(session: Session, *, slack_user_id: str, today: date) -> bool:
    return bool(prefectures_served(session, slack_user_id=slack_user_id, today=today))


def _in_order(prefectures: Iterable[str]) -> tuple[str, ...]:
    wanted = set(prefectures)
    return tuple(p for p in REGION_OF if p in wanted)
