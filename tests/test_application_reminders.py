"""Undecided applications are reminded after 2 government business days (開庁日)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.eligibility.directory import OrganisationDirectory
from bot.services.applications import decisions, reminders, submission
from bot.services.applications.submission import ApplicationForm
from models import ApplicationSource

JST = ZoneInfo("Asia/Tokyo")


def _submit(session_factory: SessionFactory, clock: FixedClock, email: str) -> str:
    with session_factory.begin() as session:
        return submission.submit(
            session,
            clock=clock,
            directory=OrganisationDirectory.from_master_data(),
            form=ApplicationForm(email, "山田 太郎", "011002", None, None, "ja", "1"),
            source=ApplicationSource.WEB,
        ).application.public_id


def _overdue(session_factory: SessionFactory, clock: FixedClock) -> list[tuple[str, int]]:
    with session_factory() as session:
        return [
            (o.public_id, o.business_days)
            for o in reminders.overdue_for_reminder(session, clock=clock, zone=JST)
        ]


def test_weekends_and_holidays_do_not_count(session_factory: SessionFactory) -> None:
    # Friday 2026-11-20; Monday 11-23 is 勤労感謝の日, so Tuesday is business day 1.
    clock = FixedClock(datetime(2026, 11, 20, 17, 0, tzinfo=JST))
    public_id = _submit(session_factory, clock, "taro@city.sapporo.lg.jp")
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=JST))
    assert _overdue(session_factory, clock) == []
    clock.set(datetime(2026, 11, 25, 9, 30, tzinfo=JST))
    assert _overdue(session_factory, clock) == [(public_id, 2)]


def test_reminded_once_a_day_and_never_after_a_decision(session_factory: SessionFactory) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=JST))
    reminded = _submit(session_factory, clock, "a@city.sapporo.lg.jp")
    decided = _submit(session_factory, clock, "b@city.sapporo.lg.jp")
    clock.set(datetime(2026, 12, 3, 9, 30, tzinfo=JST))
    assert sorted(_overdue(session_factory, clock)) == sorted([(reminded, 2), (decided, 2)])
    with session_factory.begin() as session:
        reminders.mark_reminded(session, clock=clock, public_ids=[reminded])
        decisions.approve(session, clock=clock, public_id=decided, actor="U0SEC")
    assert _overdue(session_factory, clock) == []
    clock.set(datetime(2026, 12, 4, 9, 30, tzinfo=JST))
    assert _overdue(session_factory, clock) == [(reminded, 3)]


def test_year_end_closure_is_not_a_business_day(session_factory: SessionFactory) -> None:
    clock = FixedClock(datetime(2026, 12, 28, 15, 0, tzinfo=JST))
    _submit(session_factory, clock, "c@city.sapporo.lg.jp")
    clock.set(datetime(2027, 1, 4, 9, 30, tzinfo=JST))  # 12/29–1/3 closed: Monday is day 1
    assert [days for _, days in _overdue(session_factory, clock)] == []
