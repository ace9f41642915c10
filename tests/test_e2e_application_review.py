"""The secretariat reviews applications in Slack: authorised, decided once, explained."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.eligibility.directory import OrganisationDirectory
from bot.i18n import t
from bot.services import members
from bot.services.applications import records, submission
from bot.services.applications.submission import ApplicationForm
from bot.views.applications import reason_modal
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    OutboundEmail,
    Role,
)
from tests.support.kyoso_server import (
    SIGNING_SECRET,
    RunningKyoso,
    make_settings,
    serve_kyoso,
    wait_for,
)
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, OTHER_SECRETARY, MEMBER = "U0SEC", "U0SEC2", "U0MEM"
EMAIL = "taro.yamada@city.sapporo.lg.jp"


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    for user_id in (SECRETARY, OTHER_SECRETARY, MEMBER):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        for user_id in (SECRETARY, OTHER_SECRETARY, MEMBER):
            members.ensure_member(session, clock=clock, slack_user_id=user_id)
        for user_id in (SECRETARY, OTHER_SECRETARY):
            members.grant_role(
                session, clock=clock, slack_user_id=user_id, role=Role.SECRETARIAT, actor="cli"
            )


def _apply(
    session_factory: SessionFactory,
    clock: FixedClock,
    email: str,
    name: str,
    organisation_code: str | None = "011002",
) -> str:
    with session_factory.begin() as session:
        submitted = submission.submit(
            session,
            clock=clock,
            directory=OrganisationDirectory.from_master_data(),
            form=ApplicationForm(
                email=email,
                name=name,
                organisation_code=organisation_code,
                agency_slug=None,
                department="デジタル推進課",
                language="ja",
                rules_version="1",
            ),
            source=ApplicationSource.WEB,
        )
        return submitted.application.public_id


@pytest.fixture
def application(kyoso: RunningKyoso, session_factory: SessionFactory, clock: FixedClock) -> str:
    public_id = _apply(session_factory, clock, EMAIL, "山田 太郎")
    kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    return public_id


def _review_message(emulator: SlackEmulator) -> dict[str, Any]:
    messages = emulator.messages("C0REVIEW")
    assert len(messages) == 1
    return messages[0]


def _rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def _status(session_factory: SessionFactory, public_id: str) -> ApplicationStatus:
    with session_factory() as session:
        return records.get(session, public_id).status


def _decisions(session_factory: SessionFactory, public_id: str) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.target_id == public_id, AuditEntry.action != "application.submitted"
                )
                .order_by(AuditEntry.id)
            )
        )


def _click(slack: SlackSender, emulator: SlackEmulator, action_id: str, public_id: str, user: str):
    message = _review_message(emulator)
    return slack.block_action(
        action_id,
        public_id,
        user_id=user,
        channel_id="C0REVIEW",
        message=message,
        block_id=ids.APPLICATION_REVIEW_BLOCK,
    )


def test_review_message_shows_the_application_and_verdict(
    application: str, emulator: SlackEmulator
) -> None:
    rendered = _rendered(_review_message(emulator))
    assert "参加申請" in rendered and "山田 太郎" in rendered
    assert "北海道 札幌市（011002）" in rendered
    assert "自治体職員として参加資格あり" in rendered
    for action_id in (
        ids.APPLICATION_APPROVE,
        ids.APPLICATION_REJECT,
        ids.APPLICATION_REQUEST_INFO,
    ):
        assert action_id in rendered


def test_a_member_pressing_approve_is_refused_and_nothing_changes(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    assert _click(slack, emulator, ids.APPLICATION_APPROVE, application, MEMBER).status == 200
    refusal = wait_for(lambda: emulator.all_responses())[0][1]
    assert "事務局メンバーのみ" in refusal["text"] and refusal["response_type"] == "ephemeral"
    assert _status(session_factory, application) is ApplicationStatus.PENDING
    assert _decisions(session_factory, application) == []
    assert emulator.calls_to("chat.update") == []


def test_two_secretaries_approving_at_once_decide_once(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    barrier = threading.Barrier(3)

    def click(user: str) -> None:
        barrier.wait()
        _click(slack, emulator, ids.APPLICATION_APPROVE, application, user)

    clickers = [
        threading.Thread(target=click, args=(u,)) for u in (SECRETARY, SECRETARY, OTHER_SECRETARY)
    ]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join()
    wait_for(lambda: len(emulator.all_responses()) == 2 and emulator.calls_to("chat.update"))
    assert _decisions(session_factory, application) == ["application.approved"]
    assert _status(session_factory, application) is ApplicationStatus.APPROVED
    told = [body["text"] for _, body in emulator.all_responses()]
    assert all("すでに処理されています（承認済み）" in text for text in told)
    updated = _rendered(_review_message(emulator))
    assert "が承認しました" in updated and ids.APPLICATION_APPROVE not in updated
    assert "招待待ち" in updated and ids.APPLICATION_MARK_INVITED in updated  # no admin token


def test_approved_then_marked_invited(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _click(slack, emulator, ids.APPLICATION_APPROVE, application, SECRETARY)
    wait_for(lambda: _status(session_factory, application) is ApplicationStatus.APPROVED)
    wait_for(lambda: ids.APPLICATION_MARK_INVITED in _rendered(_review_message(emulator)))
    _click(slack, emulator, ids.APPLICATION_MARK_INVITED, application, SECRETARY)
    wait_for(lambda: "招待済みにしました" in _rendered(_review_message(emulator)))
    assert _status(session_factory, application) is ApplicationStatus.INVITED


def _reject_via_modal(
    slack: SlackSender, emulator: SlackEmulator, public_id: str, user: str, reason: str
):
    _click(slack, emulator, ids.APPLICATION_REJECT, public_id, user)
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.APPLICATION_REJECT_MODAL
    values = {
        ids.APPLICATION_REASON_BLOCK: {
            ids.APPLICATION_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        }
    }
    return slack.view_submission(
        ids.APPLICATION_REJECT_MODAL, values=values, user_id=user, view_id=view["id"]
    )


def test_reject_asks_for_a_reason_inline_then_decides(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    empty = _reject_via_modal(slack, emulator, application, SECRETARY, "   ")
    assert empty.status == 200
    assert empty.json() == {
        "response_action": "errors",
        "errors": {ids.APPLICATION_REASON_BLOCK: "理由を入力してください。"},
    }
    assert _status(session_factory, application) is ApplicationStatus.PENDING
    done = _reject_via_modal(slack, emulator, application, SECRETARY, "所属を確認できませんでした")
    assert done.status == 200 and done.body_text in ("", "{}")
    assert _status(session_factory, application) is ApplicationStatus.REJECTED
    wait_for(lambda: "が却下しました" in _rendered(_review_message(emulator)))
    assert "所属を確認できませんでした" in _rendered(_review_message(emulator))
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "application.rejected")
        ).one()
    assert (entry.actor, entry.reason) == (SECRETARY, "所属を確認できませんでした")
    with session_factory() as session:
        email = session.scalars(select(OutboundEmail)).one()  # the reason goes to the applicant
    assert email.key == f"application:{application}:rejected"
    assert "所属を確認できませんでした" in email.body and email.to_address == EMAIL


def test_a_member_pressing_reject_gets_no_modal(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    assert _click(slack, emulator, ids.APPLICATION_REJECT, application, MEMBER).status == 200
    refusal = wait_for(lambda: emulator.all_responses())[0][1]
    assert refusal["text"] == t("access.only.secretariat", "ja")
    assert emulator.opened_views() == []
    assert _status(session_factory, application) is ApplicationStatus.PENDING


def test_a_member_cannot_submit_the_reject_modal(
    application: str, slack: SlackSender, session_factory: SessionFactory
) -> None:
    modal = reason_modal(
        callback_id=ids.APPLICATION_REJECT_MODAL,
        public_id=application,
        language="ja",
        kind="reject",
    ).to_dict()
    values = {ids.APPLICATION_REASON_BLOCK: {ids.APPLICATION_REASON_INPUT: {"value": "x"}}}
    response = slack.view_submission(
        ids.APPLICATION_REJECT_MODAL,
        values=values,
        user_id=MEMBER,
        private_metadata=modal["private_metadata"],
        blocks=modal["blocks"],
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.APPLICATION_REASON_BLOCK: t("access.only.secretariat", "ja")},
    }
    assert _status(session_factory, application) is ApplicationStatus.PENDING
    assert _decisions(session_factory, application) == []


def test_request_info_keeps_the_application_open(
    application: str, slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _click(slack, emulator, ids.APPLICATION_REQUEST_INFO, application, SECRETARY)
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.APPLICATION_INFO_MODAL
    values = {
        ids.APPLICATION_REASON_BLOCK: {
            ids.APPLICATION_REASON_INPUT: {"value": "所属課を教えてください"}
        }
    }
    slack.view_submission(
        ids.APPLICATION_INFO_MODAL, values=values, user_id=SECRETARY, view_id=view["id"]
    )
    assert _status(session_factory, application) is ApplicationStatus.INFO_REQUESTED
    wait_for(lambda: "所属の確認を依頼しました" in _rendered(_review_message(emulator)))
    assert ids.APPLICATION_APPROVE in _rendered(_review_message(emulator))  # still decidable


@pytest.fixture
def enterprise_kyoso(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[RunningKyoso]:
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token(
        "xoxp-admin", scopes=["admin.users:write"], user_id="U0ADMIN", enterprise=True
    )
    emulator.add_channel("デジ_all_お知らせ", channel_id="C0ANNOUNCE")
    settings = make_settings(
        emulator.api_url,
        database_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        KYOSO_INVITE_CHANNELS="C0ANNOUNCE",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def test_with_an_enterprise_admin_token_approval_invites(
    enterprise_kyoso: RunningKyoso,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    public_id = _apply(session_factory, clock, "hanako@city.sapporo.lg.jp", "佐藤 花子")
    enterprise_kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    slack = SlackSender(enterprise_kyoso.events_url, SIGNING_SECRET, emulator)
    _click(slack, emulator, ids.APPLICATION_APPROVE, public_id, SECRETARY)
    wait_for(lambda: _status(session_factory, public_id) is ApplicationStatus.INVITED)
    invite = emulator.calls_to("admin.users.invite")[0]
    assert invite.params["email"] == "hanako@city.sapporo.lg.jp"
    assert invite.params["channel_ids"] == "C0ANNOUNCE"
    assert _decisions(session_factory, public_id) == ["application.approved", "application.invited"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_an_unusual_domain_goes_to_the_secretariat_who_can_approve(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    # A union's staff on a commercial provider: never refused silently, a person decides.
    public_id = _apply(
        session_factory, clock, "jimu@kumiai-example.or.jp", "田中 一郎", organisation_code=None
    )
    kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    rendered = _rendered(_review_message(emulator))
    assert "事務局による確認が必要" in rendered
    _click(slack, emulator, ids.APPLICATION_APPROVE, public_id, SECRETARY)
    wait_for(lambda: _status(session_factory, public_id) is ApplicationStatus.APPROVED)
    with session_factory() as session:
        outcome = records.get(session, public_id).outcome
    assert outcome == "manual_review"
