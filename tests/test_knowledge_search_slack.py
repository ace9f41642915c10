"""Finding knowledge in Slack end to end: signed requests into the running app over HTTP, the
Slack emulator answering its calls, a real database. `/kyoso search`, its pages and buttons,
gaps, the App Home's search modal, and the secretariat's synonyms and gaps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.knowledge import entries, vocabulary
from bot.services.knowledge.entries import ThreadDraft
from bot.views.knowledge.search import synonyms_modal
from models import (
    AuditEntry,
    KnowledgeEntry,
    KnowledgeGap,
    KnowledgeHelpful,
    KnowledgeSynonymGroup,
    Organisation,
    Role,
)
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

MEMBER, ENGLISH, SECRETARY, AMBASSADOR = "U0HANAKO", "U0JOHN", "U0SEC", "U0AMB"
QA = "C0QA"
MORIOKA = "032018"  # 盛岡市, 岩手県
THREAD_TS, ANSWER_TS = "1700000000.000100", "1700000000.000200"


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    with serve_kyoso(
        make_settings(emulator.api_url, database_url),
        session_factory=session_factory,
        clock=clock,
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    emulator.add_user(MEMBER, name="hanako", locale="ja-JP")
    emulator.add_user(ENGLISH, name="john", locale="en-US")
    emulator.add_user(SECRETARY, name="sec", locale="ja-JP")
    emulator.add_user(AMBASSADOR, name="amb", locale="ja-JP")
    emulator.add_channel(
        "デジ_all_qa", channel_id=QA, members=[emulator.bot_user_id, MEMBER, ENGLISH]
    )
    with session_factory.begin() as session:
        morioka = session.scalar(select(Organisation.id).where(Organisation.code == MORIOKA))
        for user in (MEMBER, ENGLISH, SECRETARY, AMBASSADOR):
            member = members.ensure_member(session, clock=clock, slack_user_id=user)
            if user in (MEMBER, AMBASSADOR):
                member.organisation_id = morioka
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
        members.grant_role(
            session, clock=clock, slack_user_id=AMBASSADOR, role=Role.AMBASSADOR, actor="cli"
        )


def seed_thread(
    session_factory: SessionFactory,
    clock: FixedClock,
    *,
    title: str = "ガバメントクラウドへの移行手順",
    question: str = "ガバメントクラウドへの移行はどの順番で進めればよいですか？",
    answer: str = "まず現行システムの棚卸しを行い、次に移行計画を作成します。",
    thread_ts: str = THREAD_TS,
    answer_ts: str | None = ANSWER_TS,
) -> int:
    with session_factory.begin() as session:
        saved = entries.save_thread(
            session,
            clock=clock,
            recorder_id=MEMBER,
            draft=ThreadDraft(
                channel_id=QA,
                thread_ts=thread_ts,
                answer_ts=answer_ts,
                asker_id=MEMBER,
                answerer_id=ENGLISH,
                title=title,
                question=question,
                answer=answer,
                tags=("移行",),
                answered_at=DEFAULT_NOW - timedelta(days=3),
                prefecture="岩手県",
            ),
        )
    return saved.entry_id


def seed_faq(
    session_factory: SessionFactory,
    clock: FixedClock,
    key: str,
    *,
    title: str,
    question: str,
    answer: str,
) -> int:
    with session_factory.begin() as session:
        return entries.save_faq(
            session,
            clock=clock,
            actor=SECRETARY,
            key=key,
            title=title,
            question=question,
            answer=answer,
        ).entry_id


def search(
    slack: SlackSender, emulator: SlackEmulator, words: str, *, user: str = MEMBER
) -> tuple[str, dict[str, Any]]:
    """`/kyoso search words`: acknowledged within Slack's 3 s; the first answer posted."""
    url = emulator.new_response_url()
    started = time.monotonic()
    response = slack.command(
        "/kyoso", f"search {words}", user_id=user, channel_id=QA, response_url=url
    )
    assert response.status == 200 and time.monotonic() - started < 3.0
    answer = wait_for(lambda: emulator.responses(url))[0]
    return url, answer


def rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


def assert_within_block_kit(blocks: list[dict[str, Any]], *, limit: int = 50) -> None:
    assert 0 < len(blocks) <= limit
    for block in blocks:
        Block.parse(block).to_dict()  # type: ignore[union-attr]  # slack_sdk's own checks
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields") or []) <= 10
        for element in block.get("elements") or []:
            assert len(element.get("value") or "") <= 2000
            if block["type"] == "context":
                assert len(element["text"]) <= 3000


