"""The 異動 season end to end: the March survey DM to every member (once, in business hours,
not during do-not-disturb, surviving a crash), its three buttons pressed the way Slack sends
them, the reminders after April 8, and nothing outside the window."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, insert, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.gateway import build_gateway
from bot.services.lifecycle.policy import CLAIM_LEASE
from bot.services.transfers.season import season_banner, stage_surveys
from bot.services.transfers.season_contacts import SeasonDM
from bot.settings import Settings
from bot.slack.lifecycle.pacing import TokenBucket
from bot.slack.transfers.season import SeasonRun, SeasonSender
from models import (
    AffiliationMove,
    AttemptStatus,
    AuditEntry,
    Member,
    MemberStatus,
    MoveSource,
    MoveStatus,
    SeasonAnswer,
    SeasonAnswerKind,
    SeasonContact,
    SeasonContactKind,
)
from scheduler import transfers_season_jobs
from scheduler.jobs import JobContext
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import RecordedCall, SlackEmulator
from tests.support.slack_sender import SlackSender

JST = ZoneInfo("Asia/Tokyo")


def jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST).astimezone(UTC)


SURVEY_DAY = date(2027, 3, 15)  # a Monday
HOLIDAY = date(2027, 3, 22)  # 振替休日 (春分の日 falls on a Sunday)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(jst(SURVEY_DAY, 10))


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return make_settings(emulator.api_url, database_url)


def _add_members(
    emulator: SlackEmulator, session_factory: SessionFactory, users: list[str], **extra: Any
) -> None:
    for user in users:
        emulator.add_user(user, name=user.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        session.execute(
            insert(Member),
            [
                {
                    "slack_user_id": user,
                    "status": MemberStatus.ACTIVE,
                    "is_bot": False,
                    "locale": "ja",
                    "last_seen_at": LONG_AGO,
                    "created_at": LONG_AGO,
                    "updated_at": LONG_AGO,
                    **extra,
                }
                for user in users
            ],
        )


def _sender(
    session_factory: SessionFactory, clock: FixedClock, settings: Settings, **kwargs: Any
) -> SeasonSender:
    client = WebClient(token="xoxb-test", base_url=settings.slack_api_url)
    gateway = build_gateway(
        settings, client=client, admin_client=None, session_factory=session_factory, clock=clock
    )
    return gateway.transfers.season.start(bucket=TokenBucket(60_000, burst=100), **kwargs)


def _run(session_factory: SessionFactory, clock: FixedClock, settings: Settings) -> SeasonRun:
    return _sender(session_factory, clock, settings).run()


def _season_posts(emulator: SlackEmulator, kind: str = "survey") -> list[RecordedCall]:
    return [
        call
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and f"transfer_season:season:2027:{kind}:" in str(call.params.get("blocks"))
    ]


def _per_member(emulator: SlackEmulator, kind: str = "survey") -> Counter[str]:
    return Counter(str(call.params["channel"]) for call in _season_posts(emulator, kind))


def _contacts(session_factory: SessionFactory) -> list[SeasonContact]:
    with session_factory() as session:
        return list(session.scalars(select(SeasonContact).order_by(SeasonContact.id)))


def test_the_march_survey_reaches_each_member_once_in_business_hours(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    users = [f"U0S{n:04d}" for n in range(30)]
    _add_members(emulator, session_factory, users)
    _add_members(emulator, session_factory, ["U0BOT"], is_bot=True)
    _add_members(emulator, session_factory, ["U0GONE"], status=MemberStatus.DEACTIVATED)

    # 8:30 on the survey's day: staged (database work), nothing sent before 9:00.
    clock.set(jst(SURVEY_DAY, 8, 30))
    early = _run(session_factory, clock, settings)
    assert (early.season, early.surveys_staged, early.dms, early.stopped) == (
        2027,
        30,
        0,
        "hours",
    )
    # A holiday (振替休日) at 10:00: nothing sent, nothing staged twice.
    clock.set(jst(HOLIDAY, 10))
    holiday = _run(session_factory, clock, settings)
    assert (holiday.surveys_staged, holiday.dms, holiday.stopped) == (0, 0, "hours")
    assert _season_posts(emulator) == []

    # The next 開庁日: everyone but the member in do-not-disturb, who is postponed.
    clock.set(jst(HOLIDAY + timedelta(days=1), 10))
    now = clock.now().timestamp()
    sleepy = users[7]
    emulator.set_dnd(
        sleepy, dnd_enabled=True, next_dnd_start_ts=now - 600, next_dnd_end_ts=now + 3600
    )
    first = _run(session_factory, clock, settings)
    assert (first.surveys_staged, first.dms, first.deferred, first.stopped) == (0, 29, 1, "done")
    assert sleepy not in _per_member(emulator)
    # Run again at once (the next hourly run): nothing staged, nothing sent twice.
    again = _run(session_factory, clock, settings)
    assert (again.surveys_staged, again.dms, again.deferred) == (0, 0, 0)

    # After their do-not-disturb: the postponed member gets it.
    emulator.set_dnd(sleepy)
    clock.advance(timedelta(hours=1, minutes=1))
    later = _run(session_factory, clock, settings)
    assert (later.dms, later.deferred) == (1, 0)

    per_member = _per_member(emulator)
    assert set(per_member) == set(users) and set(per_member.values()) == {1}
    contacts = _contacts(session_factory)
    assert len(contacts) == 30
    assert {c.status for c in contacts} == {AttemptStatus.SENT}
    assert {c.key for c in contacts} == {f"season:2027:survey:{c.member_id}" for c in contacts}
    dm = emulator.dm_messages(users[0])[-1]
    assert "4月に所属の変更はありますか" in dm["text"]
    actions = [e.get("action_id") for b in dm["blocks"] for e in b.get("elements") or []]
    assert ids.TRANSFER_SEASON_NO_CHANGE in actions and ids.TRANSFER_SEASON_LEAVING in actions


class _Crash(Exception):
    """Stands for the process dying: nothing after it runs."""


def test_a_crash_after_slack_took_the_dm_sends_no_duplicate(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    users = [f"U0C{n:04d}" for n in range(40)]
    _add_members(emulator, session_factory, users)
    posted: list[SeasonDM] = []

    def crash_after_the_15th(dm: SeasonDM) -> None:
        posted.append(dm)
        if len(posted) == 15:
            raise _Crash

    with pytest.raises(_Crash):
        _sender(session_factory, clock, settings, after_post=crash_after_the_15th).run()
    assert len(_season_posts(emulator)) == 15
    sent = [c for c in _contacts(session_factory) if c.status is AttemptStatus.SENT]
    assert len(sent) == 14  # the 15th was taken by Slack, its result never recorded

    # Restarted at once: the claim is within its lease, left alone; the others go out.
    early = _run(session_factory, clock, settings)
    assert (early.recovered, early.resent, early.dms) == (0, 0, 25)
    # Later: the DM is found in the member's IM and recorded as sent, not sent again.
    clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    late = _run(session_factory, clock, settings)
    assert (late.recovered, late.resent, late.dms) == (1, 0, 0)

    per_member = _per_member(emulator)
    assert set(per_member) == set(users) and set(per_member.values()) == {1}
    assert {c.status for c in _contacts(session_factory)} == {AttemptStatus.SENT}


def test_outside_the_window_or_before_the_survey_day_nothing_is_staged(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _add_members(emulator, session_factory, ["U0W0001", "U0W0002"])
    for moment in (jst(date(2027, 2, 26), 10), jst(date(2027, 6, 1), 10)):
        clock.set(moment)
        run = _run(session_factory, clock, settings)
        assert (run.season, run.stopped, run.surveys_staged) == (None, "outside the window", 0)
    clock.set(jst(date(2027, 3, 12), 10))  # in the window, before mid-March
    before = _run(session_factory, clock, settings)
    assert (before.season, before.surveys_staged, before.dms) == (2027, 0, 0)
    assert _contacts(session_factory) == [] and _season_posts(emulator) == []

    # A configured window: KYOSO_TRANSFER_SEASON and the survey's day.
    custom = make_settings(
        settings.slack_api_url,
        settings.database_url,
        KYOSO_TRANSFER_SEASON="02-15..04-30",
        KYOSO_TRANSFER_SURVEY_DAY="02-20",
    )
    clock.set(jst(date(2027, 2, 26), 10))
    run = _run(session_factory, clock, custom)
    assert (run.season, run.surveys_staged, run.dms) == (2027, 2, 2)
    # Staging again stages nothing twice.
    with session_factory.begin() as session:
        assert stage_surveys(session, now=clock.now(), season=2027) == 0
    assert len(_contacts(session_factory)) == 2


# --- the buttons and the reminders, through the running app -------------------------------

HANAKO, TARO, JIRO, OUTSIDER = "U0HANAKO", "U0TARO", "U0JIRO", "U0OUTSIDER"


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    _add_members(emulator, session_factory, [HANAKO, TARO, JIRO, OUTSIDER])
    settings = make_settings(emulator.api_url, database_url, KYOSO_CONTACTS_PER_MINUTE="6000")
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _job(kyoso: RunningKyoso) -> dict[str, Any]:
    deps = kyoso.kyoso.deps
    context = JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )
    return transfers_season_jobs.run_season(context)


def _season_dm(emulator: SlackEmulator, user: str, kind: str = "survey") -> dict[str, Any]:
    return next(
        m
        for m in emulator.dm_messages(user)
        if any(f":{kind}:" in str(b.get("block_id", "")) for b in m["blocks"])
    )


def _press(
    slack: SlackSender,
    emulator: SlackEmulator,
    action_id: str,
    dm: dict[str, Any],
    *,
    user: str,
    owner: str,
) -> dict[str, Any]:
    """Press a button of `owner`'s DM as `user`; the reply Slack got on the response URL."""
    value = next(
        e["value"]
        for b in dm["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == action_id
    )
    before = len(emulator.all_responses())
    response = slack.block_action(
        action_id, value, user_id=user, channel_id=emulator.im_channel_id(owner), message=dm
    )
    assert response.status == 200
    wait_for(lambda: len(emulator.all_responses()) > before)
    return dict(emulator.all_responses()[-1][1])


def _answer(session_factory: SessionFactory, user: str) -> SeasonAnswer | None:
    with session_factory() as session:
        return session.scalar(
            select(SeasonAnswer)
            .join(Member, Member.id == SeasonAnswer.member_id)
            .where(Member.slack_user_id == user)
        )


def _opened(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [dict(call.params["view"]) for call in emulator.calls_to("views.open") if call.ok]


def _answer_audits(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.target_id)
                .where(AuditEntry.action == "transfers.season.answered")
                .order_by(AuditEntry.id)
            )
        )


