"""The detectors' newer classes end to end, as Slack drives them: home addresses without 〒,
rule reminders and questions about the confidentiality scheme, placeholders and business codes,
adverts (a gentle nudge, never a scolding) and 住民票コード, whose digits must never be written
in clear anywhere Kyoso writes."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.detectors import my_number_check_digit
from bot.detectors.resident_code import check_digit as resident_code_check_digit
from bot.i18n import t
from models import (
    CaseReport,
    CaseSource,
    InboxEvent,
    InboxStatus,
)
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.support.written import everything_written
from tests.test_e2e_moderation import (
    AUTHOR,
    REPORTER,
    REPORTER_EN,
    REVIEW,
    SECRETARY,
    act,
    alerts,
    post_as,
    rendered,
    report,
    setup_people,
)
from tests.test_moderation_detection import (
    cases,
    detections,
    message_event,
    posted,
    warnings,
)

# A post that always warns (a private mobile): processed after the posts sent before it.
MARKER = "急ぎの件は私の携帯 080-2718-2818 までお願いします"

# A budget code that happens to pass the My Number check digit.
BUDGET_FIRST_ELEVEN = "31020145067"
BUDGET_CODE = BUDGET_FIRST_ELEVEN + str(my_number_check_digit(BUDGET_FIRST_ELEVEN))

# A 住民票コード (eleven digits, the last its check digit) and a My Number, both made up.
CODE_FIRST_TEN = "6803159274"
RESIDENT_CODE = CODE_FIRST_TEN + str(resident_code_check_digit(CODE_FIRST_TEN))
RESIDENT_CODE_TYPED = f"{RESIDENT_CODE[:4]}-{RESIDENT_CODE[4:8]}-{RESIDENT_CODE[8:]}"
MY_NUMBER_FIRST_ELEVEN = "52917364080"
MY_NUMBER = MY_NUMBER_FIRST_ELEVEN + str(my_number_check_digit(MY_NUMBER_FIRST_ELEVEN))
MY_NUMBER_GROUPED = f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}"


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_people(emulator, session_factory, clock)


def settled(session_factory: SessionFactory) -> bool:
    """Every event recorded in the inbox has been processed (its Slack calls made)."""
    with session_factory() as session:
        statuses = list(session.scalars(select(InboxEvent.status)))
    return bool(statuses) and all(status == InboxStatus.DONE for status in statuses)


def shown(message: dict[str, Any]) -> str:
    """What the member reads: the blocks' text and the notification text."""
    texts = [str(message.get("text") or "")]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            texts.append(str(text.get("text") or ""))
    return "\n".join(texts)


def sent_by_kyoso(emulator: SlackEmulator) -> list[tuple[str, str]]:
    """(method, params as JSON) of every Web API call Kyoso made (not the members' own)."""
    return [
        (call.method, json.dumps(call.params, ensure_ascii=False))
        for call in emulator.calls
        if call.token in ("xoxb-test", None)
    ]


def flagged_quiet_posts(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    posts: dict[str, tuple[str, str]],
) -> tuple[list[str], dict[str, Any]]:
    """Posts each (label: (user, text)) that should pass unnoticed, then the marker; once the
    marker's warning is out and the inbox is idle, returns the labels of posts that got a
    Detection (should be none) and the marker's event."""
    by_ts = {
        posted(slack, emulator, user, text)["ts"]: label for label, (user, text) in posts.items()
    }
    marker = posted(slack, emulator, AUTHOR, MARKER)
    wait_for(lambda: warnings(emulator))
    wait_for(lambda: settled(session_factory))
    flagged = [
        f"{by_ts[d.message_ts]}: {d.kinds}"
        for d in detections(session_factory)
        if d.message_ts in by_ts
    ]
    return flagged, marker


def assert_only_the_marker_was_noticed(
    emulator: SlackEmulator, session_factory: SessionFactory, marker: dict[str, Any]
) -> None:
    assert [d.message_ts for d in detections(session_factory)] == [marker["ts"]]
    (ephemeral,) = emulator.ephemeral_messages()  # nobody else was warned or nudged
    assert ephemeral["user"] == AUTHOR and "個人の電話番号" in shown(ephemeral)
    assert cases(session_factory) == [] and alerts(emulator) == []


# ---- 1. a home address without 〒 ------------------------------------------------------------

