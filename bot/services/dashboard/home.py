"""What a member's Home tab shows: their own record; for the secretariat, the dashboard too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.dashboard import FacilitatedChannel, HomePage, MemberHome
from bot.domain.transfers import MemberTransfers
from bot.i18n import Language
from bot.services.ambassadors.figures import ambassador_figures
from bot.services.ambassadors.overview import ambassador_section
from bot.services.dashboard.queues import queues
from bot.services.onboarding.records import member_record
from bot.services.secretariat.guests import guest_list
from bot.services.statistics.figures import compute
from bot.services.transfers.figures import member_transfers, transfer_figures
from bot.services.transfers.season_calendar import SeasonCalendar
from models import Channel, ChannelFacilitator, ChannelStatus, Member

FACILITATED_SHOWN = 10


def home_page(
    session: Session,
    user_id: str,
    *,
    language: Language,
    now: datetime,
    zone: ZoneInfo,
    calendar: SeasonCalendar | None = None,
) -> HomePage:
    """The member's page; the secretariat's (by their stored role) adds queues and figures."""
    home = member_home(session, user_id, language, now=now, zone=zone, calendar=calendar)
    ambassador = ambassador_section(session, user_id=user_id, now=now, zone=zone)
    if not home.is_secretariat:
        return HomePage(home, ambassador=ambassador)
    return HomePage(
        home,
        ambassador=ambassador,
        queues=queues(session, now=now, zone=zone),
        statistics=compute(session, now=now, zone=zone),
        transfers=transfer_figures(session, now=now, zone=zone),
        ambassadors=ambassador_figures(session, now=now, zone=zone),
        guests=guest_list(session),
    )


def member_home(
    session: Session,
    user_id: str,
    language: Language,
    *,
    now: datetime,
    zone: ZoneInfo,
    calendar: SeasonCalendar | None = None,
    shown: int = FACILITATED_SHOWN,
) -> MemberHome:
    record = member_record(session, user_id, language)
    if record is None:
        return MemberHome(user_id=user_id, status=None)
    facilitated = (
        select(Channel)
        .join(ChannelFacilitator, ChannelFacilitator.channel_id == Channel.id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == user_id, Channel.status == ChannelStatus.ACTIVE)
    )
    total = session.scalar(select(func.count()).select_from(facilitated.subquery())) or 0
    channels = session.scalars(facilitated.order_by(Channel.name).limit(shown))
    member_id = session.scalar(select(Member.id).where(Member.slack_user_id == user_id))
    return MemberHome(
        user_id=user_id,
        status=record.status,
        organisation=record.organisation,
        department=record.department,
        roles=record.roles,
        joined_at=record.joined_at,
        rules_state=record.rules_state.value,
        facilitated=tuple(FacilitatedChannel(c.slack_channel_id, c.name) for c in channels),
        facilitated_total=total,
        transfers=member_transfers(
            session, member_id=member_id, now=now, zone=zone, calendar=calendar
        )
        if member_id is not None
        else MemberTransfers(),
    )
