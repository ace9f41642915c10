"""Guests and Slack Connect users (Member.guest_kind, from Slack's user flags): counted
apart from members, listed on the secretariat's App Home."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.secretariat_guests import Guest, GuestList
from bot.services.statistics.counting import is_guest
from models import Member

# Guests named on the Home; their channels cost one users.conversations each.
GUESTS_SHOWN = 10


def guest_list(session: Session, *, limit: int = GUESTS_SHOWN) -> GuestList:
    """How many guests the workspace has, and the most recent ones."""
    total = session.scalar(select(func.count()).select_from(Member).where(is_guest())) or 0
    rows = session.execute(
        select(Member.slack_user_id, Member.guest_kind)
        .where(is_guest())
        .order_by(Member.created_at.desc(), Member.id.desc())
        .limit(limit)
    ).all()
    return GuestList(
        total=total,
        shown=tuple(Guest(user_id, kind) for user_id, kind in rows if kind is not None),
    )
