"""The gate in front of the knowledge store: stricter than a message's check on labels, and
masking e-mail addresses as well as what the detectors mask."""

from __future__ import annotations

import pytest

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.knowledge import entries, gaps
from bot.services.knowledge.privacy import EMAIL, Refused, gate
from models import KnowledgeEntry


@pytest.mark.parametrize(
    "text",
    [
        "【機密性3】の資料の扱いはこちらです",
        "部外秘の資料も共有します",
        "〔庁内限り〕会議メモ",
        "【機密性２】資料を添付します",
        "㊙ 次年度の体制案",
        "庁内限りの資料ですが、参考までに共有します。",
        "【取扱注意】職員名簿",
    ],
)
def test_labels_refuse_the_entry(text: str) -> None:
    with pytest.raises(Refused) as refused:
        gate(text)
    assert refused.value.kinds


@pytest.mark.parametrize(
    "text",
    [
        "機密性2とは何ですか",
        "取扱注意と書かれた文書の保存期間は？",
        "秘密保持契約の雛形を探しています",
        "情報セキュリティポリシーの改定手順",
    ],
)
def test_talk_about_the_rules_is_kept(text: str) -> None:
    assert gate(text).text == text


def test_personal_values_are_masked_and_named() -> None:
    gated = gate("担当の連絡先は taro.yamada@city.example.lg.jp、携帯 090-1234-5679 です")
    assert "taro.yamada" not in gated.text and "5679" not in gated.text
    assert gated.masked == {EMAIL, "phone_number"}


def test_masking_never_makes_a_title_or_a_gap_too_long_for_its_column(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    crowded = ("窓口 " + " ".join(["a@b.jp"] * 40))[:200]  # each address grows when masked
    with session_factory.begin() as session:
        saved = entries.save_faq(
            session, clock=clock, actor="U0SEC", key="k", title=crowded, question="q", answer="a"
        )
        gaps.log_gap(session, clock=clock, query=crowded, prefecture=None)
    with session_factory() as session:
        assert len(session.get(KnowledgeEntry, saved.entry_id).title) <= 200  # type: ignore[union-attr]
        (gap,) = gaps.recent_gaps(session, since=clock.now())
        assert "a@b.jp" not in gap.query and len(gap.query) <= 200
