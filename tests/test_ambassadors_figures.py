"""The secretariat's figures on ambassadors, end to end: ambassadors per region, prefectures
with nobody (own or regional), greetings claimed and the median time to claim, and coverage
since each prefecture's ambassador began — on the secretariat's Home and in the weekly report."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.regions import PREFECTURES, prefectures_of
from bot.services.ambassadors.figures import ambassador_figures
from models import (
    AmbassadorAppointment,
    AmbassadorGreeting,
    AppointmentStatus,
    GreetingStatus,
    MemberStatus,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_statistics import NOW, add_member, ago, jst, org_id

JST = ZoneInfo("Asia/Tokyo")
SECRETARY = "U0SEC"
_ids = itertools.count(1)
MORIOKA, HANAMAKI, KITAKAMI = "032018", "032051", "032069"


def _appoint(
    session: Session,
    member_id: int,
    *,
    prefectures: list[str] | None = None,
    region: str | None = None,
    starts_on: date,
    ends_on: date = date(2027, 3, 31),
    status: AppointmentStatus = AppointmentStatus.ACTIVE,
    coverage: dict[str, int] | None = None,
) -> None:
    session.add(
        AmbassadorAppointment(
            public_id=f"ap{next(_ids)}",
            member_id=member_id,
            status=status,
            prefectures=prefectures or [],
            region=region,
            starts_on=starts_on,
            ends_on=ends_on,
            appointed_by=SECRETARY,
            coverage_at_start=coverage or {},
            created_at=NOW,
            updated_at=NOW,
        )
    )


def _greeting(session: Session, member_id: int, *, hours_to_claim: float | None) -> None:
    created = ago(days=5)
    claimed = hours_to_claim is not None
    session.add(
        AmbassadorGreeting(
            member_id=member_id,
            status=GreetingStatus.CLAIMED if claimed else GreetingStatus.OPEN,
            prefecture="岩手県",
            claimed_by="U0AMB1" if claimed else None,
            claimed_at=created + timedelta(hours=hours_to_claim) if claimed else None,
            created_at=created,
            updated_at=created,
        )
    )


@pytest.fixture
def seeded(emulator: SlackEmulator, session_factory: SessionFactory) -> None:
    """岩手県 has its own ambassador since April (2 municipalities covered then, 3 now), 関東 a
    regional one, an ended term in 宮城県 counts for nothing; three greetings."""
    emulator.add_user(SECRETARY, name="sec", locale="ja-JP")
    with session_factory.begin() as session:
        add_member(
            session,
            SECRETARY,
            organisation_id=org_id(session, slug="digital"),
            roles=(Role.SECRETARIAT,),
        )
        iwate = add_member(session, "U0AMB1", organisation_id=org_id(session, code=MORIOKA))
        kanto = add_member(session, "U0AMB2", organisation_id=org_id(session, code="131016"))
        ended = add_member(session, "U0AMB3", organisation_id=org_id(session, code="041009"))
        gone = add_member(session, "U0AMB4", status=MemberStatus.DEACTIVATED)
        for n, code in enumerate((MORIOKA, HANAMAKI, KITAKAMI)):
            add_member(session, f"U0IW{n}", organisation_id=org_id(session, code=code))
        newcomers = [add_member(session, f"U0NEW{n}") for n in range(3)]
        _appoint(
            session,
            iwate.id,
            prefectures=["岩手県"],
            starts_on=date(2026, 4, 1),
            coverage={"岩手県": 2},
        )
        _appoint(session, kanto.id, region="kanto", starts_on=date(2026, 10, 1))
        _appoint(
            session,
            ended.id,
            prefectures=["宮城県"],
            starts_on=date(2025, 4, 1),
            ends_on=date(2026, 3, 31),
        )
        _appoint(session, gone.id, prefectures=["秋田県"], starts_on=date(2026, 4, 1))
        _greeting(session, newcomers[0].id, hours_to_claim=2)
        _greeting(session, newcomers[1].id, hours_to_claim=10)
        _greeting(session, newcomers[2].id, hours_to_claim=None)


def test_the_figures(seeded: None, session_factory: SessionFactory) -> None:
    with session_factory() as session:
        figures = ambassador_figures(session, now=NOW, zone=JST)
    regions = dict(figures.by_region)
    assert regions["hokkaido_tohoku"] == 1 and regions["kanto"] == 1 and figures.ambassadors == 2
    assert "岩手県" not in figures.prefectures_without
    assert not set(prefectures_of("kanto")) & set(figures.prefectures_without)  # regional
    assert "宮城県" in figures.prefectures_without  # the term ended
    assert "秋田県" in figures.prefectures_without  # the ambassador's account is gone
    assert len(figures.prefectures_without) == len(PREFECTURES) - 1 - 7
    assert (figures.greetings_claimed, figures.greetings_open) == (2, 1)
    assert figures.median_hours_to_greet == pytest.approx(6.0)
    [iwate] = figures.coverage
    assert (iwate.prefecture, iwate.since, iwate.at_start, iwate.now) == (
        "岩手県",
        date(2026, 4, 1),
        2,
        3,
    )


def test_the_secretariats_home_and_the_weekly_report_show_them(
    seeded: None,
    slack: SlackSender,
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
) -> None:
    published = len(emulator.calls_to("views.publish"))
    slack.event({"type": "app_home_opened", "user": SECRETARY, "tab": "home", "channel": "D0S"})
    wait_for(lambda: len(emulator.calls_to("views.publish")) > published)
    home = emulator.published_home(SECRETARY)
    assert home is not None and len(home["blocks"]) <= 100
    text = json.dumps(home, ensure_ascii=False)
    assert "任期中のアンバサダー" in text and "北海道・東北 1 · 関東 1" in text
    assert "岩手県　2 → 3（+1、2026/04/01 から）" in text
    assert "担当済み 2 件 · 担当待ち 1 件" in text and "6.0 時間" in text

    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=FixedClock(jst(2026, 11, 30, 9)),
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    assert find_job("weekly-report").run(context)["posted"] is True
    report = json.dumps(emulator.messages("C0REVIEW")[0]["blocks"], ensure_ascii=False)
    assert "*アンバサダー* 任期中 2 人" in report and "担当までの中央値 6.0 時間" in report
