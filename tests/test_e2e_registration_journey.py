"""The whole journey, the way the people involved see it: apply on the page → the secretariat
approves in Slack → the applicant is emailed → joins → is welcomed → agrees to the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from models import Application, ApplicationStatus, Member, OutboundEmail, Role
from tests.support.kyoso_server import (
    SIGNING_SECRET,
    RunningKyoso,
    make_settings,
    serve_kyoso,
    wait_for,
)
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.support.smtp_server import SmtpServer, smtp_server
from tests.support.web_client import WebClient

SECRETARY, NEWCOMER = "U0SEC", "U0HANAKO"
EMAIL = "hanako.yamada@city.sapporo.lg.jp"


@pytest.fixture
def mailbox() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    emulator.add_user(SECRETARY, name="jimukyoku", locale="ja-JP")
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id=SECRETARY)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    settings = make_settings(
        emulator.api_url,
        database_url,
        SMTP_HOST=mailbox.host,
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="false",
        KYOSO_MAIL_FROM="kyoso@example.lg.jp",
        KYOSO_MAIL_REPLY_TO="jimukyoku@example.lg.jp",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _apply(kyoso: RunningKyoso) -> str:
    client = WebClient(kyoso.base_url)
    form = client.get("/apply")
    done = client.post(
        "/apply",
        {
            "action": "submit",
            "lang": "ja",
            "name": "山田 花子",
            "email": "ｈａｎａｋｏ．ｙａｍａｄａ＠city.sapporo.lg.jp",
            "org_kind": "lg",
            "prefecture": "北海道",
            "lg_code": "011002",
            "code": "",
            "agency": "",
            "department": "デジタル戦略推進課",
            "rules": "yes",
            "website": "",
            "csrf_token": form.field("csrf_token") or "",
            "rules_version": form.field("rules_version") or "",
        },
    )
    assert done.status == 303, done.plain
    return done.headers["Location"].split("?")[0].rsplit("/", 1)[-1]


def _bodies(mailbox: SmtpServer, count: int) -> list[str]:
    messages = mailbox.wait_for(count, timeout=10)
    return [m.message["Subject"] + "\n" + m.message.get_content() for m in messages]


def _blocks(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def test_from_application_to_a_welcomed_member(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    slack = SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
    public_id = _apply(kyoso)

    # The applicant is told the application arrived; the secretariat sees it in Slack.
    received = _bodies(mailbox, 1)[0]
    assert public_id in received and "受け付けました" in received
    review = wait_for(lambda: emulator.messages("C0REVIEW"))[0]
    assert "山田 花子" in _blocks(review) and "参加資格あり" in _blocks(review)

    # The secretariat approves; the applicant is emailed in Japanese with English below.
    slack.block_action(
        ids.APPLICATION_APPROVE,
        public_id,
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message=review,
        block_id=ids.APPLICATION_REVIEW_BLOCK,
    )
    approved = _bodies(mailbox, 2)[1]
    assert "承認" in approved and "approved" in approved.lower()
    assert approved.index("承認") < approved.lower().index("approved")
    assert mailbox.messages[1].rcpt_tos == (EMAIL,)

    # Invited by hand (bot token only), the applicant joins and is welcomed.
    with session_factory.begin() as session:
        assert session.scalars(select(Application)).one().status is ApplicationStatus.APPROVED
    emulator.add_user(NEWCOMER, name="hanako", email=EMAIL, locale="ja-JP")
    joined = {
        "type": "team_join",
        "user": {"id": NEWCOMER, "name": "hanako", "profile": {"email": EMAIL}},
    }
    assert slack.event(joined).status == 200
    welcome = wait_for(lambda: emulator.dm_messages(NEWCOMER))[0]
    assert ids.ONBOARDING_ACCEPT_RULES in _blocks(welcome) and "機密性3" in _blocks(welcome)
    wait_for(lambda: "参加しました" in _blocks(emulator.messages("C0REVIEW")[0]))

    # They agree to the rules; Kyoso records which version and when.
    accept = next(
        element
        for block in welcome["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.ONBOARDING_ACCEPT_RULES
    )
    slack.block_action(
        ids.ONBOARDING_ACCEPT_RULES,
        accept["value"],
        user_id=NEWCOMER,
        channel_id=emulator.im_channel_id(NEWCOMER),
        message=welcome,
    )

    def accepted() -> Member | None:
        with session_factory() as session:
            member = members.find(session, NEWCOMER)
            return member if member is not None and member.rules_accepted_at else None

    member = wait_for(accepted)
    assert member.rules_version == accept["value"]
    with session_factory() as session:
        application = session.scalars(select(Application)).one()
        assert application.status is ApplicationStatus.JOINED
        assert member.organisation_id == application.organisation_id
        sent = session.scalars(select(OutboundEmail.key).order_by(OutboundEmail.id)).all()
    assert sent == [f"application:{public_id}:received", f"application:{public_id}:approved"]
