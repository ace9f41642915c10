"""Onboarding's scheduled jobs with a fixed clock: reminders, nudges, re-asks, the stuck list."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.onboarding import (
    AcceptedState,
    ChannelRef,
    IntroDraft,
    Introduction,
    MemberRecord,
    ProfileProblems,
    RulesState,
    StuckMember,
    Suggestions,
    UnmatchedJoin,
    Welcome,
)
from bot.eligibility.directory import OrganisationDirectory
from bot.i18n import LANGUAGES
from bot.services import rules
from bot.services.onboarding.introductions import record_introduction
from bot.services.onboarding.profiles import profile_problems
from bot.services.onboarding.stuck import stuck_in_onboarding
from bot.settings import Settings
from bot.slack.onboarding import dms
from bot.views.onboarding.introduction import intro_modal, intro_post_blocks, intro_reminder_blocks
from bot.views.onboarding.profile import profile_nudge_blocks
from bot.views.onboarding.rules import rules_updated_blocks
from bot.views.onboarding.secretariat import stuck_report_blocks, unmatched_join_blocks
from bot.views.onboarding.welcome import welcome_blocks
from bot.views.onboarding.whoami import whoami_blocks
from models import AuditEntry, Member, MemberStatus, Organisation
from scheduler import onboarding_jobs
from scheduler.jobs import JobContext, JobResult, find_job
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator

JST = ZoneInfo("Asia/Tokyo")
INTRO = "C0INTRO"


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dms, "DM_PACE_SECONDS", 0)


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    emulator.add_channel("自己紹介", channel_id=INTRO, members=[emulator.bot_user_id])
    return make_settings(emulator.api_url, database_url, KYOSO_INTRO_CHANNEL=INTRO)


@pytest.fixture
def context(
    emulator: SlackEmulator, settings: Settings, session_factory: SessionFactory, clock: FixedClock
) -> JobContext:
    return JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=settings,
    )


def _run(job_id: str, context: JobContext) -> JobResult:
    return find_job(job_id).run(context)


def _member(
    session_factory: SessionFactory,
    user_id: str,
    *,
    joined_at: datetime,
    welcomed: bool = True,
    accepted: str | None = None,
    status: MemberStatus = MemberStatus.ACTIVE,
    is_bot: bool = False,
    real_name: str | None = None,
    organisation_code: str | None = None,
) -> None:
    with session_factory.begin() as session:
        organisation_id = (
            session.scalar(select(Organisation.id).where(Organisation.code == organisation_code))
            if organisation_code
            else None
        )
        session.add(
            Member(
                slack_user_id=user_id,
                status=status,
                is_bot=is_bot,
                real_name=real_name,
                organisation_id=organisation_id,
                joined_at=joined_at,
                welcomed_at=joined_at if welcomed else None,
                rules_version=accepted,
                rules_accepted_at=joined_at + timedelta(hours=1) if accepted else None,
                created_at=joined_at,
                updated_at=joined_at,
            )
        )


def _rendered(messages: list[dict[str, Any]]) -> str:
    return json.dumps([m.get("blocks") for m in messages], ensure_ascii=False)


# --- the introduction reminder -------------------------------------------------------------------


def test_one_introduction_reminder_a_week_after_joining(
    context: JobContext,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    joined = clock.now()
    for user_id, locale in (("U0JA", "ja-JP"), ("U0EN", "en-US"), ("U0DONE", "ja-JP")):
        emulator.add_user(user_id, name=user_id.lower(), locale=locale)
        _member(session_factory, user_id, joined_at=joined)
    with session_factory.begin() as session:
        record_introduction(session, clock=clock, slack_user_id="U0DONE")

    clock.set(joined + timedelta(days=7) - timedelta(minutes=1))
    assert _run("onboarding-intro-reminders", context)["reminded"] == 0
    clock.set(joined + timedelta(days=7))
    assert _run("onboarding-intro-reminders", context)["reminded"] == 2
    assert _run("onboarding-intro-reminders", context)["reminded"] == 0  # once only
    clock.advance(timedelta(days=30))
    assert _run("onboarding-intro-reminders", context)["reminded"] == 0

    japanese, english = emulator.dm_messages("U0JA"), emulator.dm_messages("U0EN")
    assert len(japanese) == 1 and len(english) == 1 and emulator.dm_messages("U0DONE") == []
    assert "自己紹介をしてみませんか" in _rendered(japanese) and f"<#{INTRO}>" in _rendered(
        japanese
    )
    assert "Introduce yourself?" in _rendered(english)
    with session_factory() as session:
        member = session.scalars(select(Member).where(Member.slack_user_id == "U0JA")).one()
    assert member.intro_reminded_at == joined + timedelta(days=7)


def test_no_introduction_channel_no_reminders(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _member(session_factory, "U0JA", joined_at=clock.now() - timedelta(days=10))
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    assert _run("onboarding-intro-reminders", context) == {
        "skipped": "KYOSO_INTRO_CHANNEL is not set"
    }
    assert _run("onboarding-intro-reminders", JobContext(session_factory, clock)) == {
        "skipped": "no Slack client in this context"
    }


# --- stuck in onboarding -------------------------------------------------------------------------


def _stuck_ids(session_factory: SessionFactory, now: datetime) -> list[str]:
    with session_factory() as session:
        stuck = stuck_in_onboarding(session, now=now, zone=JST)
    return [m.slack_user_id for m in stuck]


def test_stuck_after_three_business_days_around_a_weekend_and_a_holiday(
    session_factory: SessionFactory,
) -> None:
    # Friday 2026-11-20; Monday 11/23 is 勤労感謝の日: Tue 1, Wed 2, Thu 3 business days
    _member(session_factory, "U0FRI", joined_at=jst(2026, 11, 20, 10, 0))
    _member(session_factory, "U0OK", joined_at=jst(2026, 11, 20, 10, 0), accepted="1")
    _member(session_factory, "U0BOT", joined_at=jst(2026, 11, 20, 10, 0), is_bot=True)
    _member(
        session_factory,
        "U0GONE",
        joined_at=jst(2026, 11, 20, 10, 0),
        status=MemberStatus.DEACTIVATED,
    )
    assert _stuck_ids(session_factory, jst(2026, 11, 25, 23, 59)) == []
    assert _stuck_ids(session_factory, jst(2026, 11, 26, 0, 1)) == ["U0FRI"]
    with session_factory() as session:
        [stuck] = stuck_in_onboarding(session, now=jst(2026, 11, 30, 9), zone=JST)
    assert stuck.business_days == 5  # Tue, Wed, Thu, Fri, Mon


def test_stuck_counts_the_year_end_closure_as_closed(session_factory: SessionFactory) -> None:
    # Thu 12/24: Fri 12/25 1, Mon 12/28 2, closed 12/29–1/3, Mon 1/4 3
    _member(session_factory, "U0XMAS", joined_at=jst(2026, 12, 24, 15, 0))
    assert _stuck_ids(session_factory, jst(2027, 1, 3, 12)) == []
    assert _stuck_ids(session_factory, jst(2027, 1, 4, 9)) == ["U0XMAS"]


def test_the_daily_stuck_report_goes_to_the_review_channel_on_business_days(
    context: JobContext,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(jst(2026, 11, 26, 9, 30))  # Thursday
    assert _run("onboarding-stuck-report", context) == {"stuck": 0}
    assert emulator.messages("C0REVIEW") == []
    _member(
        session_factory,
        "U0FRI",
        joined_at=jst(2026, 11, 20, 10, 0),
        real_name="<b>山田</b>",
        organisation_code="011002",
    )
    assert _run("onboarding-stuck-report", context) == {"stuck": 1, "posted": True}
    rendered = _rendered(emulator.messages("C0REVIEW"))
    assert "オンボーディングで止まっているメンバー: 1 人" in rendered
    assert "<@U0FRI>" in rendered and "&lt;b&gt;山田&lt;/b&gt;" in rendered
    assert "北海道 札幌市" in rendered and "3 営業日経過" in rendered
    clock.set(jst(2026, 11, 28, 9, 30))  # Saturday
    assert _run("onboarding-stuck-report", context) == {"skipped": "not a business day"}
    assert len(emulator.messages("C0REVIEW")) == 1


def test_a_long_stuck_list_fits_one_message() -> None:
    stuck = [
        StuckMember(
            slack_user_id=f"U{n:08d}",
            name="名前" * 40,
            email=None,
            organisation="北海道 札幌市",
            joined_at=jst(2026, 1, 5, 9),
            business_days=200,
        )
        for n in range(1500)
    ]
    for language in LANGUAGES:
        blocks = stuck_report_blocks(stuck, language, min_business_days=3)
        rendered = [b.to_dict() for b in blocks]  # slack_sdk checks the limits
        assert len(rendered) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in rendered)
        shown = sum(json.dumps(b).count("<@U") for b in rendered)
        assert f"{1500 - shown}" in json.dumps(rendered[-1], ensure_ascii=False)


# --- profile nudges ------------------------------------------------------------------------------


def test_one_profile_nudge_for_a_missing_photo_or_an_organisation_name(
    context: JobContext,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    joined = clock.now()
    emulator.add_user("U0NOPHOTO", name="sato", real_name="佐藤 花子", image=False)
    emulator.add_user("U0ORG", name="jyoho", display_name="情報政策課", locale="en-US")
    emulator.add_user("U0FINE", name="suzuki", real_name="鈴木 一郎", display_name="鈴木")
    for user_id in ("U0NOPHOTO", "U0ORG", "U0FINE"):
        _member(session_factory, user_id, joined_at=joined)

    clock.set(joined + timedelta(hours=12))  # a day to set up the profile first
    assert _run("onboarding-profile-nudges", context) == {"checked": 0, "nudged": 0, "failed": 0}
    clock.set(joined + timedelta(days=1, hours=1))
    assert _run("onboarding-profile-nudges", context) == {"checked": 3, "nudged": 2, "failed": 0}
    assert _run("onboarding-profile-nudges", context)["nudged"] == 0  # once only

    no_photo = _rendered(emulator.dm_messages("U0NOPHOTO"))
    assert len(emulator.dm_messages("U0NOPHOTO")) == 1
    assert "プロフィール写真が設定されていません" in no_photo and "組織名" not in no_photo
    organisation = _rendered(emulator.dm_messages("U0ORG"))
    assert "looks like an organisation's name" in organisation and "情報政策課" in organisation
    assert emulator.dm_messages("U0FINE") == []


def test_profile_problems_read_slacks_user_object() -> None:
    directory = OrganisationDirectory.from_master_data()
    person = {
        "profile": {"is_custom_image": True, "display_name": "山田", "real_name": "山田 太郎"}
    }
    assert not profile_problems(person, directory)
    default_avatar = {
        "profile": {
            "real_name": "山田 太郎",
            "image_72": "https://secure.gravatar.com/avatar/x.jpg?s=72&d=https%3A%2F%2Fa.slack-edge.com"
            "%2Fdf10d%2Fimg%2Favatars%2Fava_0001-72.png",
        }
    }
    assert profile_problems(default_avatar, directory).no_photo
    office = {"profile": {"is_custom_image": True, "display_name": "", "real_name": "札幌市役所"}}
    assert profile_problems(office, directory).organisation_like_name == "札幌市役所"


# --- a new rules version -------------------------------------------------------------------------


def test_asking_again_is_paced_resumable_and_once_per_member_and_version(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    joined = clock.now() - timedelta(days=30)
    for user_id in ("U0A", "U0B", "U0C"):
        emulator.add_user(user_id, name=user_id.lower())
        _member(session_factory, user_id, joined_at=joined, accepted="1")
    _member(session_factory, "U0NEVER", joined_at=joined)  # never accepted: the stuck list's
    _member(session_factory, "U0GONE", joined_at=joined, accepted="1", status=MemberStatus.DELETED)
    pauses: list[float] = []

    gateway = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=settings,
    ).gateway
    assert gateway is not None

    def run(limit: int) -> JobResult:
        messenger = gateway.onboarding.dms.messenger(pause=pauses.append, pace_seconds=1.5)
        return onboarding_jobs.ask_again(
            session_factory=session_factory, clock=clock, messenger=messenger, limit=limit
        )

    assert run(10)["asked"] == 0  # nothing published beyond the built-in version
    with session_factory.begin() as session:
        rules.publish(
            session,
            clock=clock,
            version="2",
            text_ja="新しい規約",
            text_en="New rules",
            actor="cli",
        )
    assert run(2) == {"version": "2", "asked": 2, "failed": 0, "skipped": 0, "more": True}
    assert pauses == [1.5]  # between the two DMs, not before the first
    assert run(2) == {"version": "2", "asked": 1, "failed": 0, "skipped": 0, "more": False}
    assert run(2)["asked"] == 0
    assert [len(emulator.dm_messages(u)) for u in ("U0A", "U0B", "U0C")] == [1, 1, 1]
    assert emulator.dm_messages("U0NEVER") == [] and emulator.dm_messages("U0GONE") == []

    clock.advance(timedelta(days=1))
    with session_factory.begin() as session:
        rules.publish(
            session, clock=clock, version="3", text_ja="第3版", text_en="Version 3", actor="cli"
        )
    assert run(10)["asked"] == 3  # a newer version asks everyone again, once more
    with session_factory() as session:
        asked = session.scalars(
            select(AuditEntry.reason).where(AuditEntry.action == rules.ASKED_ACTION)
        ).all()
    assert sorted(asked) == ["rules version 2"] * 3 + ["rules version 3"] * 3


def test_publishing_refuses_bad_versions(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        for version, ja, en in (
            ("1", "本文", "text"),  # the built-in version
            ("v 2", "本文", "text"),
            ("2", "  ", "text"),
            ("2", "本文" * 10_000, "text"),
        ):
            with pytest.raises(rules.RulesError):
                rules.publish(
                    session, clock=clock, version=version, text_ja=ja, text_en=en, actor="cli"
                )
        assert rules.current(session).version == rules.BUILTIN_VERSION


def test_every_onboarding_builder_renders_in_both_languages() -> None:
    current = rules.builtin()
    suggestions = Suggestions(
        main=(ChannelRef("C0ALL", "デジ_all_雑談"),),
        regional=(ChannelRef("C0RE", "デジ_re_北海道", "北海道"),),
        themes=(ChannelRef("C0PJ", "デジ_pj_窓口dx"),),
    )
    welcome = Welcome("U0X", "山田 太郎", current, suggestions)
    record = MemberRecord(
        slack_user_id="U0X",
        real_name="山田",
        display_name=None,
        email="a@b.lg.jp",
        organisation=None,
        department=None,
        status="active",
        roles=("secretariat",),
        locale="en",
        rules_version="1",
        rules_accepted_at=jst(2026, 1, 5, 9),
        rules_state=RulesState.OUTDATED,
        current_rules_version="2",
        joined_at=None,
        introduced_at=None,
    )
    joiner = UnmatchedJoin("U0X", None, None, None)
    for language in LANGUAGES:
        builders: list[list[Any]] = [
            welcome_blocks(welcome, language, intro_channel=INTRO),
            rules_updated_blocks(
                current, language, accepted=AcceptedState("0", jst(2026, 1, 5, 9))
            ),
            intro_reminder_blocks(INTRO, language),
            profile_nudge_blocks(ProfileProblems(True, "情報政策課"), language),
            unmatched_join_blocks(joiner, language),
            whoami_blocks(record, language, slack_language_name="x"),
            whoami_blocks(None, language, slack_language_name="x"),
            intro_post_blocks(Introduction("U0X", "山田", "札幌市", "", "DX"), language),
        ]
        for blocks in builders:
            assert 0 < len(blocks) <= 50
            [b.to_dict() for b in blocks]
        draft = IntroDraft("山田", "札幌市", "")
        intro_modal(draft, language, intro_channel=INTRO).to_dict()


def test_kyoso_rules_list_marks_the_current_version(
    session_factory: SessionFactory,
    clock: FixedClock,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with session_factory.begin() as session:
        rules.publish(
            session, clock=clock, version="2", text_ja="本文", text_en="text", actor="cli"
        )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert kyoso_cli(["rules", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("1 ") and "built-in" in lines[1] and not lines[1].endswith("*")
    assert lines[2].startswith("2 ") and lines[2].endswith("*")
