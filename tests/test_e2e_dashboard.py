"""End to end over signed HTTP: the App Home for a member and for a secretary (queues
populated), list paging, `/kyoso stats` in both languages, exports delivered as files, refusals
for members, and the weekly report with its two charts."""

from __future__ import annotations

import codecs
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from models import (
    ApplicationStatus,
    AuditEntry,
    CaseStatus,
    MemberStatus,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_exports import read_like_excel
from tests.test_statistics import (
    add_application,
    add_case,
    add_channel_request,
    add_member,
    ago,
    jst,
    org_id,
)

SECRETARY, SECRETARY_EN, MEMBER, MEMBER_EN = "U0SEC", "U0SECEN", "U0MEM", "U0MEMEN"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory) -> None:
    for user_id, locale in (
        (SECRETARY, "ja-JP"),
        (SECRETARY_EN, "en-US"),
        (MEMBER, "ja-JP"),
        (MEMBER_EN, "en-US"),
    ):
        emulator.add_user(user_id, name=user_id.lower(), locale=locale)
    with session_factory.begin() as session:
        sapporo = org_id(session, code="011002")
        for user_id in (SECRETARY, SECRETARY_EN):
            add_member(
                session,
                user_id,
                organisation_id=org_id(session, slug="digital"),
                joined_at=ago(days=300),
                last_seen_at=ago(days=1),
                roles=(Role.SECRETARIAT,),
            )
        for user_id in (MEMBER, MEMBER_EN):
            add_member(
                session,
                user_id,
                organisation_id=sapporo,
                joined_at=ago(days=30),
                last_seen_at=ago(days=2),
            )


@pytest.fixture
def queues(session_factory: SessionFactory) -> None:
    """Something waiting in every queue."""
    with session_factory.begin() as session:
        for n in range(45):
            add_application(
                session, ApplicationStatus.PENDING, ago(days=9, hours=-n), name=f"申請者{n:02d}"
            )
        add_channel_request(session, ago(days=2), MEMBER)
        add_case(session, CaseStatus.OPEN, ago(days=6), author=MEMBER)
        add_member(
            session,
            "U0FLAG",
            status=MemberStatus.FLAGGED,
            joined_at=ago(days=500),
            updated_at=ago(days=4),
        )
        add_member(
            session, "U0STUCK", joined_at=ago(days=8), rules_accepted=False, real_name="止まった 人"
        )


def _open_home(slack: SlackSender, user_id: str) -> None:
    response = slack.event(
        {"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D0" + user_id}
    )
    assert response.status == 200


def _home(emulator: SlackEmulator, user_id: str, containing: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        home = emulator.published_home(user_id)
        return home if home and containing in json.dumps(home, ensure_ascii=False) else None

    found = wait_for(probe)
    assert len(found["blocks"]) <= 100
    return found


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _answers(emulator: SlackEmulator, count: int) -> list[dict[str, Any]]:
    responses = wait_for(
        lambda: len(emulator.all_responses()) >= count and emulator.all_responses()
    )
    return [body for _, body in responses]


# --- App Home -------------------------------------------------------------------------------------


def test_a_member_sees_their_own_page(
    slack: SlackSender, emulator: SlackEmulator, queues: None
) -> None:
    _open_home(slack, MEMBER)
    text = _text(_home(emulator, MEMBER, "共創プラットフォームへようこそ"))
    assert "有効" in text and "北海道 札幌市" in text and "/kyoso help" in text
    assert "事務局ダッシュボード" not in text and ids.DASHBOARD_OPEN_LIST not in text
    assert "申請者" not in text
    time.sleep(0.3)  # a second app_home_opened listener would publish again
    assert len(emulator.calls_to("views.publish")) == 1


def test_a_member_in_english(slack: SlackSender, emulator: SlackEmulator) -> None:
    _open_home(slack, MEMBER_EN)
    text = _text(_home(emulator, MEMBER_EN, "Welcome to the co-creation platform"))
    assert "Sapporo" in text or "札幌市" in text
    assert "Secretariat dashboard" not in text


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        (
            SECRETARY,
            [
                "事務局ダッシュボード",
                "参加申請（判断待ち）",
                "*45 件*",
                "最も古いもの: 9日経過",
                "チャンネル作成依頼（審査待ち）",
                "モデレーション（未完了のケース）",
                "削除候補の会員（承認待ち）",
                "オンボーディングが止まっている会員",
                "統計",
                "会員数",
            ],
        ),
        (
            SECRETARY_EN,
            [
                "Secretariat dashboard",
                "Applications awaiting a decision",
                "*45 items*",
                "Oldest: waiting 9 days",
                "Members stuck in onboarding",
                "Statistics",
                "Coverage of local governments by prefecture",
            ],
        ),
    ],
)
def test_a_secretary_sees_the_queues(
    slack: SlackSender, emulator: SlackEmulator, queues: None, user_id: str, expected: list[str]
) -> None:
    _open_home(slack, user_id)
    home = _home(emulator, user_id, expected[0])
    text = _text(home)
    for fragment in expected:
        assert fragment in text, fragment
    counts = [
        b["text"]["text"]
        for b in home["blocks"]
        if b.get("accessory", {}).get("action_id") == ids.DASHBOARD_OPEN_LIST
    ]
    assert len(counts) == 5 and all(("*1 " in c or "*45 " in c) for c in counts)


