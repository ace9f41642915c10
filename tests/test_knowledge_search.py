"""Knowledge search over a real database: Japanese keys, synonyms, ranking signals, removal."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.knowledge import entries, feedback, index, search, vocabulary
from bot.services.knowledge.privacy import Refused
from models import KnowledgeEntry


def _faq(
    session_factory: SessionFactory,
    clock: FixedClock,
    key: str,
    title: str,
    answer: str,
    **extra: object,
) -> int:
    with session_factory.begin() as session:
        return entries.save_faq(
            session,
            clock=clock,
            actor="U0SEC",
            key=key,
            title=title,
            question=title,
            answer=answer,
            **extra,  # type: ignore[arg-type]
        ).entry_id


def _titles(
    session_factory: SessionFactory, clock: FixedClock, query: str, prefecture: str | None = None
) -> list[str]:
    with session_factory() as session:
        page = search.search(
            session,
            query=query,
            clock=clock,
            thesaurus=vocabulary.thesaurus(session),
            prefecture=prefecture,
            limit=5,
        )
        return [hit.title for hit in page.hits]


@pytest.fixture
def seeded(session_factory: SessionFactory, clock: FixedClock) -> None:
    _faq(
        session_factory,
        clock,
        "cloud",
        "ガバメントクラウドへの移行費用",
        "移行経費は補助金の対象です。見積は早めにベンダーへ依頼してください。",
    )
    _faq(
        session_factory,
        clock,
        "apply",
        "電子申請の申込方法",
        "ぴったりサービスから申し込みできます。窓口での紙の申請も受け付けます。",
    )
    _faq(
        session_factory,
        clock,
        "lgwan",
        "ＬＧＷＡＮ端末の更新",
        "LGWAN接続端末の更新は年度末までに計画してください。",
    )
    _faq(
        session_factory,
        clock,
        "mfa",
        "多要素認証の導入",
        "職員のログインに二つ目の要素を加えました。",
    )
    _faq(
        session_factory,
        clock,
        "window",
        "窓口の混雑対策",
        "予約システムと書かない窓口で待ち時間を減らした例があります。",
    )


@pytest.mark.usefixtures("seeded")
def test_two_character_words_and_spelling_variants_find_their_entry(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    assert _titles(session_factory, clock, "申し込み")[0] == "電子申請の申込方法"
    assert _titles(session_factory, clock, "lgwan 端末")[0] == "ＬＧＷＡＮ端末の更新"
    assert _titles(session_factory, clock, "ｶﾞﾊﾞﾒﾝﾄｸﾗｳﾄﾞ")[0] == "ガバメントクラウドへの移行費用"
    assert _titles(session_factory, clock, "窓口")[0] == "窓口の混雑対策"


@pytest.mark.usefixtures("seeded")
def test_synonyms_expand_the_query_and_can_be_edited(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    assert _titles(session_factory, clock, "ガバクラ 費用")[0] == "ガバメントクラウドへの移行費用"
    assert _titles(session_factory, clock, "MFA") == ["多要素認証の導入"]
    assert _titles(session_factory, clock, "混雑 解消") == ["窓口の混雑対策"]
    assert "窓口の混雑対策" not in _titles(session_factory, clock, "行列")
    with session_factory.begin() as session:
        vocabulary.replace(session, clock=clock, actor="U0SEC", text="行列, 混雑\n")
    assert _titles(session_factory, clock, "行列")[0] == "窓口の混雑対策"
    # The secretariat's list replaced the shipped one (where MFA meant 多要素認証).
    assert _titles(session_factory, clock, "MFA") == []


@pytest.mark.usefixtures("seeded")
def test_nothing_found_for_unrelated_words(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    assert _titles(session_factory, clock, "給食の献立") == []
    assert _titles(session_factory, clock, "の に を") == []


def _ids(
    session_factory: SessionFactory, clock: FixedClock, query: str, prefecture: str | None = None
) -> list[int]:
    with session_factory() as session:
        page = search.search(
            session, query=query, clock=clock, thesaurus=None, prefecture=prefecture, limit=5
        )
        return [hit.entry_id for hit in page.hits]


def test_marks_recency_and_prefecture_order_equal_matches(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    def same(key: str, **extra: object) -> int:
        return _faq(session_factory, clock, key, "庁内チャットの導入", "導入の手順です。", **extra)

    old = same("old", answered_at=clock.now() - timedelta(days=365 * 4))
    new = same("new")
    assert _ids(session_factory, clock, "チャット 導入")[:2] == [new, old]
    local = same("local", answered_at=clock.now() - timedelta(days=365 * 4), prefecture="岩手県")
    assert _ids(session_factory, clock, "チャット 導入", prefecture="岩手県")[0] == local
    assert _ids(session_factory, clock, "チャット 導入", prefecture="秋田県")[0] == new
    with session_factory.begin() as session:
        for _ in range(3):
            feedback.mark_helpful(session, clock=clock, entry_id=old, user_id=f"U{_}")
    assert _ids(session_factory, clock, "チャット 導入")[0] == old


def test_removed_entries_leave_the_index_and_labels_are_refused(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    entry_id = _faq(session_factory, clock, "x", "RPAの導入", "RPAで入力作業を減らしました。")
    with session_factory.begin() as session:
        entries.remove(
            session,
            clock=clock,
            entry_id=entry_id,
            actor="U0SEC",
            by_secretariat=True,
            reason="test",
        )
    assert _titles(session_factory, clock, "RPA") == []
    with session_factory.begin() as session:
        assert index.corpus(session, ["rpa"]).holding == {}
        with pytest.raises(Refused):
            entries.save_faq(
                session,
                clock=clock,
                actor="U0SEC",
                key="y",
                title="資料",
                question="【機密性3】の資料です",
                answer="添付します",
            )


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="PostgreSQL not configured (SQLite serialises writers: no two inserts race)",
)
def test_two_members_keeping_the_same_thread_at_once_make_one_entry(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    """The second transaction meets the first one's row only when it commits (PostgreSQL waits
    on the unique key, then refuses the insert): it updates the entry instead of failing."""
    draft = entries.ThreadDraft(
        channel_id="C0KNOW",
        thread_ts="1700000000.000100",
        answer_ts="1700000000.000200",
        asker_id="U0ASKER",
        answerer_id="U0ANSWER",
        title="窓口の予約",
        question="窓口の予約システムは？",
        answer="予約システムを入れました。",
        tags=(),
        answered_at=clock.now(),
    )
    first = session_factory()
    first.begin()
    entries.save_thread(first, clock=clock, recorder_id="U0ASKER", draft=draft)
    saved: list[entries.Saved] = []

    def second() -> None:
        with session_factory.begin() as session:
            saved.append(
                entries.save_thread(session, clock=clock, recorder_id="U0FAC", draft=draft)
            )

    worker = threading.Thread(target=second)
    worker.start()
    worker.join(timeout=0.5)  # blocked behind the first transaction
    first.commit()
    first.close()
    worker.join(timeout=10)
    assert len(saved) == 1 and not saved[0].created
    with session_factory() as session:
        (entry,) = session.scalars(select(KnowledgeEntry)).all()
        assert entry.recorder_id == "U0FAC"
