"""Ambassadors' appointments end to end: `/kyoso ambassadors` and its buttons and modals as
signed requests into the running app, the Slack emulator, a real database; the daily
`ambassadors-appointments` job with the app's fixed clock; the CSV import through the CLI.

DEFAULT_NOW is Tuesday 2026-11-24, 10:00 JST."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.cli import main
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.regions import PREFECTURES
from bot.services import members
from bot.services.ambassadors import appointments
from bot.services.lifecycle.policy import Policy
from bot.services.lifecycle.sweep import daily_sweep
from bot.services.transfers import departures
from bot.views.ambassadors import appointments as views
from models import (
    AmbassadorAppointment,
    AppointmentStatus,
    AuditEntry,
    Departure,
    DepartureStatus,
    InactivityCycle,
    KnowledgeChoice,
    Member,
    Organisation,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, AMB, AMB2, MEMBER = "U0SEC", "U0AMB", "U0AMBTWO", "U0TARO"
LONG_AGO = DEFAULT_NOW - timedelta(days=400)


def _at(day: date) -> datetime:
    """10:00 JST on `day`."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _seed(emulator: SlackEmulator, session_factory: SessionFactory) -> None:
    old = FixedClock(LONG_AGO)
    for user in (SECRETARY, AMB, AMB2, MEMBER):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.example.lg.jp")
    with session_factory.begin() as session:
        morioka = session.scalar(
            select(Organisation.id).where(
                Organisation.prefecture == "岩手県", Organisation.name == "盛岡市"
            )
        )
        assert morioka is not None
        for user in (SECRETARY, AMB, AMB2, MEMBER):
            member = members.ensure_member(session, clock=old, slack_user_id=user)
            member.email = member.email_normalized = f"{user.lower()}@city.example.lg.jp"
            member.last_seen_at = LONG_AGO
        amb = members.find(session, AMB)
        assert amb is not None
        amb.organisation_id = morioka
        members.grant_role(
            session, clock=old, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )


def _set_time(kyoso: RunningKyoso, day: date) -> None:
    clock = kyoso.kyoso.deps.clock
    assert isinstance(clock, FixedClock)
    clock.set(_at(day))


def _run_job(kyoso: RunningKyoso) -> dict[str, Any]:
    deps = kyoso.kyoso.deps
    ctx = JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )
    return find_job("ambassadors-appointments").run(ctx)


def _roster(slack: SlackSender, emulator: SlackEmulator, user: str = SECRETARY) -> Any:
    url = emulator.new_response_url()
    slack.command("/kyoso", "ambassadors", user_id=user, channel_id="C0REVIEW", response_url=url)
    return wait_for(lambda: emulator.responses(url))[-1]


def _press(
    slack: SlackSender,
    emulator: SlackEmulator,
    action_id: str,
    value: str,
    user: str,
    *,
    expect: str | None = None,
) -> list[Any]:
    """The answers to a button press; with `expect`, once one of them says it (an earlier
    press's later answer may come first)."""
    before = len(emulator.all_responses())
    assert (
        slack.block_action(
            action_id,
            value,
            user_id=user,
            channel_id="C0REVIEW",
            message={"ts": "1.000001", "text": "roster"},
        ).status
        == 200
    )

    def answers() -> list[Any]:
        new = [body for _, body in emulator.all_responses()[before:]]
        return new if expect is None or any(expect in _text(a) for a in new) else []

    return wait_for(answers)


def _open_appoint(slack: SlackSender, emulator: SlackEmulator) -> dict[str, Any]:
    before = len(emulator.opened_views())
    slack.block_action(ids.AMBASSADORS_APPOINT, user_id=SECRETARY, channel_id="C0REVIEW")
    return wait_for(lambda: emulator.opened_views()[before:])[-1]


def _values(
    member: str | None,
    *,
    prefectures: tuple[str, ...] = (),
    region: str | None = None,
    starts: str | None,
    ends: str | None,
) -> dict[str, Any]:
    def input_(kind: str, **value: Any) -> dict[str, Any]:
        return {ids.AMBASSADORS_INPUT: {"type": kind, **value}}

    return {
        ids.AMBASSADORS_MEMBER_BLOCK: input_("users_select", selected_user=member),
        ids.AMBASSADORS_PREFECTURES_BLOCK: input_(
            "multi_static_select", selected_options=[{"value": p} for p in prefectures]
        ),
        ids.AMBASSADORS_REGION_BLOCK: input_(
            "static_select", selected_option={"value": region} if region else None
        ),
        ids.AMBASSADORS_STARTS_BLOCK: input_("datepicker", selected_date=starts),
        ids.AMBASSADORS_ENDS_BLOCK: input_("datepicker", selected_date=ends),
    }


