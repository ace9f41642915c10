"""Moves and leavers in figures, end to end: the secretariat's Home tab and the weekly report
count pending and confirmed moves, leavers per month and unverified affiliations per
prefecture; a member's Home shows their own move or departure and the two buttons."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.transfers.figures import transfer_figures
from models import (
    AffiliationCheck,
    AffiliationMove,
    CheckStatus,
    Departure,
    DepartureStatus,
    KnowledgeChoice,
    Member,
    MoveSource,
    MoveStatus,
    Role,
    SeasonAnswer,
    SeasonAnswerKind,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_statistics import NOW, add_member, ago, jst, org_id

JST = ZoneInfo("Asia/Tokyo")
SECRETARY, MOVER, LEAVER, PLAIN = "U0SEC", "U0MOVER", "U0LEAVER", "U0PLAIN"
_ids = itertools.count(1)


def _move(
    session: Session, member_id: int, status: MoveStatus, *, confirmed_at: datetime | None = None
) -> None:
    n = next(_ids)
    session.add(
        AffiliationMove(
            public_id=f"mv{n}",
            member_id=member_id,
            status=status,
            source=MoveSource.COMMAND,
            created_at=confirmed_at or NOW,
            updated_at=confirmed_at or NOW,
            confirmed_at=confirmed_at,
        )
    )


def _departure(session: Session, member_id: int, status: DepartureStatus, last_day: date) -> None:
    n = next(_ids)
    session.add(
        Departure(
            public_id=f"dp{n}",
            member_id=member_id,
            status=status,
            last_day=last_day,
            knowledge=KnowledgeChoice.ATTRIBUTED,
            requested_by="U0X",
            created_at=NOW,
            updated_at=NOW,
        )
    )


def _check(session: Session, member_id: int, status: CheckStatus) -> None:
    n = next(_ids)
    session.add(
        AffiliationCheck(
            public_id=f"ck{n}",
            member_id=member_id,
            status=status,
            created_at=NOW,
            updated_at=NOW,
        )
    )


@pytest.fixture
def seeded(emulator: SlackEmulator, session_factory: SessionFactory) -> None:
    """NOW is 2026-11-24: moves and leavers in October and November, checks in two
    prefectures, and what must not count (cancelled, refused, kept, before the window)."""
    for user_id in (SECRETARY, MOVER, LEAVER, PLAIN):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        sapporo, morioka = org_id(session, code="011002"), org_id(session, code="032018")
        add_member(
            session,
            SECRETARY,
            organisation_id=org_id(session, slug="digital"),
            joined_at=ago(days=300),
            roles=(Role.SECRETARIAT,),
        )
        mover = add_member(session, MOVER, organisation_id=sapporo, joined_at=ago(days=90))
        leaver = add_member(session, LEAVER, organisation_id=morioka, joined_at=ago(days=90))
        add_member(session, PLAIN, organisation_id=sapporo, joined_at=ago(days=90))
        others = [
            add_member(session, f"U0M{n}", organisation_id=morioka if n < 3 else sapporo)
            for n in range(5)
        ]
        _move(session, mover.id, MoveStatus.AWAITING)
        _move(session, others[0].id, MoveStatus.REVIEW)
        _move(session, others[1].id, MoveStatus.CONFIRMED, confirmed_at=jst(2026, 10, 5, 10))
        _move(session, others[2].id, MoveStatus.CONFIRMED, confirmed_at=jst(2026, 11, 2, 10))
        _move(session, others[3].id, MoveStatus.CONFIRMED, confirmed_at=jst(2026, 11, 20, 10))
        _move(session, others[4].id, MoveStatus.REFUSED)
        _move(session, others[4].id, MoveStatus.CONFIRMED, confirmed_at=jst(2026, 4, 1, 10))
        _departure(session, leaver.id, DepartureStatus.SCHEDULED, date(2026, 12, 28))
        _departure(session, others[0].id, DepartureStatus.DONE, date(2026, 11, 10))
        _departure(session, others[1].id, DepartureStatus.TODO, date(2026, 10, 31))
        _departure(session, others[2].id, DepartureStatus.CANCELLED, date(2026, 11, 15))
        for member in others[:3]:  # 岩手県
            _check(session, member.id, CheckStatus.OPEN)
        _check(session, others[3].id, CheckStatus.ASKED)  # 北海道
        _check(session, others[4].id, CheckStatus.KEPT)  # closed: not counted


def test_the_figures_count_what_happened_month_by_month(
    seeded: None, session_factory: SessionFactory
) -> None:
    with session_factory() as session:
        figures = transfer_figures(session, now=NOW, zone=JST)
    assert figures.pending_moves == 2  # awaiting and in review
    assert figures.scheduled_leavers == 1
    by_month = {m.month: (m.confirmed_moves, m.leavers) for m in figures.months}
    assert list(by_month) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert by_month["2026-10"] == (1, 1) and by_month["2026-11"] == (2, 1)
    assert by_month["2026-06"] == (0, 0)  # April's move is older than the window
    assert figures.unverified == (("岩手県", 3), ("北海道", 1))
    assert figures.unverified_total == 4


def _open_home(slack: SlackSender, emulator: SlackEmulator, user_id: str, containing: str) -> str:
    """Open the Home tab and wait for this opening's view (not an earlier one)."""
    published = len(emulator.calls_to("views.publish"))
    response = slack.event(
        {"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D0" + user_id}
    )
    assert response.status == 200

    wait_for(lambda: len(emulator.calls_to("views.publish")) > published)
    home = emulator.published_home(user_id)
    assert home is not None and len(home["blocks"]) <= 100
    assert containing in json.dumps(home, ensure_ascii=False)
    return json.dumps(home, ensure_ascii=False)


