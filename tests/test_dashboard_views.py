"""Every App Home variant, list page, statistics answer and weekly report, rendered in Japanese
and English with nothing in it and with ten thousand items, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.charts import PREFECTURE_TILES
from bot.domain.dashboard import (
    FacilitatedChannel,
    MemberHome,
    QueueItem,
    QueueKind,
    QueuePage,
    QueueSummary,
)
from bot.domain.statistics import (
    ApplicationStats,
    ChannelKindStats,
    Headline,
    KindCount,
    ModerationStats,
    PrefectureCoverage,
    Statistics,
    WeekCount,
)
from bot.i18n import LANGUAGES, Language
from bot.services.statistics.members import KIND_ORDER
from bot.views.dashboard.common import HOME_BLOCK_LIMIT, MESSAGE_BLOCK_LIMIT, age
from bot.views.dashboard.home import member_home_view, secretariat_home_view
from bot.views.dashboard.queues import queue_list_view
from bot.views.dashboard.report import weekly_report_blocks, weekly_report_text
from bot.views.dashboard.statistics import statistics_blocks, statistics_text
from models import ApplicationStatus, CaseStatus, ChannelCategory, MemberStatus

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
SIZES = (0, 10_000)
VIEW_BYTES_MAX = 250_000
HOSTILE = '<!channel> & <@U0EVIL> *bold* =HYPERLINK("x")'


def _checked(view: View) -> dict[str, Any]:
    """slack_sdk's own limit checks, then Slack's Home-tab limits."""
    view.validate_json()
    rendered = view.to_dict()
    assert rendered["type"] == "home"
    assert len(rendered["blocks"]) <= HOME_BLOCK_LIMIT
    assert len(json.dumps(rendered, ensure_ascii=False).encode()) < VIEW_BYTES_MAX
    _within_text_limits(rendered["blocks"])
    return rendered


def _within_text_limits(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids)) <= 25


def _message(blocks: list[Block]) -> list[dict[str, Any]]:
    rendered = [b.to_dict() for b in blocks]
    assert len(rendered) <= MESSAGE_BLOCK_LIMIT
    _within_text_limits(rendered)
    return rendered


def _text(rendered: Any) -> str:
    return json.dumps(rendered, ensure_ascii=False)


def member(n: int, *, roles: tuple[str, ...] = ("facilitator",)) -> MemberHome:
    shown = tuple(FacilitatedChannel(f"C{i:08d}", f"デジ_pj_{i}") for i in range(min(n, 10)))
    return MemberHome(
        user_id="U0MEMBER",
        status=MemberStatus.ACTIVE.value,
        organisation=HOSTILE,
        department="デジタル推進課",
        roles=roles,
        joined_at=NOW - timedelta(days=30),
        rules_state="current",
        facilitated=shown,
        facilitated_total=n,
    )


def queues(n: int) -> list[QueueSummary]:
    return [
        QueueSummary(kind, n, NOW - timedelta(days=12, hours=3) if n else None)
        for kind in QueueKind
    ]


def stats(n: int) -> Statistics:
    """Figures of any size; n = 0 is an empty platform."""
    coverage = tuple(
        PrefectureCoverage(
            code=tile.code,
            name=tile.label_ja + "県",
            name_en=tile.label_en,
            local_governments=40,
            covered=min(40, n % 41),
            members=n,
        )
        for tile in PREFECTURE_TILES
    )
    return Statistics(
        generated_at=NOW,
        members=n,
        active_30d=n // 3,
        members_by_status={s.value: n for s in MemberStatus},
        members_by_kind=(
            *(KindCount(k.value, n, n // 3) for k in KIND_ORDER),
            KindCount("unknown", n, 0),
        ),
        local_governments=1788,
        local_governments_covered=min(n, 1788),
        municipalities=1741,
        municipalities_covered=min(n, 1741),
        agencies=35,
        agencies_covered=min(n, 35),
        coverage_by_prefecture=coverage,
        new_members_by_week=tuple(
            WeekCount(date(2026, 11, 23) - timedelta(weeks=11 - i), n) for i in range(12)
        ),
        new_members_7d=n,
        channels=tuple(ChannelKindStats(c.value, n, n, n, n) for c in ChannelCategory),
        moderation=ModerationStats(
            open=n, opened_30d=n, by_status={s.value: n for s in CaseStatus}, detections_30d=n
        ),
        applications=ApplicationStats(
            by_status={s.value: n for s in ApplicationStatus},
            submitted_30d=n,
            approved_30d=n,
            rejected_30d=n,
        ),
    )


def _item(kind: QueueKind, i: int) -> QueueItem:
    status = {
        QueueKind.APPLICATIONS: "pending",
        QueueKind.MODERATION: "edit_requested",
        QueueKind.CHANNEL_REQUESTS: "pending",
        QueueKind.FLAGGED: "flagged",
        QueueKind.ONBOARDING: None,
    }[kind]
    detail = {
        QueueKind.CHANNEL_REQUESTS: "pj",
        QueueKind.MODERATION: "detector",
    }.get(kind, HOSTILE)
    return QueueItem(
        reference=f"REF{i:05d}",
        title=HOSTILE * 3,
        at=NOW - timedelta(days=i % 90, hours=1),
        detail=detail,
        status=status,
        user_id=f"U{i:08d}",
        channel_id="C0GENERAL" if kind is QueueKind.MODERATION else None,
        last_seen_at=NOW - timedelta(days=200) if kind is QueueKind.FLAGGED else None,
        business_days=5 if kind is QueueKind.ONBOARDING else None,
    )


def page(kind: QueueKind, total: int, number: int) -> QueuePage:
    size = 20
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)
    count = max(0, min(size, total - (number - 1) * size))
    return QueuePage(kind, tuple(_item(kind, i) for i in range(count)), total, number, size)


# --- member Home ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n", SIZES)
def test_member_home(language: Language, n: int) -> None:
    rendered = _checked(member_home_view(member(n), language))
    text = _text(rendered)
    assert "<@U0MEMBER>" in text
    assert "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in text and "<!channel>" not in text
    if n:
        assert ("ほか 9,990 件" if language == "ja" else "and 9,990 more") in text
        assert "<#C00000000>" in text
    else:
        assert "<#C" not in text
    assert ids.DASHBOARD_OPEN_LIST not in text  # no dashboard for members


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_of_someone_kyoso_does_not_know(language: Language) -> None:
    rendered = _checked(member_home_view(MemberHome("U0NEW", None), language))
    text = _text(rendered)
    assert ("共創プラットフォームへようこそ" if language == "ja" else "Welcome") in text
    assert ("未登録" if language == "ja" else "not registered") in text


# --- secretariat Home ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n", SIZES)
def test_secretariat_home(language: Language, n: int) -> None:
    view = secretariat_home_view(
        member(n, roles=("facilitator", "secretariat")), queues(n), stats(n), language, NOW
    )
    rendered = _checked(view)
    text = _text(rendered)
    buttons = [
        b["accessory"]
        for b in rendered["blocks"]
        if b["type"] == "section" and b.get("accessory", {}).get("type") == "button"
    ]
    assert [b["value"] for b in buttons] == [k.value for k in QueueKind]
    assert {b["action_id"] for b in buttons} == {ids.DASHBOARD_OPEN_LIST}
    assert ids.DASHBOARD_EXPORT_MEMBERS in text and ids.DASHBOARD_HOME in text
    if language == "ja":
        assert "事務局ダッシュボード" in text and "統計" in text
        assert ("10,000 件" in text and "12日経過") if n else "待っている項目はありません" in text
        assert "北海道県" in text  # coverage by prefecture (names as stored)
    else:
        assert "Secretariat dashboard" in text and "Hokkaido" in text
        assert ("10,000 items" in text and "12 days") if n else "Nothing is waiting" in text


# --- queue lists --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(QueueKind))
@pytest.mark.parametrize(("total", "number"), [(0, 1), (10_000, 1), (10_000, 250), (10_000, 500)])
def test_queue_list_pages(language: Language, kind: QueueKind, total: int, number: int) -> None:
    rendered = _checked(queue_list_view(page(kind, total, number), language, NOW))
    text = _text(rendered)
    actions = rendered["blocks"][-1]
    assert actions["type"] == "actions"
    by_id = {e["action_id"]: e["value"] for e in actions["elements"]}
    assert by_id[ids.DASHBOARD_HOME] == "back"
    if total == 0:
        assert ("該当する項目はありません" if language == "ja" else "nothing in this list") in text
        assert set(by_id) == {ids.DASHBOARD_HOME}
        return
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert ("10,000" in text) and (f"{number:,}" in text) and ("500" in text)
    if number == 1:
        assert ids.DASHBOARD_PAGE_PREVIOUS not in by_id
        assert by_id[ids.DASHBOARD_PAGE_NEXT] == f"{kind.value}:2"
        assert by_id[ids.DASHBOARD_PAGE_LAST] == f"{kind.value}:500"
    elif number == 500:
        assert ids.DASHBOARD_PAGE_NEXT not in by_id
        assert by_id[ids.DASHBOARD_PAGE_PREVIOUS] == f"{kind.value}:499"
        assert by_id[ids.DASHBOARD_PAGE_FIRST] == f"{kind.value}:1"
    else:
        assert by_id[ids.DASHBOARD_PAGE_PREVIOUS] == f"{kind.value}:249"
        assert by_id[ids.DASHBOARD_PAGE_NEXT] == f"{kind.value}:251"
    items = [b for b in rendered["blocks"] if b["type"] == "section"]
    assert len(items) == 20


# --- /kyoso stats and the weekly report ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("full", [True, False])
def test_statistics_answer(language: Language, n: int, full: bool) -> None:
    rendered = _message(statistics_blocks(stats(n), language, full=full))
    text = _text(rendered)
    moderation = "モデレーション" if language == "ja" else "Moderation"
    assert (moderation in text) is full  # only the secretariat sees cases and applications
    assert f"{n:,}" in text
    assert statistics_text(stats(n), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_weekly_report_shows_the_change(language: Language) -> None:
    current = Headline(14_700, 4_700, 1_495, 1_450, 39, 140, 25, 3, 7)
    previous = Headline(14_580, 4_710, 1_490, 1_446, 39, 138, 30, 0, 7)
    rendered = _message(
        weekly_report_blocks(
            current, previous, language, now=NOW, previous_at=NOW - timedelta(days=7)
        )
    )
    text = _text(rendered)
    assert "14,700（+120）" in text and "4,700（−10）" in text and "39（±0）" in text
    assert "2026/11/17" in text
    first = _text(
        _message(weekly_report_blocks(current, None, language, now=NOW, previous_at=None))
    )
    assert "（+" not in first
    assert "14,700（+120）" in weekly_report_text(current, previous, language)


def test_ages_read_naturally() -> None:
    assert age(NOW - timedelta(days=3, hours=5), NOW, "ja") == "3日"
    assert age(NOW - timedelta(hours=5), NOW, "en") == "5 hours"
    assert age(NOW - timedelta(minutes=5), NOW, "ja") == "1時間未満"
    assert age(NOW + timedelta(minutes=5), NOW, "en") == "under an hour"