def test_the_three_buttons(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    assert _job(kyoso)["dms"] == 4
    hanako_dm = _season_dm(emulator, HANAKO)

    # Someone else pressing a forwarded copy of her button: refused, nothing recorded.
    refused = _press(
        slack, emulator, ids.TRANSFER_SEASON_NO_CHANGE, hanako_dm, user=OUTSIDER, owner=HANAKO
    )
    assert refused["replace_original"] is False
    assert "このメッセージを受け取った方だけ" in refused["text"]
    assert _answer(session_factory, HANAKO) is None and _answer(session_factory, OUTSIDER) is None

    # A button of another season (a forged or stale value): a polite answer, nothing recorded.
    slack.block_action(
        ids.TRANSFER_SEASON_NO_CHANGE,
        "season:2026:survey:1",
        user_id=HANAKO,
        channel_id=emulator.im_channel_id(HANAKO),
        message=hanako_dm,
    )
    wait_for(lambda: len(emulator.all_responses()) == 2)
    assert "この質問の受付は終了しました" in emulator.all_responses()[-1][1]["text"]
    assert _answer(session_factory, HANAKO) is None

    # 変更なし: recorded, the DM updated in place; twice: recorded once.
    for _ in range(2):
        updated = _press(
            slack, emulator, ids.TRANSFER_SEASON_NO_CHANGE, hanako_dm, user=HANAKO, owner=HANAKO
        )
        assert updated["replace_original"] is True
        assert "ご回答: *変更なし*" in str(updated["blocks"])
    answer = _answer(session_factory, HANAKO)
    assert answer is not None and answer.answer is SeasonAnswerKind.NO_CHANGE
    assert _answer_audits(session_factory) == [HANAKO]

    # 異動します: MOVING from April 1, and the move form opens with that date.
    taro_dm = _season_dm(emulator, TARO)
    _press(slack, emulator, ids.TRANSFER_SEASON_MOVING, taro_dm, user=TARO, owner=TARO)
    answer = _answer(session_factory, TARO)
    assert answer is not None
    assert (answer.answer, answer.effective_on) == (SeasonAnswerKind.MOVING, date(2027, 4, 1))
    move_form = _opened(emulator)[-1]
    assert move_form["callback_id"] == ids.TRANSFER_MOVE_MODAL
    assert "2027-04-01" in str(move_form["blocks"])
    assert MoveSource.SURVEY.value in str(move_form.get("private_metadata"))

    # 退職します: LEAVING, and the leaving form opens with March 31 as the last day.
    jiro_dm = _season_dm(emulator, JIRO)
    _press(slack, emulator, ids.TRANSFER_SEASON_LEAVING, jiro_dm, user=JIRO, owner=JIRO)
    answer = _answer(session_factory, JIRO)
    assert answer is not None and answer.answer is SeasonAnswerKind.LEAVING
    leave_form = _opened(emulator)[-1]
    assert leave_form["callback_id"] == ids.TRANSFER_LEAVE_MODAL
    assert "2027-03-31" in str(leave_form["blocks"])

    # The latest answer counts: Taro is not moving after all.
    _press(slack, emulator, ids.TRANSFER_SEASON_NO_CHANGE, taro_dm, user=TARO, owner=TARO)
    answer = _answer(session_factory, TARO)
    assert answer is not None and answer.answer is SeasonAnswerKind.NO_CHANGE
    assert _answer_audits(session_factory) == [HANAKO, TARO, JIRO, TARO]

    # App Home's banner shows the question and the answer during the window.
    deps = kyoso.kyoso.deps
    with session_factory() as session:
        member_id = session.scalar(select(Member.id).where(Member.slack_user_id == JIRO))
        assert member_id is not None
        banner = season_banner(
            session, now=deps.clock.now(), zone=deps.settings.zone, member_id=member_id
        )
        assert banner is not None and banner.answer is SeasonAnswerKind.LEAVING
        assert banner.season == 2027 and banner.window_ends == date(2027, 5, 31)
        after = season_banner(
            session, now=jst(date(2027, 6, 1), 10), zone=deps.settings.zone, member_id=member_id
        )
        assert after is None


def _answered(session_factory: SessionFactory, user: str, kind: SeasonAnswerKind) -> int:
    at = jst(date(2027, 3, 16), 11)
    with session_factory.begin() as session:
        member_id = session.scalar(select(Member.id).where(Member.slack_user_id == user))
        assert member_id is not None
        session.add(SeasonAnswer(season=2027, member_id=member_id, answer=kind, answered_at=at))
    return member_id


def test_reminders_after_april_8_to_movers_who_never_confirmed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _answered(session_factory, HANAKO, SeasonAnswerKind.NO_CHANGE)
    _answered(session_factory, TARO, SeasonAnswerKind.MOVING)
    jiro = _answered(session_factory, JIRO, SeasonAnswerKind.MOVING)
    confirmed = jst(date(2027, 3, 25), 14)
    with session_factory.begin() as session:
        session.add(
            AffiliationMove(
                public_id="mv-jiro",
                member_id=jiro,
                status=MoveStatus.CONFIRMED,
                source=MoveSource.SURVEY,
                created_at=confirmed,
                updated_at=confirmed,
                confirmed_at=confirmed,
            )
        )

    clock.set(jst(date(2027, 4, 7), 10))  # after April 1, before the reminders' day
    early = _job(kyoso)
    assert early["reminders_staged"] == 0 and _per_member(emulator, "reminder") == {}

    clock.set(jst(date(2027, 4, 8), 10))
    run = _job(kyoso)
    assert run["reminders_staged"] == 1
    assert _per_member(emulator, "reminder") == {TARO: 1}
    again = _job(kyoso)
    assert again["reminders_staged"] == 0 and _per_member(emulator, "reminder") == {TARO: 1}
    with session_factory() as session:
        kinds = session.scalars(
            select(SeasonContact.kind).where(SeasonContact.kind == SeasonContactKind.REMINDER)
        ).all()
        assert len(kinds) == 1

    reminder = _season_dm(emulator, TARO, "reminder")
    assert "異動の手続きがまだ完了していません" in reminder["text"]
    refused = _press(
        slack, emulator, ids.TRANSFER_SEASON_REMINDER_MOVE, reminder, user=OUTSIDER, owner=TARO
    )
    assert "このメッセージを受け取った方だけ" in refused["text"]
    assert _opened(emulator) == []
    slack.block_action(
        ids.TRANSFER_SEASON_REMINDER_MOVE,
        reminder["blocks"][2]["elements"][0]["value"],
        user_id=TARO,
        channel_id=emulator.im_channel_id(TARO),
        message=reminder,
    )
    wait_for(lambda: len(_opened(emulator)) == 1)
    assert _opened(emulator)[0]["callback_id"] == ids.TRANSFER_MOVE_MODAL
    with session_factory() as session:
        surveys = session.scalar(
            select(func.count())
            .select_from(SeasonContact)
            .where(SeasonContact.kind == SeasonContactKind.SURVEY)
        )
    assert surveys == 1  # only the member who had not answered was asked