def _submit(
    slack: SlackSender,
    view: dict[str, Any],
    values: dict[str, Any],
    *,
    callback: str = ids.AMBASSADORS_APPOINT_MODAL,
    user: str = SECRETARY,
) -> dict[str, Any]:
    response = slack.view_submission(callback, view_id=view["id"], user_id=user, values=values)
    assert response.status == 200
    answer = response.json()
    assert isinstance(answer, dict)
    return answer


def _appoint(
    slack: SlackSender, emulator: SlackEmulator, member: str = AMB, **values: Any
) -> dict[str, Any]:
    view = _open_appoint(slack, emulator)
    return _submit(slack, view, _values(member, **values))


def _appointments(session_factory: SessionFactory) -> list[AmbassadorAppointment]:
    with session_factory() as session:
        return list(
            session.scalars(select(AmbassadorAppointment).order_by(AmbassadorAppointment.id))
        )


def _has_role(session_factory: SessionFactory, user: str) -> bool:
    with session_factory() as session:
        return members.has_role(session, user, Role.AMBASSADOR)


def _reminders(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages("C0REVIEW")
        if any(
            str(b.get("block_id", "")).startswith(ids.AMBASSADORS_REMINDER_BLOCK)
            for b in m.get("blocks") or []
        )
    ]


def _text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_appoint_list_extend_and_end_through_slack(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    assert "まだアンバサダーの任命はありません" in _text(_roster(slack, emulator))
    view = _open_appoint(slack, emulator)
    assert len(_text(view["blocks"])) and "岩手県" in _text(view["blocks"])
    values = _values(AMB, prefectures=("岩手県",), starts="2026-11-24", ends="2027-03-31")
    done = _submit(slack, view, values)
    assert done["response_action"] == "update" and "岩手県" in _text(done["view"])
    # A double submit makes one appointment.
    assert _submit(slack, view, values)["response_action"] == "update"
    (appointment,) = _appointments(session_factory)
    assert appointment.status is AppointmentStatus.ACTIVE
    assert appointment.prefectures == ["岩手県"] and appointment.region is None
    assert appointment.appointed_by == SECRETARY
    assert appointment.coverage_at_start == {"岩手県": 1}  # the ambassador's own 盛岡市
    assert _has_role(session_factory, AMB)

    roster = _roster(slack, emulator)
    shown = _text(roster["blocks"])
    assert f"<@{AMB}>" in shown and "岩手県" in shown and "残り 127 日" in shown
    assert ids.AMBASSADORS_ROSTER_BLOCK + appointment.public_id in shown

    # Extend: the modal shows the term; a later end moves it.
    before = len(emulator.opened_views())
    slack.block_action(
        ids.AMBASSADORS_EXTEND,
        appointment.public_id,
        user_id=SECRETARY,
        channel_id="C0REVIEW",
    )
    extend_view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    ends = {ids.AMBASSADORS_ENDS_BLOCK: {ids.AMBASSADORS_INPUT: {"type": "datepicker"}}}
    ends[ids.AMBASSADORS_ENDS_BLOCK][ids.AMBASSADORS_INPUT]["selected_date"] = "2027-01-31"
    refused = _submit(slack, extend_view, ends, callback=ids.AMBASSADORS_EXTEND_MODAL)
    assert refused["response_action"] == "errors"  # earlier than the current end
    ends[ids.AMBASSADORS_ENDS_BLOCK][ids.AMBASSADORS_INPUT]["selected_date"] = "2027-09-30"
    done = _submit(slack, extend_view, ends, callback=ids.AMBASSADORS_EXTEND_MODAL)
    assert done["response_action"] == "update" and "2027/09/30" in _text(done["view"])
    _submit(slack, extend_view, ends, callback=ids.AMBASSADORS_EXTEND_MODAL)
    (appointment,) = _appointments(session_factory)
    assert appointment.ends_on == date(2027, 9, 30)

    # End (behind a confirm dialog): the roster shows it as history, the role goes.
    answers = _press(
        slack, emulator, ids.AMBASSADORS_END, appointment.public_id, SECRETARY, expect="途中で終了"
    )
    assert any("途中で終了" in _text(a) for a in answers)
    (appointment,) = _appointments(session_factory)
    assert appointment.status is AppointmentStatus.ENDED
    assert (appointment.end_reason, appointment.ended_by) == ("ended", SECRETARY)
    assert not _has_role(session_factory, AMB)
    # A second click changes nothing and says so.
    answers = _press(
        slack, emulator, ids.AMBASSADORS_END, appointment.public_id, SECRETARY, expect="すでに終了"
    )
    assert any("すでに終了" in _text(a) for a in answers)
    with session_factory() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == appointment.public_id)
        ).all()
    assert sorted(actions) == ["ambassadors.appointed", "ambassadors.ended", "ambassadors.extended"]