ADDRESS_POST = (
    "住民の佐々木さんから、郵便物が届かないと相談がありました。"
    "お住まいは喜多方市押切南3丁目8番12号で、転居前は2-14-7 サンライズハイツ201だったそうです。"
)
ADDRESS_IN_CLEAR = ("押切南", "3丁目8番12号", "8番12号", "2-14-7", "サンライズハイツ", "ハイツ201")


def test_a_home_address_without_a_postal_code_warns_and_a_report_keeps_it_masked(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    event = posted(slack, emulator, AUTHOR, ADDRESS_POST)
    wait_for(lambda: warnings(emulator))
    wait_for(lambda: settled(session_factory))
    (warning,) = warnings(emulator)
    text = shown(warning)
    assert "個人の住所" in text and "5. 個人情報" in text
    assert "メッセージを編集する" in text  # a warning says how to fix the post
    assert "事務局にもお知らせしました" not in text  # ...but no case opens for it
    assert [part for part in ADDRESS_IN_CLEAR if part in text] == []
    (detection,) = detections(session_factory)
    assert detection.message_ts == event["ts"] and detection.kinds == ["postal_address"]
    assert detection.details is not None and detection.details["severity"] == "warn"
    assert cases(session_factory) == [] and alerts(emulator) == []

    # A member reports the message: a case opens, with the address masked.
    message = {k: v for k, v in event.items() if k not in ("channel", "channel_type")}
    assert report(slack, emulator, message, REPORTER, "personal_information").status == 200
    alert = shown(wait_for(lambda: alerts(emulator))[0]) + rendered(alerts(emulator)[0])
    assert "メンバーからの報告" in alert and "個人情報" in alert
    assert "住民の佐々木さんから" in alert and "＊＊＊" in alert  # the excerpt, masked
    assert [part for part in ADDRESS_IN_CLEAR if part in alert] == []
    (case,) = cases(session_factory)
    assert case.source is CaseSource.REPORT and case.reasons == ["personal_information"]
    assert "＊" in case.excerpt and "郵便物が届かない" in case.excerpt
    assert [part for part in ADDRESS_IN_CLEAR if part in case.excerpt] == []
    wait_for(lambda: emulator.dm_messages(REPORTER))  # the thanks: everything has been sent
    leaked = [
        (method, part)
        for method, params in sent_by_kyoso(emulator)
        for part in ADDRESS_IN_CLEAR
        if part in params
    ]
    assert leaked == []


# ---- 2. talking about the rules is not breaking them -----------------------------------------


def test_rule_reminders_and_questions_about_the_scheme_are_left_alone(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    posts = {
        "one-sentence reminder": (
            SECRETARY,
            "【事務局からのお願い】このチャンネルでは、機密性3の情報と住民のマイナンバーは扱えません。"
            "投稿の前にもう一度ご確認ください。",
        ),
        "bulleted reminder": (
            SECRETARY,
            "【事務局からのお願い】\n次の情報はこのチャンネルに投稿しないでください。\n"
            "・機密性3の情報\n・住民のマイナンバー（個人番号）\n"
            "ご不明な点は事務局までお尋ねください。",
        ),
        "polite question": (
            AUTHOR,
            "質問させてください。機密性2の会議資料を、所属長の了承を取ったうえで"
            "ここに貼ってもよいでしょうか?",
        ),
        "casual question": (REPORTER, "機密性2の資料って共有していいんでしたっけ?"),
    }
    flagged, marker = flagged_quiet_posts(slack, emulator, session_factory, posts)
    assert flagged == []
    assert_only_the_marker_was_noticed(emulator, session_factory, marker)


# ---- 3. placeholders and business codes are nobody's number ----------------------------------


def test_placeholders_format_examples_and_budget_codes_are_left_alone(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    grouped_code = f"{BUDGET_CODE[:4]} {BUDGET_CODE[4:8]} {BUDGET_CODE[8:]}"
    posts = {
        "My Number example": (
            AUTHOR,
            "申請書のマイナンバー欄には 0000 0000 0000 のように、4桁ずつ空けて書いてもらいます",
        ),
        "mobile blank": (
            AUTHOR,
            "緊急連絡先の欄は 090-0000-0000 と書いてもらう様式に変えました",
        ),
        "budget code": (
            REPORTER,
            f"マイナンバーカード交付事業の予算科目コード {BUDGET_CODE} で支出します",
        ),
        "budget code, grouped": (
            REPORTER,
            f"財務会計システムの予算科目コード欄には {grouped_code} と入力してください",
        ),
    }
    flagged, marker = flagged_quiet_posts(slack, emulator, session_factory, posts)
    assert flagged == []
    assert_only_the_marker_was_noticed(emulator, session_factory, marker)


# ---- 4. adverts get a gentle nudge; a link with one's own view gets nothing ------------------

WEBINAR = (
    "【参加無料・先着100名】自治体職員向けウェビナー「クラウド移行のはじめ方」開催決定！"
    "残席わずかです。今すぐこちらからお申し込みください "
    "<https://cloud-iko.example.com/webinar/entry>"
)
VENDOR = (
    "いつもお世話になっております。弊社では自治体向けの電子申請サービス「てつづきクラウド」を"
    "ご提供しています。本日はその新機能をご紹介します。詳細はこちら "
    "<https://tetsuzuki.example.co.jp/product>"
)
OWN_VIEW = (
    "県の研修で紹介されていたオープンデータの手引きです。"
    "読んでみて、公開前のチェックリストが具体的で使いやすいと感じました。 "
    "<https://opendata.example.lg.jp/guide.pdf>"
)


def test_adverts_get_a_gentle_nudge_and_a_shared_view_gets_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    own_view = posted(slack, emulator, AUTHOR, OWN_VIEW)
    webinar = posted(slack, emulator, AUTHOR, WEBINAR)
    vendor = posted(slack, emulator, REPORTER, VENDOR)
    wait_for(lambda: warnings(emulator) and warnings(emulator, REPORTER))
    wait_for(lambda: settled(session_factory))

    nudge = t("moderation.warning.advert", "ja")
    for user in (AUTHOR, REPORTER):
        (ephemeral,) = warnings(emulator, user)
        text = shown(ephemeral)
        assert ephemeral["text"] == nudge and nudge in text
        assert "宣伝やお知らせが中心の投稿のようです" in text and "2. 禁止事項" in text
        assert "メッセージを削除する" not in text  # a nudge, not a scolding
        assert "メッセージを編集する" not in text and "⚠️" not in text
        assert "事務局" not in text
    assert len(emulator.ephemeral_messages()) == 2  # nothing for the post with a view

    found = {d.message_ts: d for d in detections(session_factory)}
    assert own_view["ts"] not in found
    assert set(found) == {webinar["ts"], vendor["ts"]}
    for detection in found.values():
        assert detection.kinds == ["advert"]
        assert detection.details is not None and detection.details["severity"] == "nudge"
    assert cases(session_factory) == [] and alerts(emulator) == []


# ---- 5. a 住民票コード is never written in clear ---------------------------------------------


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _leaks(value: str) -> list[str]:
    """Which of the post's values appear in `value`: as typed, or with separators removed."""
    found = [
        name
        for name, typed in (
            ("resident code", RESIDENT_CODE_TYPED),
            ("My Number", MY_NUMBER_GROUPED),
        )
        if typed in value
    ]
    digits = _digits(value)
    found += [
        f"{name} digits"
        for name, plain in (("resident code", RESIDENT_CODE), ("My Number", MY_NUMBER))
        if plain in digits
    ]
    return found


def test_a_resident_code_is_warned_about_and_never_written_in_clear(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    post = (
        f"転入された住民の松本さんの件です。住民票コードは {RESIDENT_CODE_TYPED}、"
        f"マイナンバーは {MY_NUMBER_GROUPED} で登録しました。"
    )
    event = message_event(post_as(emulator, AUTHOR, post))  # the member's own post, in Slack
    caplog.set_level(logging.DEBUG)  # from here on, everything is Kyoso's doing
    slack.event(event)
    wait_for(lambda: alerts(emulator) and warnings(emulator))
    message = {k: v for k, v in event.items() if k not in ("channel", "channel_type")}
    report(
        slack,
        emulator,
        message,
        REPORTER,
        "personal_information",
        note=f"住民票コード {RESIDENT_CODE} がそのまま書かれています",
    )
    wait_for(lambda: emulator.dm_messages(REPORTER))
    wait_for(lambda: "*報告*: 1 件" in rendered(alerts(emulator)[0]))
    (case,) = cases(session_factory)
    act(slack, emulator, ids.MODERATION_WARN, case.public_id, SECRETARY, "番号を消してください")
    wait_for(lambda: emulator.dm_messages(AUTHOR))
    slack.command("/kyoso", "cases", user_id=SECRETARY, channel_id=REVIEW)
    slack.command("/kyoso", f"cases {AUTHOR}", user_id=SECRETARY, channel_id=REVIEW)
    wait_for(lambda: len(emulator.all_responses()) >= 2)
    wait_for(lambda: settled(session_factory))

    # The poster is warned, naming the resident code (and the My Number), without them.
    (warning,) = warnings(emulator)
    text = shown(warning)
    assert "住民票コード" in text and "マイナンバー（個人番号）" in text
    assert "事務局にもお知らせしました" in text
    (detection,) = detections(session_factory)
    assert detection.kinds == ["resident_code", "my_number"]
    assert detection.details is not None and detection.details["severity"] == "case"
    assert case.source is CaseSource.DETECTOR
    with session_factory() as session:
        assert session.scalars(select(CaseReport.note)).one() is not None  # the note was kept

    channels = (REVIEW, emulator.im_channel_id(AUTHOR), emulator.im_channel_id(REPORTER))
    written = everything_written(
        logs=caplog.text, emulator=emulator, session_factory=session_factory, channels=channels
    )
    assert [(where, _leaks(text)) for where, text in written if _leaks(text)] == []
    assert sent_by_kyoso(emulator)
    assert len(cases(session_factory)) == 1


# ---- 6. the nudge in the member's language ---------------------------------------------------


def test_an_english_speaking_member_gets_the_advert_nudge_in_english(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    advert = (
        "【参加無料・先着50名】Free webinar: 自治体向けクラウド活用セミナー、残席わずか！"
        "お早めにお申し込みを <https://cloud-katsuyo.example.net/webinar>"
    )
    posted(slack, emulator, REPORTER_EN, advert)
    (ephemeral,) = wait_for(lambda: warnings(emulator, REPORTER_EN))
    text = shown(ephemeral)
    nudge = t("moderation.warning.advert", "en")
    assert ephemeral["text"] == nudge and nudge in text
    assert "mostly an advert or a promotion" in text and "2. Not allowed" in text
    assert "Delete message" not in text and "Edit message" not in text
    assert "宣伝" not in text and "メッセージ" not in text  # nothing left in Japanese
    wait_for(lambda: settled(session_factory))
    (detection,) = detections(session_factory)
    assert detection.kinds == ["advert"] and detection.user_id == REPORTER_EN
    assert detection.details is not None and detection.details["severity"] == "nudge"
    assert cases(session_factory) == [] and alerts(emulator) == []


# ---- the same promises, for forms the classes above do not cover ------------------------------


def test_a_flats_name_and_room_number_stay_masked_whatever_the_flat_is_called(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    """A flat named with the word first (コーポ若葉) or in hiragana (みどりハイツ): the room
    number belongs to the address as much as with サンライズハイツ201."""
    post = (
        "転入された住民の方2名の旧住所です。佐々木さんは須賀川市八幡山1-5-9 コーポ若葉201、"
        "松本さんは喜多方市松山町2-14-7 みどりハイツ305でした。"
    )
    event = posted(slack, emulator, AUTHOR, post)
    wait_for(lambda: warnings(emulator))
    message = {k: v for k, v in event.items() if k not in ("channel", "channel_type")}
    report(slack, emulator, message, REPORTER, "personal_information")
    alert = rendered(wait_for(lambda: alerts(emulator))[0])
    (case,) = cases(session_factory)
    in_clear = ("八幡山", "1-5-9", "松山町", "2-14-7", "コーポ若葉201", "みどりハイツ305")
    assert [part for part in in_clear if part in case.excerpt] == [], case.excerpt
    assert [part for part in in_clear if part in alert] == []


def test_a_resident_code_named_after_its_digits_is_masked_in_a_report_note(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    """Reporters write the label after the number as often as before it."""
    event = posted(slack, emulator, AUTHOR, f"住民の松本さんの住民票コードは {RESIDENT_CODE} です")
    wait_for(lambda: warnings(emulator))
    message = {k: v for k, v in event.items() if k not in ("channel", "channel_type")}
    report(
        slack,
        emulator,
        message,
        REPORTER,
        "personal_information",
        note=f"{RESIDENT_CODE} という住民票コードがそのまま載っています",
    )
    alert = rendered(wait_for(lambda: alerts(emulator))[0])
    assert "メンバーからの報告" in alert
    with session_factory() as session:
        note = session.scalars(select(CaseReport.note)).one()
    assert note is not None and "住民票コードがそのまま載っています" in note
    assert RESIDENT_CODE not in _digits(note), note
    assert RESIDENT_CODE not in _digits(alert)