def test_a_secretary_pages_through_a_list(
    slack: SlackSender, emulator: SlackEmulator, queues: None
) -> None:
    _open_home(slack, SECRETARY)
    home = _home(emulator, SECRETARY, "事務局ダッシュボード")
    slack.block_action(ids.DASHBOARD_OPEN_LIST, "applications", user_id=SECRETARY, view=home)
    first = _home(emulator, SECRETARY, "1 / 3 ページ")
    text = _text(first)
    assert "申請者00" in text and "申請者19" in text and "申請者20" not in text
    slack.block_action(ids.DASHBOARD_PAGE_LAST, "applications:3", user_id=SECRETARY, view=first)
    last = _text(_home(emulator, SECRETARY, "3 / 3 ページ"))
    assert "申請者44" in last and ids.DASHBOARD_PAGE_NEXT not in last
    slack.block_action(ids.DASHBOARD_HOME, "back", user_id=SECRETARY, view=first)
    _home(emulator, SECRETARY, "事務局ダッシュボード")


def test_a_member_pressing_dashboard_buttons_gets_nothing(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory, queues: None
) -> None:
    _open_home(slack, MEMBER)
    home = _home(emulator, MEMBER, "共創プラットフォームへようこそ")
    before = emulator.published_home(MEMBER)
    emulator.reset_calls()
    # A forged (or stale) payload: the member presses the secretariat's buttons.
    slack.block_action(ids.DASHBOARD_OPEN_LIST, "applications", user_id=MEMBER, view=home)
    slack.block_action(ids.DASHBOARD_PAGE_NEXT, "flagged:2", user_id=MEMBER, view=home)
    slack.block_action(ids.DASHBOARD_EXPORT_MEMBERS, "members", user_id=MEMBER, view=home)
    # The guard refuses each in the member's DM, before any listener runs.
    refusals = wait_for(
        lambda: len(emulator.dm_messages(MEMBER)) >= 3 and emulator.dm_messages(MEMBER)
    )
    assert all("事務局メンバーのみ" in m["text"] for m in refusals)
    assert not emulator.calls_to("views.publish")
    after = emulator.published_home(MEMBER)
    assert after is not None and before is not None
    assert after["blocks"] == before["blocks"]  # their own page, unchanged
    assert "申請者" not in _text(after)
    assert emulator.files() == []
    assert not emulator.calls_to("files.getUploadURLExternal")
    with session_factory() as session:
        exported = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("export.%"))
        )
    assert exported == 0


# --- /kyoso stats -------------------------------------------------------------------------------


def test_stats_in_japanese_for_a_secretary(
    slack: SlackSender, emulator: SlackEmulator, queues: None
) -> None:
    assert slack.command("/kyoso", "stats", user_id=SECRETARY, channel_id="C0REVIEW").status == 200
    answer = _answers(emulator, 1)[0]
    assert answer["response_type"] == "ephemeral"
    text = _text(answer)
    assert answer["text"].startswith("会員 ")
    for fragment in (
        "統計",
        "会員数",
        "会員のいる自治体",
        "組織の種類別の会員数",
        "モデレーション",
        "参加申請",
        "判断待ち 45 件",
    ):
        assert fragment in text, fragment
    assert len(answer["blocks"]) <= 50


def test_stats_in_english_for_a_member(
    slack: SlackSender, emulator: SlackEmulator, queues: None
) -> None:
    slack.command("/kyoso", "ｓｔａｔｓ", user_id=MEMBER_EN, channel_id="C0REVIEW")
    answer = _answers(emulator, 1)[0]
    text = _text(answer)
    assert "Statistics" in text and "Members by type of organisation" in text
    assert "Moderation" not in text and "Applications" not in text  # secretariat only
    assert "/kyoso stats" in _text(_answers_help(slack, emulator))


def _answers_help(slack: SlackSender, emulator: SlackEmulator) -> dict[str, Any]:
    count = len(emulator.all_responses())
    slack.command("/kyoso", "help", user_id=MEMBER_EN, channel_id="C0REVIEW")
    return _answers(emulator, count + 1)[-1]