def test_a_region_appointment_and_bad_input(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    bad = [
        (
            _values(AMB2, region="kanto", starts="2026-12-01", ends="2026-11-30"),
            ids.AMBASSADORS_ENDS_BLOCK,
            "開始日より後",
        ),
        (
            _values(AMB2, region="kanto", starts="2026-12-01", ends="2031-12-01"),
            ids.AMBASSADORS_ENDS_BLOCK,
            "4年以内",
        ),
        (
            _values(
                AMB2,
                prefectures=("千葉県",),
                region="kanto",
                starts="2026-12-01",
                ends="2027-11-30",
            ),
            ids.AMBASSADORS_PREFECTURES_BLOCK,
            "どちらか一方",
        ),
        (
            _values(AMB2, starts="2026-12-01", ends="2027-11-30"),
            ids.AMBASSADORS_PREFECTURES_BLOCK,
            "どちらか一方",
        ),
        (
            _values(AMB2, region="kanto", starts=None, ends=None),
            ids.AMBASSADORS_STARTS_BLOCK,
            "入力してください",
        ),
    ]
    view = _open_appoint(slack, emulator)
    for values, block, words in bad:
        answer = _submit(slack, view, values)
        assert answer["response_action"] == "errors", words
        assert words in answer["errors"][block]
    assert _appointments(session_factory) == []

    answer = _submit(
        slack, view, _values(AMB2, region="kanto", starts="2026-11-24", ends="2028-03-31")
    )
    assert "関東" in _text(answer["view"])
    (appointment,) = _appointments(session_factory)
    assert appointment.region == "kanto" and appointment.prefectures == []
    assert set(appointment.coverage_at_start) == {
        "茨城県",
        "栃木県",
        "群馬県",
        "埼玉県",
        "千葉県",
        "東京都",
        "神奈川県",
    }
    assert "関東（地方）" in _text(_roster(slack, emulator)["blocks"])
    # The same member for an overlapping term in the same region: refused under the member.
    again = _appoint(slack, emulator, AMB2, region="kanto", starts="2027-01-01", ends="2027-12-31")
    assert "すでに任命" in again["errors"][ids.AMBASSADORS_MEMBER_BLOCK]
    assert len(_appointments(session_factory)) == 1


def test_a_member_without_the_role_is_refused_everywhere(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _appoint(slack, emulator, prefectures=("岩手県",), starts="2026-11-24", ends="2027-03-31")
    (appointment,) = _appointments(session_factory)
    roster = _roster(slack, emulator, user=MEMBER)
    assert "事務局メンバーのみ" in roster["text"] and "岩手県" not in _text(roster)
    views_before = len(emulator.opened_views())
    for action_id in (ids.AMBASSADORS_APPOINT, ids.AMBASSADORS_EXTEND, ids.AMBASSADORS_END):
        answers = _press(
            slack, emulator, action_id, appointment.public_id, MEMBER, expect="事務局メンバーのみ"
        )
        assert any("事務局メンバーのみ" in _text(a) for a in answers)
    assert len(emulator.opened_views()) == views_before
    forged = slack.view_submission(
        ids.AMBASSADORS_EXTEND_MODAL,
        user_id=MEMBER,
        private_metadata=json.dumps({"language": "ja", "public_id": appointment.public_id}),
        values={
            ids.AMBASSADORS_ENDS_BLOCK: {
                ids.AMBASSADORS_INPUT: {"type": "datepicker", "selected_date": "2028-03-31"}
            }
        },
        blocks=[{"type": "input", "block_id": ids.AMBASSADORS_ENDS_BLOCK}],
    ).json()
    assert forged["response_action"] == "errors"
    (unchanged,) = _appointments(session_factory)
    assert unchanged.status is AppointmentStatus.ACTIVE and unchanged.ends_on == date(2027, 3, 31)


def test_the_reminder_comes_once_a_month_before_the_end_and_the_term_ends(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _appoint(slack, emulator, prefectures=("岩手県",), starts="2026-11-24", ends="2027-03-31")
    _appoint(slack, emulator, AMB, prefectures=("宮城県",), starts="2026-11-24", ends="2027-12-31")
    first, _ = _appointments(session_factory)
    _set_time(kyoso, date(2027, 2, 27))
    assert _run_job(kyoso)["reminded"] == 0
    _set_time(kyoso, date(2027, 2, 28))  # a month before 3/31
    assert _run_job(kyoso)["reminded"] == 1
    assert _run_job(kyoso)["reminded"] == 0
    (reminder,) = _reminders(emulator)
    assert f"<@{AMB}>" in reminder["text"] and "2027/03/31" in reminder["text"]

    # Extending moves the end: no reminder until a month before the new one.
    with session_factory.begin() as session:
        appointments.extend(
            session,
            clock=FixedClock(_at(date(2027, 3, 1))),
            public_id=first.public_id,
            ends_on=date(2027, 6, 30),
            actor=SECRETARY,
        )
    _set_time(kyoso, date(2027, 3, 1))
    assert _run_job(kyoso)["reminded"] == 0
    _set_time(kyoso, date(2027, 5, 30))
    assert _run_job(kyoso)["reminded"] == 1
    assert _run_job(kyoso)["reminded"] == 0
    assert len(_reminders(emulator)) == 2

    # The last day still serves; the day after, the term is over. The role stays: 宮城県 runs.
    _set_time(kyoso, date(2027, 6, 30))
    assert _run_job(kyoso)["ended"] == 0
    _set_time(kyoso, date(2027, 7, 1))
    assert _run_job(kyoso)["ended"] == 1
    first, second = _appointments(session_factory)
    assert (first.status, first.end_reason) == (AppointmentStatus.ENDED, "term")
    assert second.status is AppointmentStatus.ACTIVE and _has_role(session_factory, AMB)
    _set_time(kyoso, date(2028, 1, 1))
    result = _run_job(kyoso)
    assert result["ended"] == 1 and result["reminded"] == 0
    assert not _has_role(session_factory, AMB)
    assert _run_job(kyoso)["ended"] == 0


def test_a_future_start_grants_the_role_on_its_day(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _appoint(slack, emulator, prefectures=("岩手県",), starts="2026-12-01", ends="2027-11-30")
    assert not _has_role(session_factory, AMB)
    assert "2026/12/01 から" in _text(_roster(slack, emulator)["blocks"])
    _set_time(kyoso, date(2026, 11, 30))
    assert _run_job(kyoso)["started"] == 0 and not _has_role(session_factory, AMB)
    _set_time(kyoso, date(2026, 12, 1))
    assert _run_job(kyoso)["started"] == 1 and _has_role(session_factory, AMB)
    assert _run_job(kyoso)["started"] == 0
    (appointment,) = _appointments(session_factory)
    assert appointment.coverage_at_start == {"岩手県": 1}


def test_ambassadors_in_term_are_not_swept_and_leaving_ends_the_appointment(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _appoint(slack, emulator, prefectures=("岩手県",), starts="2026-11-24", ends="2027-03-31")
    _appoint(
        slack, emulator, AMB2, region="hokkaido_tohoku", starts="2025-11-24", ends="2026-11-30"
    )
    clock = kyoso.kyoso.deps.clock
    with session_factory.begin() as session:
        daily_sweep(session, clock=clock, policy=Policy())
    with session_factory() as session:
        swept = set(
            session.scalars(
                select(Member.slack_user_id).join(
                    InactivityCycle, InactivityCycle.member_id == Member.id
                )
            )
        )
    assert MEMBER in swept and AMB not in swept and AMB2 not in swept
    # AMB2's term ends: the next sweep asks them like anyone quiet for long.
    _set_time(kyoso, date(2026, 12, 1))
    assert _run_job(kyoso)["ended"] == 1
    with session_factory.begin() as session:
        daily_sweep(session, clock=clock, policy=Policy())
    with session_factory() as session:
        swept = set(
            session.scalars(
                select(Member.slack_user_id).join(
                    InactivityCycle, InactivityCycle.member_id == Member.id
                )
            )
        )
    assert AMB2 in swept and AMB not in swept

    # AMB leaves: the departure's hand-over ends the appointment.
    with session_factory.begin() as session:
        amb = members.find(session, AMB)
        assert amb is not None
        departure = Departure(
            public_id="DEP-1",
            member_id=amb.id,
            status=DepartureStatus.SCHEDULED,
            last_day=date(2026, 12, 1),
            knowledge=KnowledgeChoice.ATTRIBUTED,
            requested_by=AMB,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(departure)
        session.flush()
        departures.hand_over_rest(session, clock=clock, departure_id=departure.id)
    iwate = next(a for a in _appointments(session_factory) if a.prefectures == ["岩手県"])
    assert (iwate.status, iwate.end_reason) == (AppointmentStatus.ENDED, "departure")
    assert not _has_role(session_factory, AMB)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "KYOSO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    yield


GOOD = (
    "SlackユーザーID,メールアドレス,都道府県,地方,開始日,終了日\r\n"
    f"{AMB},,岩手県;宮城県,,2026/04/01,2028/03/31\r\n"
    f",{AMB2.lower()}@city.example.lg.jp,,関東,2026-04-01,2027-03-31\r\n"
)


def _import(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
    *args: str,
    encoding: str = "utf-8-sig",
) -> tuple[int, str]:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    code = main(["ambassadors", "import", str(path), *args], clock=FixedClock(DEFAULT_NOW))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_csv_import_is_all_or_nothing(
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    session_factory: SessionFactory,
) -> None:
    bad = GOOD + (
        f"{MEMBER},,ムー大陸,,2026/04/01,2027/03/31\r\n"
        "U0NOBODY,,青森県,,2026/04/01,2027/03/31\r\n"
        f"{MEMBER},,秋田県,,2027/04/01,2026/03/31\r\n"
    )
    code, out = _import(capsys, tmp_path, bad)
    assert code == 1
    assert "4\tエラー\t都道府県名がわかりません" in out
    assert "5\tエラー\tこのメンバーは Kyoso に登録されていません" in out
    assert "6\tエラー\t終了日が開始日より前です" in out
    assert "何も登録していません" in out
    assert _appointments(session_factory) == []

    code, out = _import(capsys, tmp_path, GOOD, "--dry-run", encoding="cp932")
    assert code == 0 and "2 件を登録できます" in out
    assert _appointments(session_factory) == []
    assert not _has_role(session_factory, AMB)

    code, out = _import(capsys, tmp_path, GOOD)
    assert code == 0 and "2 件の任命を登録しました" in out
    first, second = _appointments(session_factory)
    assert first.prefectures == ["岩手県", "宮城県"] and first.appointed_by == "cli"
    assert second.region == "kanto" and second.ends_on == date(2027, 3, 31)
    assert _has_role(session_factory, AMB) and _has_role(session_factory, AMB2)
    # The same file again overlaps what it recorded: refused, nothing doubled.
    code, out = _import(capsys, tmp_path, GOOD)
    assert code == 1 and "すでに任命" in out
    assert len(_appointments(session_factory)) == 2


def test_a_long_roster_is_paged_within_block_kit_limits_in_both_languages(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    clock = kyoso.kyoso.deps.clock
    with session_factory.begin() as session:
        for number, prefecture in enumerate(PREFECTURES):
            member = members.ensure_member(session, clock=clock, slack_user_id=f"U0P{number:03}")
            appointments.appoint(
                session,
                clock=clock,
                member=member,
                prefectures=[prefecture],
                region=None,
                starts_on=date(2026, 4, 1),
                ends_on=date(2027, 3, 31) + timedelta(days=number),
                actor=SECRETARY,
            )
            if number % 3 == 0:
                appointments.end(
                    session,
                    clock=clock,
                    public_id=session.scalars(
                        select(AmbassadorAppointment.public_id).order_by(
                            AmbassadorAppointment.id.desc()
                        )
                    ).first()
                    or "",
                    actor=SECRETARY,
                    reason="ended",
                )
    first = _roster(slack, emulator)
    assert len(first["blocks"]) <= 50
    next_button = next(
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.AMBASSADORS_PAGE_NEXT
    )
    seen = _text(first["blocks"])
    offset = next_button["value"]
    while offset is not None:
        (page,) = _press(slack, emulator, ids.AMBASSADORS_PAGE_NEXT, offset, SECRETARY)
        assert page["replace_original"] is True and len(page["blocks"]) <= 50
        seen += _text(page["blocks"])
        buttons = [
            e
            for b in page["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("action_id") == ids.AMBASSADORS_PAGE_NEXT
        ]
        offset = buttons[0]["value"] if buttons else None
    assert all(p in seen for p in PREFECTURES) and "これまでの任命" in seen
    with session_factory() as session:
        page = appointments.roster_page(session, today=date(2026, 11, 24), offset=40)
    for language in ("ja", "en"):
        rendered = views.roster_blocks(page, language)
        assert len(rendered) <= 50
        for block in rendered:
            block.to_dict()
        views.appoint_modal(language, public_id="AMB-x", today=date(2026, 11, 24)).to_dict()
        views.extend_modal(page.lines[0], language).to_dict()
