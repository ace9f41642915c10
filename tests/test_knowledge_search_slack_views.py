"""The search's Block Kit, pure: within Slack's limits at the largest sizes, in both languages,
and text written by members (or by a model) that cannot mention, link or broadcast."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.knowledge import FoundEntry, SearchPage
from bot.i18n import Language
from bot.knowledge.generated import GeneratedAnswer
from bot.views.knowledge import search as views
from models import EntryKind

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
WORKSPACE = "https://kyoso.slack.com/"
EVIL = "<!channel> <@W0BOSS|boss> <https://evil.example|click> @here *&*"
# What Slack turns into a notification or a link (Kyoso's own: channel links, dates, threads).
LIVE = re.compile(r"<[!@]|<https?://(?!kyoso\.slack\.com/archives/)|@(?:channel|here)\b")


def hit(
    entry_id: int, *, title: str = "移行手順", kind: EntryKind = EntryKind.THREAD
) -> FoundEntry:
    thread = kind is EntryKind.THREAD
    return FoundEntry(
        entry_id=entry_id,
        kind=kind,
        title=title,
        snippet="…まず\u200b*棚卸し*\u200bを行います…",
        channel_id="C0QA" if kind is not EntryKind.FAQ else None,
        thread_ts="1700000000.000100" if thread else None,
        answer_ts="1700000000.000200" if thread else None,
        answered_at=NOW,
        checks=3,
        helpful=12,
        score=1.0,
        relevance=1.0,
    )


def page(query: str, hits: list[FoundEntry], *, offset: int = 0, total: int = 50) -> SearchPage:
    return SearchPage(query=query, hits=tuple(hits), offset=offset, total=total)


def dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]  # slack_sdk checks its limits here


def shown_texts(node: Any) -> list[str]:
    """Every text Slack renders (a button's value is carried, never shown)."""
    if isinstance(node, list):
        return [t for item in node for t in shown_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if isinstance(node.get("text"), str) else []
    return own + [t for key, item in node.items() if key != "value" for t in shown_texts(item)]


def live(blocks: list[Block]) -> list[str]:
    text = "\n".join(shown_texts(dicts(blocks))).replace("<!date^", "")
    return LIVE.findall(text)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_page_of_the_largest_results_fits_a_message(language: Language) -> None:
    largest = [hit(n, title="&<>" * 66 + "あ" * 2) for n in range(1, 6)]
    blocks = dicts(
        views.result_blocks(
            page("&" * 200, largest, offset=20),
            language,
            workspace_url=WORKSPACE,
            notice="x" * 500,
        )
    )
    assert len(blocks) <= 50
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= 2000
            assert len(element.get("text", "")) <= 3000 if block["type"] == "context" else True
    pages = [b for b in blocks if b.get("block_id") == "knowledge_search_page"]
    [paging] = pages
    assert [json.loads(e["value"])["o"] for e in paging["elements"]] == [15, 25]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_modal_fits_too(language: Language) -> None:
    view = views.search_modal(
        language,
        page=page("住民票" * 70, [hit(n) for n in range(1, 6)]),
        workspace_url=WORKSPACE,
    ).to_dict()
    assert len(view["blocks"]) <= 100 and len(view["title"]["text"]) <= 24
    assert len(view["submit"]["text"]) <= 24 and len(view["close"]["text"]) <= 24


def test_member_text_cannot_mention_link_or_broadcast() -> None:
    plain = views.result_blocks(
        page("移行", [hit(1), hit(2, kind=EntryKind.FAQ)]), "ja", workspace_url=WORKSPACE
    )
    evil = views.result_blocks(
        page(EVIL, [hit(1, title=EVIL), hit(2, title=EVIL, kind=EntryKind.FAQ)]),
        "ja",
        workspace_url=WORKSPACE,
    )
    assert live(evil) == live(plain) == []
    nothing = views.result_blocks(page(EVIL, [], total=0), "ja", workspace_url=WORKSPACE)
    assert live(nothing) == []
    suggested = views.suggestion_blocks([hit(1, title=EVIL)], "ja", workspace_url=WORKSPACE)
    assert live(suggested) == []
    line = views.gap_line(EVIL, "岩手県", 2, NOW, "ja")
    assert live(views.gaps_blocks([line], "ja", prefecture=None)) == []


def test_a_generated_answer_links_only_its_citations() -> None:
    answer = GeneratedAnswer(
        text=f"手順は棚卸しからです[1]。{EVIL} 費用は各団体です[2]。", cited=(1, 2)
    )
    blocks = views.generated_blocks(
        answer, [hit(1), hit(2, kind=EntryKind.FAQ)], "ja", workspace_url=WORKSPACE
    )
    shown = json.dumps(dicts(blocks), ensure_ascii=False)
    link = f"<{WORKSPACE}archives/C0QA/p1700000000000200?thread_ts=1700000000.000100&cid=C0QA"
    assert f"{link}|[1]>" in shown  # the thread's citation is a link
    assert "[2]" in shown and "|[2]>" not in shown  # an FAQ has no thread to link to
    assert live(blocks) == []
    assert "生成AIによる回答（参考）" in shown and "出典" in shown


def test_links_need_a_thread_and_the_workspace() -> None:
    assert views.thread_url(WORKSPACE, hit(1)) == (
        "https://kyoso.slack.com/archives/C0QA/p1700000000000200"
        "?thread_ts=1700000000.000100&cid=C0QA"
    )
    assert views.thread_url(None, hit(1)) is None
    assert views.thread_url(WORKSPACE, hit(2, kind=EntryKind.FAQ)) is None
    assert views.thread_url(WORKSPACE, hit(3, kind=EntryKind.CHANNEL)) is None


def test_thirty_long_gaps_fit_a_message() -> None:
    lines = [views.gap_line("住民票" * 70, "北海道", 9999, NOW, "en") for _ in range(30)]
    blocks = dicts(views.gaps_blocks(lines, "en", prefecture="北海道"))
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


@pytest.mark.parametrize(
    "value", ["", "{}", "[]", '{"q":"x","o":51}', '{"q":"x","e":0}', "x" * 5000]
)
def test_a_button_value_kyoso_did_not_send_is_refused(value: str) -> None:
    assert views.parse_search_value(value) is None


def test_a_button_value_round_trips() -> None:
    value = views.search_value("ガバクラ 移行", 10, 7)
    parsed = views.parse_search_value(value)
    assert parsed is not None and (parsed.q, parsed.o, parsed.e) == ("ガバクラ 移行", 10, 7)