def hits_shown(blocks: list[dict[str, Any]]) -> int:
    return len(buttons(blocks, ids.KNOWLEDGE_SEARCH_HELPFUL))


def test_search_answers_in_the_ack_window_with_titles_snippets_links_and_counts(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    seed_thread(session_factory, clock)
    seed_faq(
        session_factory,
        clock,
        "cloud-faq",
        title="ガバメントクラウドの費用",
        question="ガバメントクラウドの利用料は？",
        answer="利用料は各団体の負担です。",
    )
    _, answer = search(slack, emulator, "ガバメントクラウド 移行")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    blocks = answer["blocks"]
    assert_within_block_kit(blocks)
    shown = rendered(answer)
    assert "「ガバメントクラウド 移行」の検索結果" in shown
    assert "ガバメントクラウドへの移行手順" in shown and f"<#{QA}>" in shown
    assert "✅ 0" in shown and "役に立った 0" in shown and "事務局FAQ" in shown
    assert "\u200b*" in shown  # the snippet's matches in bold
    [link] = buttons(blocks, ids.KNOWLEDGE_SEARCH_OPEN_THREAD)  # the FAQ has no thread
    assert link["text"]["text"] == "スレッドを開く"
    assert link["url"] == (
        f"https://{emulator.state.team_domain}.slack.com/archives/{QA}/p1700000000000200"
        f"?thread_ts={THREAD_TS}&cid={QA}"
    )
    assert hits_shown(blocks) == 2
    assert buttons(blocks, ids.KNOWLEDGE_SEARCH_NEXT) == []  # two results: one page
    # The link's own click is acknowledged (Slack opens the URL).
    click = slack.block_action(
        ids.KNOWLEDGE_SEARCH_OPEN_THREAD, user_id=MEMBER, channel_id=QA, message=answer
    )
    assert click.status == 200


def test_the_english_member_reads_english(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    seed_thread(session_factory, clock)
    _, answer = search(slack, emulator, "ガバメントクラウド", user=ENGLISH)
    shown = rendered(answer)
    assert "Results for “ガバメントクラウド”" in shown and "Open the thread" in shown
    assert "Helpful" in shown and "検索結果" not in shown
    assert_within_block_kit(answer["blocks"])


def test_an_empty_search_explains_itself_and_logs_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    url = emulator.new_response_url()
    slack.command("/kyoso", "search  　", user_id=MEMBER, channel_id=QA, response_url=url)
    [answer] = wait_for(lambda: emulator.responses(url))
    assert "検索する言葉を続けて入力してください" in answer["text"]
    with session_factory() as session:
        assert session.scalars(select(KnowledgeGap)).all() == []


def test_fifty_long_results_page_five_at_a_time_within_block_kit_limits(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    filler = "住民票の写しの交付申請について、窓口での本人確認の方法を説明します。" * 80
    for n in range(50):
        seed_faq(
            session_factory,
            clock,
            f"long-{n}",
            title=f"住民票の写しの交付と本人確認 その{n} " + "（詳細）" * 60,
            question=f"住民票の写しの本人確認について {n}",
            answer=filler,
        )
    for language_user in (MEMBER, ENGLISH):
        _, answer = search(slack, emulator, "住民票 本人確認", user=language_user)
        assert_within_block_kit(answer["blocks"])
        assert hits_shown(answer["blocks"]) == 5

    seen: list[str] = []
    message = answer
    for page in range(10):
        blocks = message["blocks"]
        assert_within_block_kit(blocks)
        assert hits_shown(blocks) == 5
        seen += [b["value"] for b in buttons(blocks, ids.KNOWLEDGE_SEARCH_HELPFUL)]
        more = buttons(blocks, ids.KNOWLEDGE_SEARCH_NEXT)
        if page == 9:
            assert more == []  # the tenth page is the last
            break
        [button] = more
        response = slack.block_action(
            ids.KNOWLEDGE_SEARCH_NEXT,
            button["value"],
            user_id=ENGLISH,
            channel_id=QA,
            message=message,
        )
        assert response.status == 200
        # The page replaces the one clicked in (the block action's own response_url).
        shown = len(seen)
        message = wait_for(lambda: _latest_replacement(emulator, shown))  # noqa: B023
        assert message["replace_original"] is True
        assert f"showing {len(seen) + 1}–{len(seen) + 5}" in rendered(message)
    entry_ids = {json.loads(value)["e"] for value in seen}
    assert len(entry_ids) == 50  # every result once, none twice
    previous = buttons(message["blocks"], ids.KNOWLEDGE_SEARCH_PREVIOUS)
    assert previous and json.loads(previous[0]["value"])["o"] == 40


def _latest_replacement(emulator: SlackEmulator, shown_before: int) -> dict[str, Any]:
    for _, body in reversed(emulator.all_responses()):
        replaced = isinstance(body, dict) and body.get("replace_original") is True
        if replaced and f"{shown_before + 1}–" in rendered(body):
            return dict(body)
    return {}


def test_helpful_counts_once_per_member_however_often_pressed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    entry_id = seed_thread(session_factory, clock)
    _, answer = search(slack, emulator, "ガバメントクラウド")
    [helpful] = buttons(answer["blocks"], ids.KNOWLEDGE_SEARCH_HELPFUL)
    for _ in range(2):
        before = len(emulator.all_responses())
        slack.block_action(
            ids.KNOWLEDGE_SEARCH_HELPFUL,
            helpful["value"],
            user_id=MEMBER,
            channel_id=QA,
            message=answer,
        )
        wait_for(lambda: len(emulator.all_responses()) > before)  # noqa: B023
    first, second = [body for _, body in emulator.all_responses()[-2:]]
    assert first["replace_original"] is True and second["replace_original"] is True
    assert "役に立った回答として記録しました" in rendered(first)
    assert "役に立った 1" in rendered(first)
    assert "すでに役に立った回答として記録されています" in rendered(second)
    assert "役に立った 1" in rendered(second)
    with session_factory() as session:
        assert session.get(KnowledgeEntry, entry_id).helpful == 1  # type: ignore[union-attr]
        assert len(session.scalars(select(KnowledgeHelpful)).all()) == 1
    # Another member's press counts.
    slack.block_action(
        ids.KNOWLEDGE_SEARCH_HELPFUL,
        helpful["value"],
        user_id=ENGLISH,
        channel_id=QA,
        message=answer,
    )
    wait_for(lambda: "Thank you" in rendered(emulator.all_responses()[-1][1]))
    with session_factory() as session:
        assert session.get(KnowledgeEntry, entry_id).helpful == 2  # type: ignore[union-attr]


def test_a_forged_or_stale_button_changes_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    entry_id = seed_thread(session_factory, clock)
    for value in ("not json", json.dumps({"q": "", "o": 0, "e": entry_id}), '{"q":"x","o":-5}'):
        before = len(emulator.all_responses())
        slack.block_action(
            ids.KNOWLEDGE_SEARCH_HELPFUL, value, user_id=MEMBER, channel_id=QA, message={}
        )
        wait_for(lambda: len(emulator.all_responses()) > before)  # noqa: B023
        assert "古くなっています" in emulator.all_responses()[-1][1]["text"]
    # A removed entry: the press is explained and counts nothing.
    with session_factory.begin() as session:
        entries.remove(
            session,
            clock=clock,
            entry_id=entry_id,
            actor=SECRETARY,
            by_secretariat=True,
            reason="test",
        )
    value = json.dumps({"q": "ガバメントクラウド", "o": 0, "e": entry_id}, ensure_ascii=False)
    slack.block_action(ids.KNOWLEDGE_SEARCH_HELPFUL, value, user_id=MEMBER, channel_id=QA)
    wait_for(lambda: "削除されている" in rendered(emulator.all_responses()[-1][1]))
    with session_factory() as session:
        assert session.scalars(select(KnowledgeHelpful)).all() == []


def test_nothing_found_is_polite_and_kept_as_a_gap_without_the_searcher(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    seed_thread(session_factory, clock)
    _, answer = search(slack, emulator, "公用車 予約システム 090-1234-5678")
    shown = rendered(answer)
    assert "見つかりませんでした" in shown and "別の言い方" in shown
    assert_within_block_kit(answer["blocks"])
    search(slack, emulator, "公用車 予約システム 090-1234-5678")  # the same words again
    with session_factory() as session:
        [gap] = session.scalars(select(KnowledgeGap)).all()
        row = {c.name: getattr(gap, c.name) for c in KnowledgeGap.__table__.columns}
    assert gap.prefecture == "岩手県" and gap.times == 2
    assert "090-1234-5678" not in gap.query  # masked like everything kept
    assert "公用車" in gap.query
    assert not any(MEMBER in str(value) or "hanako" in str(value) for value in row.values())


def test_the_app_home_search_opens_a_modal_that_shows_and_pages_results(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    for n in range(7):
        seed_faq(
            session_factory,
            clock,
            f"telework-{n}",
            title=f"テレワークの申請 {n}",
            question="テレワークの申請はどこに出しますか",
            answer="所属課の窓口に提出します。",
        )
    slack.event({"type": "app_home_opened", "user": MEMBER, "tab": "home"})
    home = wait_for(lambda: emulator.published_home(MEMBER) or {})
    [open_button] = buttons(home["blocks"], ids.KNOWLEDGE_SEARCH_HOME)
    assert open_button["text"]["text"] == "ナレッジを検索"

    slack.block_action(ids.KNOWLEDGE_SEARCH_HOME, "open", user_id=MEMBER, view=home)
    [modal] = wait_for(lambda: emulator.opened_views())
    assert modal["callback_id"] == ids.KNOWLEDGE_SEARCH_MODAL

    # An empty search is refused under the field.
    refused = slack.view_submission(
        ids.KNOWLEDGE_SEARCH_MODAL, user_id=MEMBER, view_id=modal["id"], values=_query("　")
    )
    assert refused.json()["response_action"] == "errors"

    started = time.monotonic()
    submitted = slack.view_submission(
        ids.KNOWLEDGE_SEARCH_MODAL,
        user_id=MEMBER,
        view_id=modal["id"],
        values=_query("テレワーク 申請"),
    )
    assert time.monotonic() - started < 3.0
    updated = submitted.json()
    assert updated["response_action"] == "update"
    results = updated["view"]
    assert_within_block_kit(results["blocks"], limit=100)
    assert hits_shown(results["blocks"]) == 5 and "7件" in rendered(results)
    [more] = buttons(results["blocks"], ids.KNOWLEDGE_SEARCH_NEXT)

    # 「さらに表示」 in the modal: views.update with the next two.
    view = {**modal, "blocks": results["blocks"]}
    slack.block_action(ids.KNOWLEDGE_SEARCH_NEXT, more["value"], user_id=MEMBER, view=view)
    wait_for(lambda: emulator.calls_to("views.update"))
    page_two = emulator.view(modal["id"])
    assert page_two is not None and hits_shown(page_two["blocks"]) == 2
    assert "6〜7件目" in rendered(page_two)
    # 「役に立った」 in the modal: counted, the page shown again with the thanks.
    [helpful, *_] = buttons(page_two["blocks"], ids.KNOWLEDGE_SEARCH_HELPFUL)
    slack.block_action(
        ids.KNOWLEDGE_SEARCH_HELPFUL, helpful["value"], user_id=MEMBER, view=page_two
    )
    wait_for(lambda: len(emulator.calls_to("views.update")) == 2)
    assert "記録しました" in rendered(emulator.view(modal["id"]) or {})
    with session_factory() as session:
        [mark] = session.scalars(select(KnowledgeHelpful)).all()
        assert mark.entry_id == json.loads(helpful["value"])["e"]


def _query(text: str) -> dict[str, Any]:
    return {
        ids.KNOWLEDGE_SEARCH_QUERY_BLOCK: {
            ids.KNOWLEDGE_SEARCH_INPUT: {"type": "plain_text_input", "value": text}
        }
    }


def _synonyms(text: str) -> dict[str, Any]:
    return {
        ids.KNOWLEDGE_SYNONYMS_BLOCK: {
            ids.KNOWLEDGE_SYNONYMS_INPUT: {"type": "plain_text_input", "value": text}
        }
    }


def test_synonyms_are_the_secretariats_to_edit_and_saving_is_audited(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    url = emulator.new_response_url()
    slack.command("/kyoso", "synonyms", user_id=MEMBER, channel_id=QA, response_url=url)
    [refusal] = wait_for(lambda: emulator.responses(url))
    assert "事務局メンバーのみ" in refusal["text"]
    assert emulator.opened_views() == []
    forged = slack.view_submission(  # a submission of the modal she could not open
        ids.KNOWLEDGE_SYNONYMS_MODAL,
        user_id=MEMBER,
        values=_synonyms("犬, いぬ"),
        blocks=synonyms_modal("", "ja").to_dict()["blocks"],
    ).json()
    assert forged["response_action"] == "errors"
    assert "事務局メンバーのみ" in forged["errors"][ids.KNOWLEDGE_SYNONYMS_BLOCK]
    with session_factory() as session:
        assert session.scalars(select(KnowledgeSynonymGroup)).all() == []
        shipped = vocabulary.as_text(session)

    slack.command("/kyoso", "synonyms", user_id=SECRETARY, channel_id=QA)
    [modal] = wait_for(lambda: emulator.opened_views())
    [field] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"] == shipped and field["element"]["multiline"]

    # 501 groups of two one-kanji terms: within the field's 3,000 characters.
    too_many = "\n".join(f"{chr(0x4E00 + 2 * n)},{chr(0x4E01 + 2 * n)}" for n in range(501))
    assert len(too_many) <= 3000
    answer = slack.view_submission(
        ids.KNOWLEDGE_SYNONYMS_MODAL,
        user_id=SECRETARY,
        view_id=modal["id"],
        values=_synonyms(too_many),
    ).json()
    assert answer["response_action"] == "errors"
    assert "グループが多すぎます" in answer["errors"][ids.KNOWLEDGE_SYNONYMS_BLOCK]
    too_long = "あ, い\n" * 800
    answer = slack.view_submission(
        ids.KNOWLEDGE_SYNONYMS_MODAL,
        user_id=SECRETARY,
        view_id=modal["id"],
        values=_synonyms(too_long),
    ).json()
    assert "長すぎます" in answer["errors"][ids.KNOWLEDGE_SYNONYMS_BLOCK]
    with session_factory() as session:
        assert session.scalars(select(KnowledgeSynonymGroup)).all() == []

    saved = slack.view_submission(
        ids.KNOWLEDGE_SYNONYMS_MODAL,
        user_id=SECRETARY,
        view_id=modal["id"],
        values=_synonyms("公用車, 庁用車\nテレワーク, 在宅勤務, リモートワーク"),
    ).json()
    assert saved["response_action"] == "update"
    assert "2グループ" in json.dumps(saved["view"], ensure_ascii=False)
    with session_factory() as session:
        assert vocabulary.groups(session) == [
            ("公用車", "庁用車"),
            ("テレワーク", "在宅勤務", "リモートワーク"),
        ]
        [audit] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "knowledge.synonyms_replaced")
        ).all()
        assert audit.actor == SECRETARY


def test_a_saved_synonym_finds_the_other_word(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    seed_faq(
        session_factory,
        clock,
        "car",
        title="庁用車の予約",
        question="庁用車はどう予約しますか",
        answer="総務課の予約表に記入します。",
    )
    _, answer = search(slack, emulator, "公用車")
    assert "見つかりませんでした" in rendered(answer)
    with session_factory.begin() as session:
        vocabulary.replace(session, clock=clock, actor=SECRETARY, text="公用車, 庁用車")
    _, answer = search(slack, emulator, "公用車")
    assert "庁用車の予約" in rendered(answer)


def test_gaps_are_listed_for_the_secretariat_and_ambassadors_only(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    search(slack, emulator, "除雪車 配備計画")  # 岩手県
    search(slack, emulator, "空き家バンク", user=ENGLISH)  # no organisation: no prefecture

    def gaps_answer(user: str) -> str:
        url = emulator.new_response_url()
        slack.command("/kyoso", "gaps", user_id=user, channel_id=QA, response_url=url)
        return rendered(wait_for(lambda: emulator.responses(url))[0]) + str(
            emulator.responses(url)[0].get("text")
        )

    refused = gaps_answer(MEMBER)
    assert "アンバサダーと事務局のみ" in refused and "除雪車" not in refused
    everything = gaps_answer(SECRETARY)
    assert "除雪車 配備計画" in everything and "空き家バンク" in everything
    assert "岩手県" in everything and "都道府県不明" in everything and "1回" in everything
    own = gaps_answer(AMBASSADOR)
    assert "除雪車 配備計画" in own and "空き家バンク" not in own and "岩手県" in own
    # Older than 30 days: no longer listed.
    clock.advance(timedelta(days=31))
    assert "見つからなかった検索はありません" in gaps_answer(SECRETARY)
