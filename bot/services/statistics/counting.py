"""Who counts as a member, and counting several things in one pass over a table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func

from models import Member, MemberStatus


def is_member() -> ColumnElement[bool]:
    """A member, as counted: a person whose status is active, not a guest."""
    return and_(
        Member.status == MemberStatus.ACTIVE,
        Member.is_bot.is_(False),
        Member.guest_kind.is_(None),
    )


def is_guest() -> ColumnElement[bool]:
    """A guest or Slack Connect user in the workspace, counted apart from members."""
    return and_(Member.status == MemberStatus.ACTIVE, Member.guest_kind.is_not(None))


def joined() -> Any:
    # Members Kyoso never saw join count from when it first recorded them.
    return func.coalesce(Member.joined_at, Member.created_at)


def count_if(condition: ColumnElement[bool]) -> Any:
    """COUNT(*) FILTER (WHERE condition): several counts in one aggregate query."""
    return func.count().filter(condition)