# --- exports ------------------------------------------------------------------------------------


def _file(emulator: SlackEmulator) -> dict[str, Any]:
    files = wait_for(lambda: [f for f in emulator.files() if f["completed"]])
    assert len(files) == 1
    return files[0]


def test_a_secretary_exports_members_by_command(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory, queues: None
) -> None:
    slack.command("/kyoso", "export members", user_id=SECRETARY, channel_id="C0REVIEW")
    exported = _file(emulator)
    assert exported["name"].startswith("kyoso-members-") and exported["name"].endswith(".csv")
    assert exported["channels"] == [emulator.im_channel_id(SECRETARY)]
    rows = read_like_excel(exported["content"])
    assert rows[0][0] == "Slack ユーザーID"
    assert {r[0] for r in rows[1:]} >= {SECRETARY, MEMBER, "U0FLAG", "U0STUCK"}
    assert exported["content"].startswith(codecs.BOM_UTF8)
    assert "CSV を作成しています" in _answers(emulator, 1)[0]["text"]
    dm = wait_for(lambda: emulator.dm_messages(SECRETARY))
    assert "会員一覧" in dm[-1]["text"]
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.members")
        ).one()
    assert entry.actor == SECRETARY


def test_a_secretary_exports_stats_from_the_home_tab(
    slack: SlackSender, emulator: SlackEmulator, queues: None
) -> None:
    _open_home(slack, SECRETARY_EN)
    home = _home(emulator, SECRETARY_EN, "Secretariat dashboard")
    slack.block_action(ids.DASHBOARD_EXPORT_STATS, "stats", user_id=SECRETARY_EN, view=home)
    rows = read_like_excel(_file(emulator)["content"])
    assert rows[0] == ["Section", "Item", "Value", "Out of", "Share"]


def test_a_member_cannot_export(slack: SlackSender, emulator: SlackEmulator) -> None:
    slack.command("/kyoso", "export members", user_id=MEMBER, channel_id="C0REVIEW")
    answer = _answers(emulator, 1)[0]
    assert "事務局メンバーのみ" in answer["text"]
    assert emulator.files() == [] and not emulator.calls_to("files.getUploadURLExternal")


def test_an_unknown_export_explains_the_choices(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    slack.command("/kyoso", "export passwords", user_id=SECRETARY_EN, channel_id="C0REVIEW")
    assert "`/kyoso export members`" in _answers(emulator, 1)[0]["text"]
    assert emulator.files() == []


# --- the weekly report ----------------------------------------------------------------------------


def test_weekly_report_posts_figures_and_two_charts_once_a_week(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    clock = FixedClock(jst(2026, 11, 23, 9))  # Monday 09:00 JST
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    job = find_job("weekly-report")
    assert job.cron == {"day_of_week": "mon", "hour": "9-17", "minute": "0"}

    result = job.run(context)
    assert result["posted"] is True and result["week"] == "2026-W48" and result["members"] == 4
    messages = emulator.messages("C0REVIEW")
    report, charts_message = messages[0], messages[1]
    assert "週次レポート（2026/11/23）" in _text(report["blocks"])
    assert "前週の記録がないため" in _text(report["blocks"])
    files = [f for f in emulator.files() if f["completed"]]
    assert len(files) == 2 and charts_message["files"]
    for chart in files:
        assert chart["channels"] == ["C0REVIEW"] and chart["name"].endswith(".png")
        assert chart["content"].startswith(PNG) and chart["size"] > 10_000

    clock.advance(timedelta(hours=1))  # the hourly retry finds it done
    assert job.run(context) == {"skipped": "already posted for 2026-W48", "week": "2026-W48"}
    assert len(emulator.messages("C0REVIEW")) == 2

    with session_factory.begin() as session:
        add_member(session, "U0NEW", joined_at=jst(2026, 11, 26, 9))
    clock.set(jst(2026, 11, 30, 9))
    assert job.run(context)["members"] == 5
    following = emulator.messages("C0REVIEW")[2]
    text = _text(following["blocks"])
    assert "5（+1）" in text and "2026/11/23 の記録からの増減" in text
    assert len([f for f in emulator.files() if f["completed"]]) == 4


def test_weekly_report_retries_after_a_slack_failure(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    clock = FixedClock(jst(2026, 11, 23, 9))
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    emulator.fail("chat.postMessage", "fatal_error")
    with pytest.raises(Exception, match="fatal_error"):
        find_job("weekly-report").run(context)
    clock.advance(timedelta(hours=1))
    assert find_job("weekly-report").run(context)["posted"] is True
    with session_factory() as session:
        snapshots = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "statistics.weekly_snapshot")
        )
    assert snapshots == 1  # the same week's figures, recorded once