def test_the_secretariats_home_shows_moves_and_leavers(
    seeded: None, slack: SlackSender, emulator: SlackEmulator
) -> None:
    text = _open_home(slack, emulator, SECRETARY, "異動・退職")
    assert "確認待ちの所属変更" in text and "2026-11　所属変更 2 件 · 退職 1 人" in text
    assert "岩手県 3 · 北海道 1" in text


def test_a_member_sees_their_own_move_and_the_two_buttons(
    seeded: None, slack: SlackSender, emulator: SlackEmulator
) -> None:
    text = _open_home(slack, emulator, MOVER, "所属が変わりました")
    assert "確認メールをお送りしています" in text
    assert ids.TRANSFER_MOVE_HOME in text and ids.TRANSFER_LEAVE_HOME in text
    assert "異動・退職" not in text  # the figures are the secretariat's

    leaving = _open_home(slack, emulator, LEAVER, "最終日 2026/12/28")
    assert "確認メール" not in leaving

    plain = _open_home(slack, emulator, PLAIN, "所属が変わりました")
    assert "確認メール" not in plain and "最終日" not in plain


def test_the_weekly_report_carries_the_moves_and_leavers(
    seeded: None, emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    clock = FixedClock(jst(2026, 11, 30, 9))  # Monday 09:00 JST
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    assert find_job("weekly-report").run(context)["posted"] is True
    report = json.dumps(emulator.messages("C0REVIEW")[0]["blocks"], ensure_ascii=False)
    assert (
        "確認待ちの所属変更 2 件 · 今月の所属変更 2 件 · 今月の退職 1 人 · 所属未確認 4 人"
        in report
    )
    assert "岩手県 3 · 北海道 1" in report


def test_months_follow_the_secretariats_zone(seeded: None, session_factory: SessionFactory) -> None:
    """The month boundary is the secretariat's zone's: 2026-11-30 23:30 JST is November."""
    late = datetime(2026, 11, 30, 14, 30, tzinfo=ZoneInfo("UTC"))
    with session_factory() as session:
        figures = transfer_figures(session, now=late, zone=JST)
        after = transfer_figures(session, now=late + timedelta(hours=1), zone=JST)
    assert figures.months[-1].month == "2026-11" and after.months[-1].month == "2026-12"
    assert after.months[-2] == figures.months[-1]


def test_the_members_home_asks_the_seasons_question_during_the_window(
    seeded: None,
    slack: SlackSender,
    emulator: SlackEmulator,
    clock: FixedClock,
    session_factory: SessionFactory,
) -> None:
    assert "人事異動" not in _open_home(slack, emulator, PLAIN, "所属が変わりました")  # November

    clock.set(jst(2027, 3, 20, 10))
    text = _open_home(slack, emulator, PLAIN, "2027年4月の人事異動")
    assert "まだご回答がありません" in text

    with session_factory.begin() as session:
        member = session.scalar(select(Member).where(Member.slack_user_id == PLAIN))
        assert member is not None
        session.add(
            SeasonAnswer(
                season=2027,
                member_id=member.id,
                answer=SeasonAnswerKind.NO_CHANGE,
                answered_at=clock.now(),
            )
        )
    answered = _open_home(slack, emulator, PLAIN, "ご回答: ")
    assert "変更なし" in answered and "まだご回答がありません" not in answered

    clock.set(jst(2027, 6, 1, 10))
    assert "人事異動" not in _open_home(slack, emulator, PLAIN, "所属が変わりました")
