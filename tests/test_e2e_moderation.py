"""Moderation end to end: a member reports a message, the secretariat decides the case once
from its alert, and each decision is observed in the Slack emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.moderation import CaseAction, ReportReason
from bot.services import members
from bot.services.moderation import decisions, reports
from bot.services.moderation.cases import ReportedMessage
from bot.views.moderation.reports import ReportMetadata
from models import (
    AuditEntry,
    CaseReport,
    CaseStatus,
    Member,
    MemberStatus,
    ModerationCase,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import (
    SIGNING_SECRET,
    RunningKyoso,
    make_settings,
    serve_kyoso,
    wait_for,
)
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, OTHER_SECRETARY = "U0SEC", "U0SEC2"
AUTHOR, REPORTER, REPORTER2, REPORTER_EN = "U0AUTH", "U0REP1", "U0REP2", "U0REPEN"
PUBLIC = "C0PUBLIC"
REVIEW = "C0REVIEW"
SLANDER = "〇〇市の担当者は無能で話にならない。携帯 090-1234-5678 に文句を言ってやれ"


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_people(emulator, session_factory, clock)


def setup_people(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    people = {
        SECRETARY: "ja-JP",
        OTHER_SECRETARY: "ja-JP",
        AUTHOR: "ja-JP",
        REPORTER: "ja-JP",
        REPORTER2: "ja-JP",
        REPORTER_EN: "en-US",
    }
    for user_id, locale in people.items():
        emulator.add_user(user_id, name=user_id.lower(), locale=locale)
        emulator.add_token(f"xoxp-{user_id.lower()}", scopes=["chat:write"], user_id=user_id)
    emulator.add_channel(
        "デジ_all_雑談", channel_id=PUBLIC, members=[emulator.bot_user_id, *people]
    )
    with session_factory.begin() as session:
        for user_id in people:
            members.ensure_member(session, clock=clock, slack_user_id=user_id)
        for user_id in (SECRETARY, OTHER_SECRETARY):
            members.grant_role(
                session, clock=clock, slack_user_id=user_id, role=Role.SECRETARIAT, actor="cli"
            )


def post_as(emulator: SlackEmulator, user_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """The member posts in Slack (stored by the emulator, as Slack would keep it)."""
    client = WebClient(token=f"xoxp-{user_id.lower()}", base_url=emulator.api_url)
    posted = client.chat_postMessage(channel=PUBLIC, text=text, **extra)
    return {"type": "message", "user": user_id, "text": text, "ts": posted["ts"]}


def rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def is_reply(message: dict[str, Any]) -> bool:
    return message.get("thread_ts") not in (None, message["ts"])


def alerts(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [m for m in emulator.messages(REVIEW) if not is_reply(m)]


def the_alert(emulator: SlackEmulator) -> dict[str, Any]:
    found = wait_for(lambda: alerts(emulator))
    assert len(found) == 1
    return found[0]


def the_case(session_factory: SessionFactory) -> ModerationCase:
    with session_factory() as session:
        return session.scalars(select(ModerationCase)).one()


def report(
    slack: SlackSender,
    emulator: SlackEmulator,
    message: dict[str, Any],
    reporter: str,
    reason: str = "slander",
    note: str | None = None,
) -> Any:
    before = len(emulator.opened_views())
    response = slack.message_shortcut(
        ids.MODERATION_REPORT_SHORTCUT, message=message, channel_id=PUBLIC, user_id=reporter
    )
    assert response.status == 200
    view = wait_for(lambda: emulator.opened_views()[before:])[0]
    assert view["callback_id"] == ids.MODERATION_REPORT_MODAL
    values: dict[str, Any] = {
        ids.MODERATION_REPORT_REASON_BLOCK: {
            ids.MODERATION_INPUT: {
                "type": "radio_buttons",
                "selected_option": {"value": reason} if reason else None,
            }
        },
        ids.MODERATION_REPORT_NOTE_BLOCK: {
            ids.MODERATION_INPUT: {"type": "plain_text_input", "value": note}
        },
    }
    return slack.view_submission(
        ids.MODERATION_REPORT_MODAL, values=values, user_id=reporter, view_id=view["id"]
    )


def click(
    slack: SlackSender, emulator: SlackEmulator, action_id: str, public_id: str, user: str
) -> Any:
    return slack.block_action(
        action_id,
        public_id,
        user_id=user,
        channel_id=REVIEW,
        message=the_alert(emulator),
        block_id=ids.MODERATION_CASE_BLOCK,
    )


def act(
    slack: SlackSender,
    emulator: SlackEmulator,
    action_id: str,
    public_id: str,
    user: str,
    reason: str,
    rule: str | None = None,
) -> tuple[dict[str, Any], Any]:
    """Click a decision button, then submit its reason modal. Returns (modal, response)."""
    before = len(emulator.opened_views())
    click(slack, emulator, action_id, public_id, user)
    view = wait_for(lambda: emulator.opened_views()[before:])[0]
    assert view["callback_id"] == ids.MODERATION_ACTION_MODAL
    values: dict[str, Any] = {
        ids.MODERATION_REASON_BLOCK: {
            ids.MODERATION_INPUT: {"type": "plain_text_input", "value": reason}
        }
    }
    if rule is not None:
        values[ids.MODERATION_RULE_BLOCK] = {
            ids.MODERATION_INPUT: {"type": "static_select", "selected_option": {"value": rule}}
        }
    response = slack.view_submission(
        ids.MODERATION_ACTION_MODAL, values=values, user_id=user, view_id=view["id"]
    )
    return view, response


def audit_actions(session_factory: SessionFactory, public_id: str) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_id == public_id)
                .order_by(AuditEntry.id)
            )
        )


def reported_case(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> tuple[dict[str, Any], str]:
    message = post_as(emulator, AUTHOR, SLANDER)
    assert report(slack, emulator, message, REPORTER, "slander").status == 200
    the_alert(emulator)
    return message, the_case(session_factory).public_id


# ---- reporting ----------------------------------------------------------------------------


def test_a_report_opens_a_case_with_a_masked_alert_and_thanks_the_reporter(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    response = report(slack, emulator, message, REPORTER, "slander", note="以前から何度もです")
    assert response.status == 200 and response.body_text in ("", "{}")

    alert = the_alert(emulator)
    text = rendered(alert)
    assert "モデレーション案件" in text and f"<#{PUBLIC}>" in text and f"<@{AUTHOR}>" in text
    assert f"archives/{PUBLIC}/p{message['ts'].replace('.', '')}" in text  # permalink
    assert "誹謗中傷・ハラスメント" in text and "メンバーからの報告" in text
    assert "以前から何度もです" in text  # the note, without the reporter's name
    assert "無能で話にならない" in text  # the excerpt...
    assert "1234-5678" not in text and "090-1234" not in text  # ...with the phone masked
    assert REPORTER not in text and REPORTER not in alert.get("text", "")
    for action_id in (
        ids.MODERATION_CLAIM,
        ids.MODERATION_DISMISS,
        ids.MODERATION_REQUEST_EDIT,
        ids.MODERATION_WARN,
        ids.MODERATION_DELETE,
        ids.MODERATION_REMOVE,
    ):
        assert action_id in text

    thanks = wait_for(lambda: emulator.dm_messages(REPORTER))
    assert "ご報告ありがとうございます" in thanks[0]["text"]
    assert "投稿者に伝わることはありません" in thanks[0]["text"]
    assert emulator.dm_messages(AUTHOR) == []  # the author is told nothing

    case = the_case(session_factory)
    assert case.status is CaseStatus.OPEN and case.reasons == ["slander"]
    assert case.author_id == AUTHOR and "090" not in case.excerpt
    assert audit_actions(session_factory, case.public_id) == ["moderation.reported"]


def test_the_reporter_is_thanked_in_their_own_language(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    report(slack, emulator, message, REPORTER_EN, "spam")
    modal = emulator.opened_views()[-1]
    assert modal["title"]["text"] == "Report a message"
    thanks = wait_for(lambda: emulator.dm_messages(REPORTER_EN))[0]["text"]
    assert thanks.startswith("Thank you for your report (reason: Spam or advertising)")
    assert "スパム・宣伝" in rendered(the_alert(emulator))  # the secretariat reads Japanese


def test_reports_of_the_same_message_merge_into_one_case(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    report(slack, emulator, message, REPORTER, "slander")
    the_alert(emulator)
    report(
        slack, emulator, message, REPORTER2, "personal_information", note="電話番号が載っています"
    )
    wait_for(lambda: "*報告*: 2 件" in rendered(the_alert(emulator)))
    again = report(slack, emulator, message, REPORTER, "spam")  # the same member, again
    assert again.status == 200
    wait_for(lambda: len(emulator.dm_messages(REPORTER)) == 2)
    assert "すでにご報告いただいています" in emulator.dm_messages(REPORTER)[1]["text"]

    assert len(alerts(emulator)) == 1  # one case, one alert, updated in place
    text = rendered(the_alert(emulator))
    assert "誹謗中傷・ハラスメント" in text and "個人情報" in text and "*報告*: 2 件" in text
    assert REPORTER not in text and REPORTER2 not in text
    with session_factory() as session:
        assert session.scalars(select(ModerationCase)).one().reasons == [
            "slander",
            "personal_information",
        ]
        reporters = session.scalars(select(CaseReport.reporter_id).order_by(CaseReport.id))
        assert list(reporters) == [REPORTER, REPORTER2]


def test_concurrent_reports_of_one_message_make_one_case_and_one_alert(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    barrier = threading.Barrier(3)

    def report_once(reporter: str) -> None:
        values = {
            ids.MODERATION_REPORT_REASON_BLOCK: {
                ids.MODERATION_INPUT: {"selected_option": {"value": "slander"}}
            }
        }
        metadata = ReportMetadata(
            channel_id=PUBLIC, message_ts=message["ts"], author_id=AUTHOR, excerpt="…"
        ).dump()
        barrier.wait()
        slack.view_submission(
            ids.MODERATION_REPORT_MODAL,
            values=values,
            user_id=reporter,
            private_metadata=metadata,
        )

    threads = [
        threading.Thread(target=report_once, args=(r,)) for r in (REPORTER, REPORTER2, REPORTER_EN)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: "*報告*: 3 件" in rendered(the_alert(emulator)))
    assert len(alerts(emulator)) == 1
    with session_factory() as session:
        assert len(session.scalars(select(ModerationCase)).all()) == 1


def test_own_and_bot_messages_cannot_be_reported(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    slack.message_shortcut(
        ids.MODERATION_REPORT_SHORTCUT, message=message, channel_id=PUBLIC, user_id=AUTHOR
    )
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.MODERATION_NOTICE_MODAL
    assert "ご自身の投稿は報告できません" in json.dumps(view["blocks"], ensure_ascii=False)
    bot_message = {"type": "message", "subtype": "bot_message", "bot_id": "B0X", "ts": "1.2"}
    slack.message_shortcut(
        ids.MODERATION_REPORT_SHORTCUT, message=bot_message, channel_id=PUBLIC, user_id=REPORTER
    )
    view = wait_for(lambda: len(emulator.opened_views()) == 2 and emulator.opened_views())[-1]
    assert "ボットやアプリの投稿は報告できません" in json.dumps(view["blocks"], ensure_ascii=False)
    with session_factory() as session:
        assert session.scalars(select(ModerationCase)).all() == []


def test_a_report_without_a_reason_is_answered_inline(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    message = post_as(emulator, AUTHOR, SLANDER)
    response = report(slack, emulator, message, REPORTER, reason="")
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.MODERATION_REPORT_REASON_BLOCK: "報告の理由を選んでください。"},
    }
    assert alerts(emulator) == []


# ---- authorisation and deciding once ---------------------------------------------------------


def test_a_member_pressing_case_buttons_is_refused_and_nothing_changes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, public_id = reported_case(slack, emulator, session_factory)
    views_before = len(emulator.opened_views())
    emulator.reset_calls()
    for action_id in (ids.MODERATION_CLAIM, ids.MODERATION_DELETE, ids.MODERATION_SHOW_REPORTERS):
        assert click(slack, emulator, action_id, public_id, REPORTER2).status == 200
    refusals = wait_for(lambda: len(emulator.all_responses()) >= 3 and emulator.all_responses())
    for _, body in refusals:
        assert "事務局メンバーのみ" in body["text"] and body["response_type"] == "ephemeral"
        assert REPORTER not in json.dumps(body)
    # Even a forged modal submission is refused on arrival, under the modal's first field.
    reason_field = {
        "type": "input",
        "block_id": ids.MODERATION_REASON_BLOCK,
        "label": {"type": "plain_text", "text": "理由"},
        "element": {"type": "plain_text_input", "action_id": ids.MODERATION_INPUT},
    }
    forged = slack.view_submission(
        ids.MODERATION_ACTION_MODAL,
        values={ids.MODERATION_REASON_BLOCK: {ids.MODERATION_INPUT: {"value": "x"}}},
        user_id=REPORTER2,
        private_metadata=json.dumps({"case": public_id, "action": "delete"}),
        blocks=[reason_field],
    )
    assert forged.json()["response_action"] == "errors"
    assert "事務局メンバーのみ" in forged.json()["errors"][ids.MODERATION_REASON_BLOCK]
    assert len(emulator.opened_views()) == views_before
    assert the_case(session_factory).status is CaseStatus.OPEN
    assert audit_actions(session_factory, public_id) == ["moderation.reported"]
    assert emulator.calls_to("chat.update") == [] and emulator.calls_to("chat.delete") == []


def test_claim_is_not_a_decision_and_a_double_click_decides_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, public_id = reported_case(slack, emulator, session_factory)
    click(slack, emulator, ids.MODERATION_CLAIM, public_id, SECRETARY)
    wait_for(lambda: "が担当しました" in rendered(the_alert(emulator)))
    click(slack, emulator, ids.MODERATION_CLAIM, public_id, SECRETARY)  # again: no change
    assert the_case(session_factory).status is CaseStatus.CLAIMED

    # Two secretaries open the dismiss modal; both submit at once (and one twice).
    views = []
    for user in (SECRETARY, OTHER_SECRETARY):
        before = len(emulator.opened_views())
        click(slack, emulator, ids.MODERATION_DISMISS, public_id, user)
        views.append((user, wait_for(lambda b=before: emulator.opened_views()[b:])[0]))
    barrier = threading.Barrier(3)
    answers: list[Any] = []

    def submit(user: str, view_id: str) -> None:
        values = {ids.MODERATION_REASON_BLOCK: {ids.MODERATION_INPUT: {"value": "問題なし"}}}
        barrier.wait()
        answers.append(
            slack.view_submission(
                ids.MODERATION_ACTION_MODAL, values=values, user_id=user, view_id=view_id
            )
        )

    clickers = [
        threading.Thread(target=submit, args=(user, view["id"]))
        for user, view in (*views, views[0])
    ]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join()
    refused = [a.json() for a in answers if a.body_text not in ("", "{}")]
    assert len(refused) == 2
    assert all(
        "すでに処理されています（対応不要）" in r["errors"][ids.MODERATION_REASON_BLOCK]
        for r in refused
    )
    assert audit_actions(session_factory, public_id).count("moderation.dismissed") == 1
    case = the_case(session_factory)
    assert case.status is CaseStatus.DISMISSED and case.decision_reason == "問題なし"
    text = wait_for(
        lambda: (
            "対応不要として閉じました" in rendered(the_alert(emulator))
            and rendered(the_alert(emulator))
        )
    )
    assert ids.MODERATION_DISMISS not in text and ids.MODERATION_DELETE not in text

    # A later click on a stale alert changes nothing either.
    emulator.reset_calls()
    slack.block_action(
        ids.MODERATION_WARN,
        public_id,
        user_id=SECRETARY,
        channel_id=REVIEW,
        message=the_alert(emulator),
    )
    told = wait_for(lambda: emulator.all_responses())[-1][1]
    assert "すでに処理されています" in told["text"]
    assert emulator.calls_to("views.open") == []


def test_a_reason_is_required(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, public_id = reported_case(slack, emulator, session_factory)
    _, response = act(slack, emulator, ids.MODERATION_WARN, public_id, SECRETARY, "  ")
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.MODERATION_REASON_BLOCK: "理由を入力してください。"},
    }
    assert the_case(session_factory).status is CaseStatus.OPEN


# ---- each action, observed in Slack ------------------------------------------------------------


def test_warn_sends_the_author_a_polite_dm_citing_the_rule_and_never_the_reporter(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message, public_id = reported_case(slack, emulator, session_factory)
    view, response = act(
        slack,
        emulator,
        ids.MODERATION_WARN,
        public_id,
        SECRETARY,
        "他の自治体職員を貶める表現はお控えください",
        rule="slander",
    )
    assert response.status == 200 and response.body_text in ("", "{}")
    assert "注意の DM を送ります" in json.dumps(view["blocks"], ensure_ascii=False)
    dm = wait_for(lambda: emulator.dm_messages(AUTHOR))[0]
    text = rendered(dm)
    assert "共創プラットフォーム事務局です" in text and "2. 禁止事項" in text
    assert "他の自治体職員を貶める表現はお控えください" in text
    assert f"archives/{PUBLIC}/p{message['ts'].replace('.', '')}" in text
    assert REPORTER not in json.dumps(dm) and "報告" not in text
    wait_for(lambda: "投稿者に DM を送りました" in rendered(the_alert(emulator)))
    alert = rendered(the_alert(emulator))
    assert "が投稿者に注意しました" in alert and f"<@{SECRETARY}>" in alert
    assert the_case(session_factory).status is CaseStatus.WARNED
    assert audit_actions(session_factory, public_id)[-2:] == [
        "moderation.warned",
        "moderation.effect",
    ]


def test_delete_without_an_admin_token_explains_the_manual_steps(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    message, public_id = reported_case(slack, emulator, session_factory)
    view, _ = act(slack, emulator, ids.MODERATION_DELETE, public_id, SECRETARY, "誹謗中傷のため")
    explained = json.dumps(view["blocks"], ensure_ascii=False)
    assert "SLACK_ADMIN_USER_TOKEN" in explained and "メッセージを削除する" in explained
    wait_for(lambda: "要対応" in rendered(the_alert(emulator)))
    alert = rendered(the_alert(emulator))
    assert "Kyoso には削除の権限がありません" in alert
    assert f"archives/{PUBLIC}/p{message['ts'].replace('.', '')}" in alert
    assert emulator.calls_to("chat.delete") == [] and emulator.deleted_messages() == []
    assert the_case(session_factory).status is CaseStatus.DELETED  # decided; done by hand


@pytest.fixture
def admin_kyoso(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[RunningKyoso]:
    """A workspace Admin's user token on a paid plan: chat.delete and SCIM work."""
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin", "chat:write"], user_id="U0ADMIN", paid=True)
    settings = make_settings(
        emulator.api_url,
        database_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def test_delete_with_the_admin_token_deletes_through_chat_delete(
    admin_kyoso: RunningKyoso, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    slack = SlackSender(admin_kyoso.events_url, SIGNING_SECRET, emulator)
    message, public_id = reported_case(slack, emulator, session_factory)
    view, _ = act(slack, emulator, ids.MODERATION_DELETE, public_id, SECRETARY, "個人情報のため")
    assert "chat.delete" in json.dumps(view["blocks"], ensure_ascii=False)
    deleted = wait_for(lambda: emulator.deleted_messages())
    assert [(d["channel"], d["ts"], d["by"]) for d in deleted] == [
        (PUBLIC, message["ts"], "U0ADMIN")
    ]
    (call,) = emulator.calls_to("chat.delete")
    assert call.token == "xoxp-admin" and call.ok
    wait_for(lambda: "メッセージを削除しました（chat.delete" in rendered(the_alert(emulator)))
    assert the_case(session_factory).status is CaseStatus.DELETED


def test_remove_with_a_paid_admin_token_deactivates_through_scim(
    admin_kyoso: RunningKyoso, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    slack = SlackSender(admin_kyoso.events_url, SIGNING_SECRET, emulator)
    _, public_id = reported_case(slack, emulator, session_factory)
    act(slack, emulator, ids.MODERATION_REMOVE, public_id, SECRETARY, "再三の注意に従わないため")
    wait_for(lambda: ("DELETE", f"Users/{AUTHOR}") in emulator.scim_calls)
    assert (emulator.user(AUTHOR) or {})["deleted"] is True
    wait_for(lambda: "アカウントを無効化しました（SCIM" in rendered(the_alert(emulator)))
    assert the_case(session_factory).status is CaseStatus.REMOVED
    with session_factory() as session:
        member = session.scalars(select(Member).where(Member.slack_user_id == AUTHOR)).one()
        assert member.status is MemberStatus.DEACTIVATED


def test_remove_with_an_enterprise_token_uses_admin_users_remove(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> None:
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token(
        "xoxp-admin", scopes=["admin.users:write"], user_id="U0ADMIN", enterprise=True
    )
    settings = make_settings(
        emulator.api_url,
        database_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        slack = SlackSender(running.events_url, SIGNING_SECRET, emulator)
        _, public_id = reported_case(slack, emulator, session_factory)
        act(slack, emulator, ids.MODERATION_REMOVE, public_id, SECRETARY, "なりすましのため")
        wait_for(lambda: emulator.removed_users() == [AUTHOR])
        wait_for(lambda: "無効化しました（admin.users.remove" in rendered(the_alert(emulator)))


def test_remove_without_powers_leaves_a_clear_to_do(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, public_id = reported_case(slack, emulator, session_factory)
    view, _ = act(slack, emulator, ids.MODERATION_REMOVE, public_id, SECRETARY, "なりすまし")
    assert "SLACK_ADMIN_USER_TOKEN" in json.dumps(view["blocks"], ensure_ascii=False)
    wait_for(lambda: "要対応" in rendered(the_alert(emulator)))
    alert = rendered(the_alert(emulator))
    assert "メンバーを管理する" in alert and f"<@{AUTHOR}>" in alert
    assert emulator.scim_calls == [] and emulator.removed_users() == []
    assert (emulator.user(AUTHOR) or {})["deleted"] is False


def test_an_edit_request_has_a_deadline_and_a_follow_up_when_it_passes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    message, public_id = reported_case(slack, emulator, session_factory)
    act(
        slack,
        emulator,
        ids.MODERATION_REQUEST_EDIT,
        public_id,
        SECRETARY,
        "電話番号を消してください",
        rule="personal_information",
    )
    dm = rendered(wait_for(lambda: emulator.dm_messages(AUTHOR))[0])
    # Tuesday 10:00 JST + 2 business days = Thursday 26 November, 10:00 JST.
    assert "2026/11/26 10:00" in dm and "5. 個人情報" in dm and "電話番号を消してください" in dm
    case = the_case(session_factory)
    assert case.status is CaseStatus.EDIT_REQUESTED
    assert case.edit_deadline == clock.now() + timedelta(days=2)
    wait_for(lambda: "編集の期限" in rendered(the_alert(emulator)))
    alert = rendered(the_alert(emulator))
    assert ids.MODERATION_REQUEST_EDIT not in alert and ids.MODERATION_WARN in alert

    # The author edits the message (Slack sends message_changed).
    edited = {**message, "text": "〇〇市の担当者の対応に疑問があります。"}
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": PUBLIC,
            "channel_type": "channel",
            "hidden": True,
            "ts": "1800000000.000001",
            "message": edited,
            "previous_message": message,
        }
    )
    wait_for(lambda: "moderation.message_edited" in audit_actions(session_factory, public_id))

    job = find_job("moderation-edit-follow-ups")
    ctx = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=kyoso.kyoso.deps.client,
        settings=kyoso.kyoso.deps.settings,
    )
    assert job.run(ctx) == {"followed_up": 0, "failed": 0}  # not yet
    clock.advance(timedelta(days=2, minutes=1))
    assert job.run(ctx) == {"followed_up": 1, "failed": 0}
    assert job.run(ctx) == {"followed_up": 0, "failed": 0}  # once
    replies = [m for m in emulator.messages(REVIEW) if is_reply(m)]
    assert len(replies) == 1 and replies[0]["thread_ts"] == the_alert(emulator)["ts"]
    assert "編集の期限を過ぎました" in replies[0]["text"] and "編集しています" in replies[0]["text"]

    # Not final: the secretariat can still decide.
    act(slack, emulator, ids.MODERATION_DISMISS, public_id, SECRETARY, "修正済み")
    wait_for(lambda: the_case(session_factory).status is CaseStatus.DISMISSED)


def test_reporters_are_shown_to_the_secretariat_only_and_the_view_is_audited(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, public_id = reported_case(slack, emulator, session_factory)
    emulator.reset_calls()
    click(slack, emulator, ids.MODERATION_SHOW_REPORTERS, public_id, SECRETARY)
    shown = wait_for(lambda: emulator.all_responses())[-1][1]
    assert shown["response_type"] == "ephemeral"
    assert f"<@{REPORTER}>" in json.dumps(shown, ensure_ascii=False)
    assert "moderation.reporters_viewed" in audit_actions(session_factory, public_id)


def test_the_alert_shows_the_authors_earlier_cases(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    with session_factory.begin() as session:
        earlier = reports.report(
            session,
            clock=clock,
            message=ReportedMessage(PUBLIC, "1700000000.000100", AUTHOR, "以前の投稿"),
            reporter_id=REPORTER2,
            reason=ReportReason.SPAM,
            note=None,
        )
        decisions.decide(
            session,
            clock=clock,
            public_id=earlier.public_id,
            actor=SECRETARY,
            action=CaseAction.WARN,
            reason="宣伝のみ",
        )
    clock.advance(timedelta(hours=1))
    message = post_as(emulator, AUTHOR, SLANDER)
    report(slack, emulator, message, REPORTER, "slander")
    text = rendered(wait_for(lambda: alerts(emulator))[0])
    assert "この投稿者の過去の案件: 1 件" in text and "注意済み 1" in text
    assert f"#{earlier.public_id}" in text


# ---- /kyoso cases ------------------------------------------------------------------------------


def _seed_cases(session_factory: SessionFactory, clock: FixedClock, count: int) -> None:
    with session_factory.begin() as session:
        for n in range(count):
            clock.advance(timedelta(minutes=1))
            reports.report(
                session,
                clock=clock,
                message=ReportedMessage(PUBLIC, f"1700000000.{n:06d}", AUTHOR, f"投稿 {n}"),
                reporter_id=REPORTER,
                reason=ReportReason.SPAM,
                note=None,
            )


def test_kyoso_cases_pages_open_cases_for_the_secretariat(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _seed_cases(session_factory, clock, 12)
    slack.command("/kyoso", "cases", user_id=SECRETARY, channel_id=REVIEW)
    first = wait_for(lambda: emulator.all_responses())[-1][1]
    blocks = first["blocks"]
    assert len(blocks) <= 50
    text = json.dumps(blocks, ensure_ascii=False)
    assert "未対応のモデレーション案件（12 件）" in text and "1 / 2 ページ" in text
    assert "/kyoso cases 2" in text and text.count("スパム・宣伝") == 10
    assert "この投稿者の他の案件: 11 件" in text  # repeat behaviour shows

    slack.command("/kyoso", "ｃａｓｅｓ　２", user_id=SECRETARY, channel_id=REVIEW)  # full-width
    second = wait_for(lambda: len(emulator.all_responses()) == 2 and emulator.all_responses())
    text = json.dumps(second[-1][1]["blocks"], ensure_ascii=False)
    assert "2 / 2 ページ" in text and text.count("スパム・宣伝") == 2

    slack.command("/kyoso", f"cases <@{AUTHOR}|u0auth>", user_id=SECRETARY, channel_id=REVIEW)
    history = wait_for(lambda: len(emulator.all_responses()) == 3 and emulator.all_responses())
    assert f"{AUTHOR} さんの案件履歴（12 件）" in json.dumps(history[-1][1], ensure_ascii=False)


def test_kyoso_cases_politely_refuses_other_members(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _seed_cases(session_factory, clock, 1)
    slack.command("/kyoso", "cases", user_id=REPORTER, channel_id=PUBLIC)
    answer = wait_for(lambda: emulator.all_responses())[-1][1]
    assert "事務局メンバーのみ" in answer["text"] and "投稿 0" not in json.dumps(answer)
