"""Whether a channel message asks something, and what of it is searched for."""

from __future__ import annotations

import pytest

from bot.knowledge.questions import MAX_TEXT, looks_like_question, question_core
from bot.knowledge.tokens import keys


@pytest.mark.parametrize(
    "text",
    [
        "テレワークの申請書はどこに出せばよいですか？",
        "テレワークの申請書はどこに出せばよいですか?",  # a half-width question mark
        "お疲れ様です。ガバメントクラウド移行の手順を教えてください。",
        "ガバメントクラウドの移行手順を教えていただけますか",
        "住民票の写しを郵送で請求する方法は",
        "公用車の予約はどうすればいいでしょうか",
        "LGWAN 接続の申請手順をご存知の方はいらっしゃいますか",
        "マイナンバーカードの交付予約について知りたいです",
        "How do I apply for telework from home",
        "Does anyone know the deadline for the cloud migration plan",
        "<@U0SATO> 庁内の生成AI利用ガイドラインはありますか",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "え？",  # a reaction
        "本当ですか？",  # too little left to search for
        "明日の勉強会に参加しませんか",  # an invitation
        "資料を共有します。ご確認ください。",
        "方法は以下の通りです。まず申請書を作成します。",
        "先輩に教えてもらった方法です",
        "どこでも使えます",
        "ありがとうございます！よろしくお願いします。",
        "> 申請書はどこに出しますか？\nこれは前に聞かれた質問です",  # a quote
        "```where is it?``` のログを貼ります",  # code
        "資料はこちら https://example.jp/page?id=1 です",  # a question mark in a link
        "申請書の書き方について。" * 200 + "？",  # a long report with a question mark
    ],
)
def test_other_messages_are_not(text: str) -> None:
    assert not looks_like_question(text)


def test_a_long_post_is_not_taken_for_a_question() -> None:
    assert len("申請書の書き方について。" * 200) > MAX_TEXT


def test_the_core_drops_greetings_markup_and_the_asking() -> None:
    assert question_core(
        "お疲れ様です。<@U0SATO> 公用車を予約したいのですが、どうすればいいでしょうか？"
    ) == ("公用車を予約")
    assert question_core("マイナンバーカードの交付について教えてください :pray:") == (
        "マイナンバーカードの交付"
    )
    assert question_core("ＬＧＷＡＮの申請は？") == "lgwanの申請は"


def test_okurigana_stay_so_that_kanji_pairs_still_form() -> None:
    core = question_core("研修の申し込みはどこですか")
    assert core == "研修の申し込"  # みはどこ: grammar, gone
    assert "申込" in keys(core)  # 申し込み and 申込 still meet
