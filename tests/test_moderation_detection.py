"""Detectors on members' posts, end to end: the poster's ephemeral warning, a case for
マイナンバー and 機密性3, one Detection per message however Slack redelivers it, and no
detected personal value ever written in clear to logs, Slack messages or the database."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.detectors import my_number_check_digit
from bot.services.moderation import privacy
from models import CaseSource, Detection, InboxEvent, ModerationCase, ProcessedEvent
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.support.written import everything_written
from tests.test_e2e_moderation import (
    AUTHOR,
    PUBLIC,
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

FIRST_ELEVEN = "43218765091"
MY_NUMBER = FIRST_ELEVEN + str(my_number_check_digit(FIRST_ELEVEN))
GROUPED = f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}"
MOBILE = "090-3141-5926"
PERSONAL_DIGITS = (MY_NUMBER, "31415926")


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_people(emulator, session_factory, clock)


def message_event(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**message, "channel": PUBLIC, "channel_type": "channel", **extra}


def posted(
    slack: SlackSender, emulator: SlackEmulator, user: str, text: str, **extra: Any
) -> dict[str, Any]:
    """The member posts (the emulator keeps it) and Slack delivers the message event."""
    message = post_as(emulator, user, text)
    event = message_event(message, **extra)
    assert slack.event(event).status == 200
    return event


def detections(session_factory: SessionFactory) -> list[Detection]:
    with session_factory() as session:
        return list(session.scalars(select(Detection)))


def cases(session_factory: SessionFactory) -> list[ModerationCase]:
    with session_factory() as session:
        return list(session.scalars(select(ModerationCase)))


def warnings(emulator: SlackEmulator, user: str = AUTHOR) -> list[dict[str, Any]]:
    return emulator.ephemeral_messages(PUBLIC, user)


def test_a_my_number_post_warns_the_poster_and_opens_a_case_without_the_value(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    event = posted(
        slack, emulator, AUTHOR, f"住民Aさんのマイナンバーは {GROUPED} です。確認お願いします"
    )
    warning = wait_for(lambda: warnings(emulator))[0]
    shown = rendered(warning) + warning["text"]
    assert "マイナンバー（個人番号）" in shown and "5. 個人情報" in shown
    assert "メッセージを編集する" in shown and "メッセージを削除する" in shown
    assert "事務局にもお知らせしました" in shown
    assert MY_NUMBER[:4] not in shown

    alert = rendered(wait_for(lambda: alerts(emulator))[0])
    assert "自動検出" in alert and "マイナンバー（個人番号）" in alert and f"<@{AUTHOR}>" in alert
    assert "＊＊＊＊ ＊＊＊＊ ＊＊＊＊" in alert and MY_NUMBER[:4] not in alert
    (detection,) = detections(session_factory)
    assert (detection.channel_id, detection.message_ts, detection.user_id) == (
        PUBLIC,
        event["ts"],
        AUTHOR,
    )
    assert detection.kinds == ["my_number"] and detection.details == {
        "severity": "case",
        "in_file_name": False,
        "edited": False,
    }
    (case,) = cases(session_factory)
    assert case.source is CaseSource.DETECTOR and case.reasons == ["my_number"]


def test_retries_and_duplicate_deliveries_are_handled_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, f"マイナンバー {MY_NUMBER}")
    event = message_event(message)
    slack.event(event, event_id="Ev0FIRST")
    wait_for(lambda: alerts(emulator))
    slack.event(event, event_id="Ev0FIRST", retry_num=1)  # Slack's retry
    slack.event(event, event_id="Ev0OTHER")  # the same message delivered again
    wait_for(lambda: len(emulator.calls_to("chat.postEphemeral")) >= 1)

    def claimed(event_id: str) -> bool:
        with session_factory() as session:
            found = select(ProcessedEvent).where(ProcessedEvent.event_id == event_id)
            return session.scalar(found) is not None

    wait_for(lambda: claimed("Ev0OTHER"))
    assert len(warnings(emulator)) == 1
    assert len(detections(session_factory)) == 1 and len(cases(session_factory)) == 1
    assert len(alerts(emulator)) == 1


def test_a_warning_slack_fails_to_take_is_sent_once_when_it_recovers(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    # Longer than slack_sdk's own retries: the event fails and the inbox retries it later.
    emulator.server_error("chat.postEphemeral", status=503, times=20)
    posted(slack, emulator, AUTHOR, f"マイナンバーは {GROUPED} です")
    wait_for(lambda: detections(session_factory))
    wait_for(lambda: _inbox_attempts(session_factory) >= 1, timeout=20)  # failed, to retry
    assert warnings(emulator) == [] and detections(session_factory)[0].warned_at is None
    emulator.clear_faults()
    clock.advance(timedelta(minutes=1))  # past the retry's backoff
    inbox = kyoso.kyoso.inbox  # looked at now rather than at its next poll
    wait_for(lambda: inbox.poll_once() >= 0 and len(warnings(emulator)) == 1, timeout=10)
    wait_for(lambda: detections(session_factory)[0].warned_at is not None)
    clock.advance(timedelta(hours=1))
    assert inbox.poll_once() == 0  # nothing is left to do
    time.sleep(0.5)  # give a wrongly repeated warning the chance to show
    assert len(warnings(emulator)) == 1 and len(cases(session_factory)) == 1


def _inbox_attempts(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return sum(session.scalars(select(InboxEvent.attempts)))


def test_a_personal_phone_number_warns_without_a_case(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    posted(slack, emulator, AUTHOR, f"詳しくは私の携帯 {MOBILE} までどうぞ")
    warning = rendered(wait_for(lambda: warnings(emulator))[0])
    assert "個人の電話番号" in warning and "事務局" not in warning
    assert "3141" not in warning
    assert [d.kinds for d in wait_for(lambda: detections(session_factory))] == [["phone_number"]]
    assert cases(session_factory) == [] and alerts(emulator) == []


def test_the_warning_speaks_the_posters_language(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    posted(slack, emulator, REPORTER_EN, f"My Number: {MY_NUMBER}")
    warning = wait_for(lambda: warnings(emulator, REPORTER_EN))[0]
    shown = rendered(warning)
    assert "My Number (Individual Number)" in shown and "Edit message" in shown
    assert "the secretariat has been told" in shown


def test_a_confidentiality_3_label_opens_a_case_that_copies_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    posted(slack, emulator, AUTHOR, "【機密性3】来年度の組織改編案（未公表）を共有します")
    warning = rendered(wait_for(lambda: warnings(emulator))[0])
    assert "機密性3の表示" in warning and "4. 情報の取扱い" in warning
    alert = rendered(wait_for(lambda: alerts(emulator))[0])
    assert "本文は転記していません" in alert and "組織改編" not in alert
    (case,) = cases(session_factory)
    assert case.excerpt == "" and case.reasons == ["confidentiality_3"]


def test_file_names_are_scanned(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, "名簿です")
    files = [{"id": "F0NAME", "name": f"住民名簿_マイナンバー_{MY_NUMBER}.xlsx"}]
    slack.event(message_event(message, subtype="file_share", files=files, upload=True))
    warning = rendered(wait_for(lambda: warnings(emulator))[0])
    assert "ファイル名に含まれています" in warning
    alert = rendered(wait_for(lambda: alerts(emulator))[0])
    assert "📎 住民名簿_マイナンバー_＊＊＊＊＊＊＊＊＊＊＊＊.xlsx" in alert
    assert MY_NUMBER not in alert
    assert detections(session_factory)[0].details == {
        "severity": "case",
        "in_file_name": True,
        "edited": False,
    }


def test_a_link_only_post_gets_a_gentle_nudge(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    posted(slack, emulator, AUTHOR, "<https://example.com/seminar>")
    warning = rendered(wait_for(lambda: warnings(emulator))[0])
    assert "リンクだけの投稿のようです" in warning and "2. 禁止事項" in warning
    assert "メッセージを削除する" not in warning  # a nudge, not a scolding
    assert cases(session_factory) == []


def test_bots_the_review_channel_private_channels_and_clean_posts_are_left_alone(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    number = f"マイナンバー {MY_NUMBER}"
    bot_post = {"type": "message", "subtype": "bot_message", "bot_id": "B0X", "text": number}
    slack.event(message_event(bot_post, ts="1700000000.000001"), event_id="Ev0BOT")
    review = {"type": "message", "user": SECRETARY, "text": number, "ts": "1700000000.000002"}
    slack.event({**review, "channel": REVIEW, "channel_type": "group"}, event_id="Ev0REVIEW")
    private = {"type": "message", "user": AUTHOR, "text": number, "ts": "1700000000.000003"}
    slack.event({**private, "channel": "G0PRIVATE", "channel_type": "group"}, event_id="Ev0PRIV")
    clean = {"type": "message", "user": AUTHOR, "text": "よろしくお願いします", "ts": "1.4"}
    slack.event(message_event(clean), event_id="Ev0CLEAN")
    marker = posted(slack, emulator, AUTHOR, f"携帯 {MOBILE}")  # processed after the others
    wait_for(lambda: warnings(emulator))
    wait_for(lambda: len(detections(session_factory)) == 1)
    assert [d.message_ts for d in detections(session_factory)] == [marker["ts"]]
    assert len(emulator.ephemeral_messages()) == 1
    with session_factory() as session:
        # A clean post costs no database write: not even an event-id claim.
        processed = set(session.scalars(select(ProcessedEvent.event_id)))
    assert not processed & {"Ev0BOT", "Ev0REVIEW", "Ev0PRIV", "Ev0CLEAN"}


def test_an_edit_that_adds_a_my_number_is_caught(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    original = posted(slack, emulator, AUTHOR, "連絡先は後ほど")
    edited = {**original, "text": f"連絡先は後ほど。マイナンバー {GROUPED}"}
    edited.pop("channel"), edited.pop("channel_type")
    change = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": {**edited, "edited": {"user": AUTHOR, "ts": "1.9"}},
        "previous_message": {
            k: v for k, v in original.items() if k not in ("channel", "channel_type")
        },
        "ts": "1800000000.000009",
    }
    slack.event(message_event(change))
    wait_for(lambda: warnings(emulator))
    (detection,) = detections(session_factory)
    assert detection.message_ts == original["ts"] and detection.details is not None
    assert detection.details["edited"] is True
    assert wait_for(lambda: alerts(emulator))
    # A decoration of the message (a link preview) is not an edit: nothing more happens.
    slack.event(message_event({**change, "previous_message": change["message"]}))
    assert len(warnings(emulator)) == 1


def test_an_author_deleting_a_message_with_an_open_case_is_noted(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    event = posted(slack, emulator, AUTHOR, f"マイナンバー {MY_NUMBER}")
    wait_for(lambda: alerts(emulator))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": event["ts"],
        "previous_message": {"type": "message", "user": AUTHOR, "ts": event["ts"]},
        "ts": "1800000000.000010",
    }
    slack.event(message_event(deleted))
    wait_for(lambda: "投稿者がメッセージを削除しました" in rendered(alerts(emulator)[0]))


# ---- the pipeline's rules, without Slack ---------------------------------------------------


def test_what_the_detectors_look_at() -> None:
    from bot.services.moderation.detection import Change, has_durable_effects, inspect

    def seen(event: dict[str, Any]) -> Any:
        return inspect(event, review_channel=REVIEW)

    post = {"type": "message", "user": AUTHOR, "ts": "1.1", "text": f"マイナンバー {MY_NUMBER}"}
    found = seen(message_event(post))
    assert found is not None and found.change is Change.POSTED and found.serious
    assert found.kinds == ["my_number"] and MY_NUMBER not in repr(found)
    assert has_durable_effects(message_event(post), review_channel=REVIEW)
    clean = message_event({**post, "text": "よろしくお願いします"})
    assert seen(clean) is None and not has_durable_effects(clean, review_channel=REVIEW)
    assert seen({**message_event(post), "channel": REVIEW}) is None
    assert seen({**message_event(post), "channel_type": "group"}) is None
    assert seen(message_event({**post, "bot_id": "B0X"})) is None
    decoration = message_event(
        {"type": "message", "subtype": "message_changed", "message": post, "previous_message": post}
    )
    assert seen(decoration) is None  # a link preview, not an edit
    deleted = message_event(
        {"type": "message", "subtype": "message_deleted", "deleted_ts": "1.1", "ts": "1.2"}
    )
    gone = seen(deleted)
    assert gone is not None and gone.change is Change.DELETED and gone.user == "member"


def test_which_alerts_a_detection_posts_or_updates() -> None:
    from bot.services.moderation.cases import Opened
    from bot.services.moderation.detection import Recorded
    from models import CaseStatus

    new = Opened("c1", new_case=True, new_report=True, status=CaseStatus.OPEN)
    added_to = Opened("c1", new_case=False, new_report=True, status=CaseStatus.OPEN)
    known = Opened("c1", new_case=False, new_report=False, status=CaseStatus.OPEN)
    assert Recorded(True, new, None).alerts_to_post() == ["c1"]
    assert Recorded(True, new, "c1").alerts_to_refresh() == []  # the post shows it all
    assert Recorded(True, added_to, None).alerts_to_refresh() == ["c1"]
    assert Recorded(False, added_to, "c1").alerts_to_refresh() == ["c1"]  # once
    assert Recorded(False, known, "c1").alerts_to_refresh() == ["c1"]
    assert Recorded(False, None, "c2").alerts_to_refresh() == ["c2"]
    assert Recorded(False, None, None).alerts_to_post() == []


# ---- privacy: no detected value in clear, anywhere Kyoso writes ---------------------------------


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _leaks(value: str) -> list[str]:
    """Which personal values appear in `value`, as typed or with separators removed."""
    found = [d for d in PERSONAL_DIGITS if d in value or d in _digits(value)]
    if GROUPED in value or MOBILE in value:
        found.append("grouped")
    return found


def test_no_detected_personal_value_is_ever_written_in_clear(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    post = f"山田さんのマイナンバーは {GROUPED}、携帯は {MOBILE} です"
    event = message_event(post_as(emulator, AUTHOR, post))  # the member's own post, in Slack
    # From here on everything is Kyoso's doing, logged at DEBUG (slack_sdk's request logs too).
    caplog.set_level(logging.DEBUG)
    slack.event(event)
    wait_for(lambda: alerts(emulator) and warnings(emulator))
    # A member reports the same message with the values in the note, too.
    message = {k: v for k, v in event.items() if k not in ("channel", "channel_type")}
    report(
        slack,
        emulator,
        message,
        REPORTER,
        "personal_information",
        note=f"{MY_NUMBER} と {MOBILE} が載っています",
    )
    wait_for(lambda: emulator.dm_messages(REPORTER))
    wait_for(lambda: "*報告*: 1 件" in rendered(alerts(emulator)[0]))
    public_id = cases(session_factory)[0].public_id
    act(slack, emulator, ids.MODERATION_WARN, public_id, SECRETARY, "個人情報を消してください")
    wait_for(lambda: emulator.dm_messages(AUTHOR))
    slack.command("/kyoso", "cases", user_id=SECRETARY, channel_id=REVIEW)
    slack.command("/kyoso", f"cases {AUTHOR}", user_id=SECRETARY, channel_id=REVIEW)
    wait_for(lambda: len(emulator.all_responses()) >= 2)

    channels = (REVIEW, emulator.im_channel_id(AUTHOR), emulator.im_channel_id(REPORTER))
    written = everything_written(
        logs=caplog.text, emulator=emulator, session_factory=session_factory, channels=channels
    )
    assert [(where, _leaks(text)) for where, text in written if _leaks(text)] == []
    assert any(call.token == "xoxb-test" for call in emulator.calls)
    assert len(cases(session_factory)) == 1


@given(
    before=st.text(alphabet="あいうえおかきくけこ漢字の件です、。 \n", max_size=80),
    after=st.text(alphabet="あいうえおかきくけこ漢字の件です、。 \n", max_size=80),
    grouped=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_an_excerpt_never_holds_a_my_number(before: str, after: str, grouped: bool) -> None:
    number = GROUPED if grouped else MY_NUMBER
    excerpt = privacy.safe_excerpt(f"{before}マイナンバー {number} {after}")
    assert MY_NUMBER not in _digits(excerpt) and number not in excerpt
    assert len(excerpt) <= privacy.EXCERPT_LIMIT


@given(st.text(max_size=400), st.lists(st.text(max_size=60), max_size=3))
@settings(max_examples=300, deadline=None)
def test_excerpts_and_notes_never_raise(message: str, names: list[str]) -> None:
    excerpt = privacy.safe_excerpt(message, names)
    assert isinstance(excerpt, str)
    assert isinstance(privacy.safe_note(message), (str, type(None)))


# ---- every view renders within Block Kit's limits, in both languages ------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_moderation_view_renders_within_limits(language: Any) -> None:
    from datetime import UTC, datetime

    from bot.domain.moderation import (
        ActionForm,
        CaseAction,
        CaseEvent,
        CaseItem,
        CaseLine,
        CasesPage,
        DetectorWarning,
        History,
        PastCase,
        Report,
    )
    from bot.timefmt import JST
    from bot.views.blocks import to_dicts
    from bot.views.moderation.actions import action_modal
    from bot.views.moderation.alerts import alert_blocks, alert_text
    from bot.views.moderation.lists import cases_blocks, reporters_blocks
    from bot.views.moderation.messages import author_dm_blocks, warning_blocks
    from bot.views.moderation.reports import ReportMetadata, notice_modal, report_modal
    from models import CaseStatus

    at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    history = History(
        total=30,
        by_status={"warned": 20, "dismissed": 10},
        recent=tuple(PastCase(f"c{n}", at, CaseStatus.WARNED, ("spam",)) for n in range(3)),
    )
    events = tuple(
        CaseEvent(action, "U0SEC", at, "理由 <script>" * 200, details)
        for action, details in [
            ("claimed", {}),
            ("edit_requested", {"deadline": at.isoformat(), "rule": "slander"}),
            ("message_edited", {"still_flagged": True}),
            ("message_deleted", {}),
            ("edit_overdue", {}),
            ("effect", {"effect": "dm", "outcome": "failed", "error": "user_not_found"}),
            ("effect", {"effect": "delete", "outcome": "manual"}),
            ("effect", {"effect": "delete", "outcome": "gone"}),
            ("effect", {"effect": "remove", "outcome": "done", "method": "SCIM"}),
            ("warned", {}),
        ]
        * 3
    )
    for status in CaseStatus:
        item = CaseItem(
            public_id="abcd1234",
            channel_id=PUBLIC,
            author_id=AUTHOR,
            posted_at=at,
            created_at=at,
            source="report",
            status=status,
            excerpt="長い抜粋 & <!channel> " * 200,
            reasons=(("slander", 3), ("my_number", 1), ("unknown", 1)),
            report_count=3,
            notes=("補足" * 600,) * 5,
            permalink="https://kyoso.slack.com/archives/C0PUBLIC/p1",
            claimed_by="U0SEC",
            edit_deadline=at,
            history=history,
            events=events,
        )
        blocks = alert_blocks(item, language)
        assert len(blocks) <= 50
        for block in blocks:
            block.to_dict()  # slack_sdk checks each block's limits
        assert "<!channel>" not in json.dumps(to_dicts(blocks))  # escaped
        assert alert_text(item, language)
    for action in CaseAction:
        form = ActionForm("abcd1234", action, AUTHOR, "personal_information", at, 2)
        for powers in (True, False):
            action_modal(form, language=language, powers=powers, zone=JST).to_dict()
    metadata = ReportMetadata(channel_id=PUBLIC, message_ts="1.2", author_id=AUTHOR)
    report_modal(language, metadata=metadata).to_dict()
    notice_modal(language, "moderation.report.own_message").to_dict()
    for kinds in (["my_number", "phone_number"], ["link_only"], ["confidentiality_3"]):
        warning = DetectorWarning(
            kinds=tuple(kinds),
            rules=("personal_information", "ad_or_link_only", "confidentiality"),
            case_opened=True,
            in_file_name=False,
        )
        for block in warning_blocks(language, warning):
            block.to_dict()
    for action in (CaseAction.WARN, CaseAction.REQUEST_EDIT):
        for block in author_dm_blocks(
            action,
            language,
            channel_id=PUBLIC,
            permalink=None,
            rule="reposting",
            comment="コメント" * 900,
            deadline=at,
        ):
            block.to_dict()
    lines = tuple(
        CaseLine(f"c{n}", PUBLIC, AUTHOR, at, CaseStatus.OPEN, ("spam",), 2, 5, None)
        for n in range(25)
    )
    for author in (None, "U" + "X" * 300):
        page = CasesPage(lines, author, total=25, page=1, pages=3)
        blocks = cases_blocks(page, language)
        assert len(blocks) <= 50 and all(b.to_dict() for b in blocks)
    reports = [Report(f"U{n}", "other", "メモ" * 400, at) for n in range(60)]
    for block in reporters_blocks("abcd1234", reports, language):
        block.to_dict()
