"""`/kyoso cases`: the open cases a page at a time, or one member's history."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.moderation import CASES_PAGE_SIZE as PAGE_SIZE
from bot.domain.moderation import OPEN_STATUSES, CaseLine, CasesPage
from bot.services.moderation.reading import history_of
from bot.services.moderation.reports import reports_of
from bot.text import parse_int
from models import ModerationCase

MAX_PAGE = 100_000  # a page number beyond it is answered, not looked up

_USER_ARGUMENT = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})")


class NotUnderstood(ValueError):
    """Neither a page number nor a member."""


class NoSuchPage(LookupError):
    def __init__(self, asked: str, pages: int) -> None:
        super().__init__(asked)
        self.asked = asked if len(asked) <= 12 else asked[:12] + "…"
        self.pages = pages


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


AlertRef = tuple[str | None, str | None]  # where a case's alert is: channel, ts


def cases_page(session: Session, *, argument: str) -> tuple[CasesPage, list[AlertRef]]:
    """`argument` is what followed `/kyoso cases`: nothing, a page number, or a member.
    The alerts' links are Slack's to give: each line comes with where its alert is."""
    argument = argument.strip()
    who = _USER_ARGUMENT.fullmatch(argument)
    if who is not None:
        author = who.group(1) or who.group(2)
        found, total = cases_of(session, author, limit=PAGE_SIZE)
        return CasesPage(_lines(session, found), author, total, page=1, pages=1), _refs(found)
    if argument and not argument.isdigit():
        raise NotUnderstood(argument)
    page = parse_int(argument, low=1, high=MAX_PAGE) if argument else 1
    if page is None:
        _, total = open_cases(session, offset=0, limit=1)
        raise NoSuchPage(argument, _pages(total))
    found, total = open_cases(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if page > _pages(total):
        raise NoSuchPage(argument, _pages(total))
    listed = CasesPage(_lines(session, found), None, total, page=page, pages=_pages(total))
    return listed, _refs(found)


def _refs(found: list[ModerationCase]) -> list[AlertRef]:
    return [(c.alert_channel_id, c.alert_ts) for c in found]


def _lines(session: Session, found: list[ModerationCase]) -> tuple[CaseLine, ...]:
    return tuple(
        CaseLine(
            public_id=c.public_id,
            channel_id=c.channel_id,
            author_id=c.author_id,
            created_at=c.created_at,
            status=c.status,
            reasons=tuple(c.reasons or []),
            report_count=len(reports_of(session, c.id)),
            earlier_cases=history_of(session, c.author_id, excluding=c.id, recent=0).total,
            alert_link=None,
        )
        for c in found
    )


def open_cases(
    session: Session, *, offset: int = 0, limit: int = 10
) -> tuple[list[ModerationCase], int]:
    """Undecided cases, oldest first, one page of them, and how many there are."""
    total = session.scalar(
        select(func.count())
        .select_from(ModerationCase)
        .where(ModerationCase.status.in_(OPEN_STATUSES))
    )
    page = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.status.in_(OPEN_STATUSES))
        .order_by(ModerationCase.created_at, ModerationCase.id)
        .offset(offset)
        .limit(limit)
    )
    return list(page), int(total or 0)


def cases_of(
    session: Session, author_id: str, *, limit: int = 10
) -> tuple[list[ModerationCase], int]:
    total = session.scalar(
        select(func.count())
        .select_from(ModerationCase)
        .where(ModerationCase.author_id == author_id)
    )
    page = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.author_id == author_id)
        .order_by(ModerationCase.created_at.desc(), ModerationCase.id.desc())
        .limit(limit)
    )
    return list(page), int(total or 0)
