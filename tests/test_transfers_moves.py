"""A member's move end to end: `/kyoso move` opens the form, the organisation select answers
block_suggestion, the submission mails a link and a code (the real SMTP server), the link's
page confirms on POST only, the code modal confirms in Slack, SCIM (or instructions and a
to-do) takes care of the Slack address, and the secretariat decides moves that need a person."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.transfers_moves import MoveSummary, OrganisationChoice
from bot.i18n import Language
from bot.services import members
from bot.services.transfers.figures import member_transfers
from bot.services.transfers.move_emails import MoveLetter, confirm_link, move_email
from bot.services.transfers.moves import apply_due_moves
from bot.views.blocks import to_dicts
from bot.views.transfers import moves as views
from bot.views.transfers.figures import member_transfer_blocks
from models import (
    AffiliationMove,
    AuditEntry,
    Member,
    MoveStatus,
    Organisation,
    OutboundEmail,
    Role,
    SlackEmailState,
)
from scheduler.jobs import JobContext, find_job
from tests.conftest import DEFAULT_NOW
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
from tests.support.web_client import WebClient as Browser

SECRETARY, MEMBER = "U0SEC", "U0TARO"
OLD_EMAIL = "taro.sato@city.sapporo.lg.jp"
NEW_EMAIL = "taro.sato@pref.hokkaido.lg.jp"
PUBLIC_URL = "http://kyoso.example.jp"
SAPPORO, HOKKAIDO = "011002", "010006"


@pytest.fixture
def mailbox() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def _organisation_id(session_factory: SessionFactory, code: str) -> int:
    with session_factory() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
    assert found is not None
    return found


@pytest.fixture
def prepared(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    emulator.add_user(SECRETARY, name="jimukyoku", locale="ja-JP")
    emulator.add_user(MEMBER, name="taro", email=OLD_EMAIL, locale="ja-JP")
    sapporo = _organisation_id(session_factory, SAPPORO)
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id=SECRETARY)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
        member = members.ensure_member(session, clock=clock, slack_user_id=MEMBER)
        member.email = member.email_normalized = OLD_EMAIL
        member.real_name = "佐藤 太郎"
        member.organisation_id = sapporo
        member.department = "情報政策課"
        members.grant_role(
            session, clock=clock, slack_user_id=MEMBER, role=Role.FACILITATOR, actor="cli"
        )


def _serve(
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    **extra: str,
) -> Any:
    settings = make_settings(
        emulator.api_url,
        database_url,
        SMTP_HOST=mailbox.host,
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="false",
        KYOSO_MAIL_FROM="kyoso@example.lg.jp",
        KYOSO_PUBLIC_URL=PUBLIC_URL,
        **extra,
    )
    return serve_kyoso(settings, session_factory=session_factory, clock=clock)


@pytest.fixture
def kyoso(
    prepared: None,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    with _serve(emulator, mailbox, database_url, session_factory, clock) as running:
        yield running


@pytest.fixture
def scim_kyoso(
    prepared: None,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    """A workspace Admin's user token on a paid plan: SCIM changes the Slack address."""
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin"], user_id="U0ADMIN", paid=True)
    with _serve(
        emulator,
        mailbox,
        database_url,
        session_factory,
        clock,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    ) as running:
        yield running


# ---- helpers ------------------------------------------------------------------------------


def _open_form(slack: SlackSender, emulator: SlackEmulator) -> dict[str, Any]:
    before = len(emulator.opened_views())
    assert (
        slack.command(ids.SLASH_COMMAND, "move", user_id=MEMBER, channel_id="D0TARO").status == 200
    )
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    assert view["callback_id"] == ids.TRANSFER_MOVE_MODAL
    return dict(view)


def _suggest(
    slack: SlackSender, emulator: SlackEmulator, view: dict[str, Any], typed: str
) -> list[dict[str, Any]]:
    suggestion = {
        "type": "block_suggestion",
        "user": {"id": MEMBER},
        "team": {"id": emulator.team_id},
        "api_app_id": emulator.app_id,
        "token": "legacy-verification-token",
        "action_id": ids.TRANSFER_MOVE_ORGANISATION,
        "block_id": ids.TRANSFER_MOVE_ORGANISATION_BLOCK,
        "value": typed,
        "view": view,
    }
    options: list[dict[str, Any]] = slack._send_payload(suggestion).json()["options"]
    return options


def _values(
    organisation: str, email: str, department: str = "", effective: str | None = None
) -> dict[str, Any]:
    return {
        ids.TRANSFER_MOVE_ORGANISATION_BLOCK: {
            ids.TRANSFER_MOVE_ORGANISATION: {
                "type": "external_select",
                "selected_option": {"value": organisation},
            }
        },
        ids.TRANSFER_MOVE_EMAIL_BLOCK: {
            ids.TRANSFER_MOVE_INPUT: {"type": "plain_text_input", "value": email}
        },
        ids.TRANSFER_MOVE_DEPARTMENT_BLOCK: {
            ids.TRANSFER_MOVE_INPUT: {"type": "plain_text_input", "value": department}
        },
        ids.TRANSFER_MOVE_EFFECTIVE_BLOCK: {
            ids.TRANSFER_MOVE_EFFECTIVE: {"type": "datepicker", "selected_date": effective}
        },
    }


def _submit(
    slack: SlackSender,
    view: dict[str, Any],
    organisation: str,
    email: str,
    department: str = "",
    effective: str | None = None,
) -> Any:
    return slack.view_submission(
        ids.TRANSFER_MOVE_MODAL,
        values=_values(organisation, email, department, effective),
        user_id=MEMBER,
        view_id=view["id"],
    )


def _start(
    slack: SlackSender, emulator: SlackEmulator, email: str = NEW_EMAIL, code: str = HOKKAIDO
) -> None:
    view = _open_form(slack, emulator)
    answer = _submit(slack, view, f"lg:{code}", email, "デジタル推進課")
    assert answer.status == 200 and answer.body_text in ("", "{}"), answer.body_text


def _mail(mailbox: SmtpServer, count: int = 1) -> tuple[str, str]:
    """(the link's path, the code) of the latest confirmation mail."""
    message = mailbox.wait_for(count, timeout=10)[count - 1]
    assert message.rcpt_tos == (NEW_EMAIL,)
    body = message.message.get_content()
    link = re.search(re.escape(PUBLIC_URL) + r"(/move/confirm/[A-Za-z0-9_-]+)", body)
    code = re.search(r"確認コード: (\d{6})", body)
    assert link is not None and code is not None, body
    assert body.index("確認コード") < body.index("Code:")  # Japanese first, English twin
    return link.group(1), code.group(1)


def _member(session_factory: SessionFactory) -> Member:
    with session_factory() as session:
        member = members.find(session, MEMBER)
        assert member is not None
        return member


def _moves(session_factory: SessionFactory) -> list[AffiliationMove]:
    with session_factory() as session:
        return list(session.scalars(select(AffiliationMove).order_by(AffiliationMove.id)))


def _dm_text(emulator: SlackEmulator, user: str) -> str:
    return json.dumps(emulator.dm_messages(user), ensure_ascii=False)


def _code_button(emulator: SlackEmulator) -> dict[str, Any]:
    for message in emulator.dm_messages(MEMBER):
        for block in message.get("blocks", []):
            for element in block.get("elements") or []:
                if element.get("action_id") == ids.TRANSFER_MOVE_CODE_OPEN:
                    return dict(element)
    raise AssertionError("no code button in the member's DMs")


def _enter_code(slack: SlackSender, emulator: SlackEmulator, code: str, user: str = MEMBER) -> Any:
    button = _code_button(emulator)
    before = len(emulator.opened_views())
    slack.block_action(
        ids.TRANSFER_MOVE_CODE_OPEN,
        button["value"],
        user_id=user,
        channel_id="D0TARO",
        message={"type": "message", "ts": "1.0"},
    )
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    assert view["callback_id"] == ids.TRANSFER_MOVE_CODE_MODAL
    return slack.view_submission(
        ids.TRANSFER_MOVE_CODE_MODAL,
        values={
            ids.TRANSFER_MOVE_CODE_BLOCK: {
                ids.TRANSFER_MOVE_INPUT: {"type": "plain_text_input", "value": code}
            }
        },
        user_id=user,
        view_id=view["id"],
    )


def _jobs(kyoso: RunningKyoso) -> JobContext:
    deps = kyoso.kyoso.deps
    return JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )


# ---- the bar: 札幌市 → 北海道 by the mailed link -------------------------------------------


def test_move_confirmed_by_the_mailed_link_changes_organisation_and_slack_email_by_scim(
    scim_kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    slack = SlackSender(scim_kyoso.events_url, SIGNING_SECRET, emulator)
    member_id = _member(session_factory).id
    view = _open_form(slack, emulator)
    # The organisation select: by code, by prefecture → municipality, by name.
    assert [o["value"] for o in _suggest(slack, emulator, view, HOKKAIDO)] == [f"lg:{HOKKAIDO}"]
    in_hokkaido = _suggest(slack, emulator, view, "北海道")
    assert f"lg:{HOKKAIDO}" in [o["value"] for o in in_hokkaido] and len(in_hokkaido) == 100
    narrowed = [o["value"] for o in _suggest(slack, emulator, view, "北海道 札幌")]
    assert narrowed == [f"lg:{SAPPORO}"]
    assert "agency:digital" in [o["value"] for o in _suggest(slack, emulator, view, "デジタル")]

    assert _submit(slack, view, f"lg:{HOKKAIDO}", NEW_EMAIL, "デジタル推進課").status == 200
    path, _ = _mail(mailbox)
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    assert _member(session_factory).organisation_id != _organisation_id(session_factory, HOKKAIDO)

    browser = Browser(scim_kyoso.base_url)
    page = browser.get(path)  # what a mail scanner fetches: shows, changes nothing
    assert page.status == 200 and "北海道" in page.plain and "確認する" in page.plain
    assert [m.status for m in _moves(session_factory)] == [MoveStatus.AWAITING]
    forged = Browser(scim_kyoso.base_url).post(path, {"csrf_token": "x", "lang": "ja"})
    assert forged.status == 400
    assert [m.status for m in _moves(session_factory)] == [MoveStatus.AWAITING]

    done = browser.post(path, {"csrf_token": page.field("csrf_token") or "", "lang": "ja"})
    assert done.status == 200 and "所属を変更しました" in done.plain
    member = _member(session_factory)
    assert member.id == member_id and member.slack_user_id == MEMBER
    assert member.organisation_id == _organisation_id(session_factory, HOKKAIDO)
    assert (member.email, member.email_normalized) == (NEW_EMAIL, NEW_EMAIL)
    assert member.department == "デジタル推進課"
    assert member.has_role(Role.FACILITATOR)  # roles stay theirs

    # SCIM changed the Slack profile's address itself.
    wait_for(lambda: ("PATCH", f"Users/{MEMBER}") in emulator.scim_calls)
    user = emulator.user(MEMBER)
    assert user is not None and user["profile"]["email"] == NEW_EMAIL
    (move,) = _moves(session_factory)
    wait_for(lambda: _moves(session_factory)[0].slack_email_state is SlackEmailState.SCIM_CHANGED)
    assert move.status is MoveStatus.CONFIRMED and move.slack_email_due_at is not None
    wait_for(lambda: "事務局の権限で新しいアドレスに変更しました" in _dm_text(emulator, MEMBER))

    # The link again: a polite page, nothing changes.
    again = browser.get(path)
    assert again.status == 409 and "すでに使われています" in again.plain
    assert browser.post(path, {"csrf_token": page.field("csrf_token") or ""}).status == 409
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == move.public_id)
        ).all()
        details = json.dumps(
            [e.details for e in session.scalars(select(AuditEntry)) if e.details],
            ensure_ascii=False,
        )
    assert (
        "transfers.move_applied" in audited and "transfers.move_slack_email_scim_changed" in audited
    )
    assert NEW_EMAIL not in details and OLD_EMAIL not in details  # ids, not addresses


def test_without_scim_the_member_is_instructed_and_the_secretariat_gets_one_todo(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _start(slack, emulator)
    path, _ = _mail(mailbox)
    browser = Browser(kyoso.base_url)
    page = browser.get(path)
    assert browser.post(path, {"csrf_token": page.field("csrf_token") or ""}).status == 200
    wait_for(lambda: "メールアドレスを変更" in _dm_text(emulator, MEMBER))
    (move,) = _moves(session_factory)
    assert move.slack_email_state is SlackEmailState.INSTRUCTED
    assert move.slack_email_due_at == clock.now() + timedelta(days=14)
    assert emulator.scim_calls == []

    job = find_job("transfers-slack-email")
    assert job.run(_jobs(kyoso)) == {"seen": 0, "todo": 0, "failed": 0}  # not due yet
    clock.advance(timedelta(days=15))
    assert job.run(_jobs(kyoso)) == {"seen": 0, "todo": 1, "failed": 0}
    assert job.run(_jobs(kyoso)) == {"seen": 0, "todo": 0, "failed": 0}
    todos = [
        m
        for m in emulator.messages("C0REVIEW")
        if any(
            b.get("block_id", "").startswith(ids.TRANSFER_MOVE_TODO_BLOCK)
            for b in m.get("blocks", [])
        )
    ]
    assert len(todos) == 1 and f"<@{MEMBER}>" in json.dumps(todos[0], ensure_ascii=False)
    assert _moves(session_factory)[0].slack_email_state is SlackEmailState.TODO


def test_the_job_marks_the_address_seen_when_slack_shows_it(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _start(slack, emulator)
    _, code = _mail(mailbox)
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    assert _enter_code(slack, emulator, code).json()["response_action"] == "update"
    emulator.update_user(MEMBER, profile={"email": NEW_EMAIL})
    clock.advance(timedelta(days=15))
    assert find_job("transfers-slack-email").run(_jobs(kyoso)) == {
        "seen": 1,
        "todo": 0,
        "failed": 0,
    }
    assert _moves(session_factory)[0].slack_email_state is SlackEmailState.SEEN
    assert emulator.messages("C0REVIEW") == []


# ---- refusals and repeats -----------------------------------------------------------------


def test_a_private_address_is_refused_explained_and_nothing_changes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    view = _open_form(slack, emulator)
    answer = _submit(slack, view, f"lg:{HOKKAIDO}", "taro.sato@gmail.com").json()
    assert answer["response_action"] == "errors"
    error = answer["errors"][ids.TRANSFER_MOVE_EMAIL_BLOCK]
    assert "所属を変更できません" in error and "gmail.com" in error and "事務局" in error
    missing = _submit(slack, view, f"lg:{HOKKAIDO}", "").json()
    assert missing["errors"][ids.TRANSFER_MOVE_EMAIL_BLOCK]
    member = _member(session_factory)
    assert (member.email, member.organisation_id) == (
        OLD_EMAIL,
        _organisation_id(session_factory, SAPPORO),
    )
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    assert _moves(session_factory) == []
    assert emulator.dm_messages(MEMBER) == []


def test_confirmation_by_code_in_slack_and_a_double_submit_sends_one_mail(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    view = _open_form(slack, emulator)
    for _ in range(2):  # a double click: the same submission twice
        assert _submit(slack, view, f"lg:{HOKKAIDO}", NEW_EMAIL, "デジタル推進課").status == 200
    _, code = _mail(mailbox)
    assert len(_moves(session_factory)) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 1
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    assert len(emulator.dm_messages(MEMBER)) == 1

    # Another member cannot use the button on someone else's move.
    emulator.add_user("U0OTHER", name="other")
    with session_factory.begin() as session:
        members.ensure_member(session, clock=kyoso.kyoso.deps.clock, slack_user_id="U0OTHER")
    stranger = _enter_code(slack, emulator, code, user="U0OTHER").json()
    assert "あなたのものではありません" in stranger["errors"][ids.TRANSFER_MOVE_CODE_BLOCK]
    assert _moves(session_factory)[0].status is MoveStatus.AWAITING

    answer = _enter_code(slack, emulator, code).json()
    assert answer["response_action"] == "update"
    assert "所属を変更しました" in json.dumps(answer["view"], ensure_ascii=False)
    member = _member(session_factory)
    assert member.organisation_id == _organisation_id(session_factory, HOKKAIDO)
    wait_for(lambda: "メールアドレスを変更" in _dm_text(emulator, MEMBER))
    assert len(mailbox.messages) == 1


def test_five_wrong_codes_lock_the_move(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    _start(slack, emulator)
    path, code = _mail(mailbox)
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    wrong = "000000" if code != "000000" else "111111"
    assert (
        "6桁" in _enter_code(slack, emulator, "12ab").json()["errors"][ids.TRANSFER_MOVE_CODE_BLOCK]
    )
    for remaining in (4, 3, 2, 1):
        error = _enter_code(slack, emulator, wrong).json()["errors"][ids.TRANSFER_MOVE_CODE_BLOCK]
        assert f"あと {remaining} 回" in error
    locked = _enter_code(slack, emulator, wrong).json()["errors"][ids.TRANSFER_MOVE_CODE_BLOCK]
    assert "無効になりました" in locked
    # Even the right code now: still locked; the link too.
    assert (
        "無効になりました"
        in _enter_code(slack, emulator, code).json()["errors"][ids.TRANSFER_MOVE_CODE_BLOCK]
    )
    assert Browser(kyoso.base_url).get(path).status == 410
    (move,) = _moves(session_factory)
    assert move.status is MoveStatus.CANCELLED and move.code_attempts == 5
    assert _member(session_factory).email == OLD_EMAIL


def test_an_expired_or_unknown_link_gets_a_polite_page_and_nothing_changes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _start(slack, emulator)
    path, _ = _mail(mailbox)
    browser = Browser(kyoso.base_url)
    page = browser.get(path)
    clock.advance(timedelta(hours=73))
    expired = browser.post(path, {"csrf_token": page.field("csrf_token") or ""})
    assert expired.status == 410 and "有効期限" in expired.plain
    assert browser.get(path + "?lang=en").status == 410
    unknown = browser.get("/move/confirm/not-a-real-token")
    assert unknown.status == 404 and "見つかりませんでした" in unknown.plain
    assert _member(session_factory).email == OLD_EMAIL
    assert find_job("transfers-moves-expire").run(_jobs(kyoso)) == {"expired": 1}
    assert _moves(session_factory)[0].status is MoveStatus.EXPIRED


# ---- the secretariat decides a move that needs a person -----------------------------------


def test_a_review_move_is_applied_by_the_secretariat_and_refused_to_a_member(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    # 北海道 picked, an Asahikawa address: the code and the domain disagree → a person decides.
    other = "taro.sato@city.asahikawa.lg.jp"
    view = _open_form(slack, emulator)
    assert _submit(slack, view, f"lg:{HOKKAIDO}", other).status == 200
    message = mailbox.wait_for(1, timeout=10)[0]
    code = re.search(r"確認コード: (\d{6})", message.message.get_content())
    assert code is not None
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    answer = _enter_code(slack, emulator, code.group(1)).json()
    assert "事務局が確認" in json.dumps(answer["view"], ensure_ascii=False)
    review = wait_for(lambda: emulator.messages("C0REVIEW"))[0]
    assert ids.TRANSFER_MOVE_APPROVE in json.dumps(review["blocks"])
    public_id = _moves(session_factory)[0].public_id
    assert _member(session_factory).email == OLD_EMAIL  # nothing changed until decided

    # A member pressing approve is refused; nothing changes.
    slack.block_action(
        ids.TRANSFER_MOVE_APPROVE,
        public_id,
        user_id=MEMBER,
        channel_id="C0REVIEW",
        message=review,
        block_id=ids.TRANSFER_MOVE_REVIEW_BLOCK,
    )
    wait_for(lambda: any("事務局" in str(b) for _, b in emulator.all_responses()))
    assert _moves(session_factory)[0].status is MoveStatus.REVIEW
    assert _member(session_factory).email == OLD_EMAIL

    for _ in range(2):  # a double click: applied once
        slack.block_action(
            ids.TRANSFER_MOVE_APPROVE,
            public_id,
            user_id=SECRETARY,
            channel_id="C0REVIEW",
            message=review,
            block_id=ids.TRANSFER_MOVE_REVIEW_BLOCK,
        )
    wait_for(lambda: _moves(session_factory)[0].status is MoveStatus.CONFIRMED)
    member = _member(session_factory)
    assert member.email == other
    assert member.organisation_id == _organisation_id(session_factory, HOKKAIDO)
    wait_for(lambda: "変更済み" in json.dumps(emulator.messages("C0REVIEW")[0], ensure_ascii=False))
    wait_for(
        lambda: "すでに処理されています" in json.dumps(emulator.all_responses(), ensure_ascii=False)
    )
    with session_factory() as session:
        applied = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "transfers.move_applied")
        ).all()
    assert [(e.actor, e.target_id) for e in applied] == [(SECRETARY, public_id)]


def test_the_secretariat_refuses_a_review_move_and_the_member_is_told(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
) -> None:
    view = _open_form(slack, emulator)
    assert _submit(slack, view, f"lg:{HOKKAIDO}", "taro.sato@city.asahikawa.lg.jp").status == 200
    code = re.search(
        r"確認コード: (\d{6})", mailbox.wait_for(1, timeout=10)[0].message.get_content()
    )
    assert code is not None
    wait_for(lambda: "確認メールを送りました" in _dm_text(emulator, MEMBER))
    _enter_code(slack, emulator, code.group(1))
    review = wait_for(lambda: emulator.messages("C0REVIEW"))[0]
    public_id = _moves(session_factory)[0].public_id
    slack.block_action(
        ids.TRANSFER_MOVE_REFUSE,
        public_id,
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message=review,
        block_id=ids.TRANSFER_MOVE_REVIEW_BLOCK,
    )
    wait_for(lambda: "事務局の確認の結果" in _dm_text(emulator, MEMBER))
    assert _moves(session_factory)[0].status is MoveStatus.REFUSED
    assert _member(session_factory).email == OLD_EMAIL


def test_the_app_home_button_opens_the_same_form(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    slack.block_action(
        ids.TRANSFER_MOVE_HOME, "x", user_id=MEMBER, view={"id": "VHOME", "type": "home"}
    )
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.TRANSFER_MOVE_MODAL
    assert json.loads(view["private_metadata"])["source"] == "home"


# ---- pure pieces: every view in both languages, the mail without a public URL --------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_move_view_renders_in_both_languages(language: Language) -> None:
    summary = MoveSummary(
        public_id="abc123",
        slack_user_id=MEMBER,
        status=MoveStatus.REVIEW,
        old_organisation="北海道 札幌市（011002）",
        new_organisation="北海道（010006）",
        new_email=NEW_EMAIL,
        department="デジタル推進課",
        effective_on=date(2027, 4, 1),
        reasons=[{"code": "domain.other", "severity": "flag", "params": {"domain": "gmail.com"}}],
    )
    form = views.move_modal(source="survey", language=language, effective_on=date(2027, 4, 1))
    rendered = form.to_dict()
    assert json.loads(rendered["private_metadata"])["source"] == "survey"
    assert "2027-04-01" in json.dumps(rendered)
    blocks = [
        *views.review_blocks(summary, language),
        *views.applied_blocks(summary, slack_email="instructions", due="x", language=language),
        *views.applied_blocks(summary, slack_email="scim", due=None, language=language),
        *views.refused_blocks(summary, by_secretariat=False, language=language),
        *views.todo_blocks(summary, days=15, language=language),
        *views.sent_blocks(public_id="abc123", email=NEW_EMAIL, expires="x", language=language),
    ]
    text = json.dumps(to_dicts(blocks), ensure_ascii=False)
    assert "gmail.com" in text and ids.TRANSFER_MOVE_APPROVE in text
    views.code_modal(public_id="abc123", language=language).to_dict()
    assert views.organisation_options(
        [OrganisationChoice("lg:011002", "北海道 札幌市（011002）")]
    ) == [{"text": {"type": "plain_text", "text": "北海道 札幌市（011002）"}, "value": "lg:011002"}]


def test_without_a_public_url_the_mail_carries_only_the_code() -> None:
    letter = MoveLetter(
        name="佐藤 太郎",
        organisation="北海道（010006）",
        code="123456",
        link=confirm_link(None, "token", "ja"),
        expires_at=DEFAULT_NOW,
    )
    subject, body = move_email(letter, "ja")
    assert "123456" in body and "/move/confirm/" not in body and "所属変更の確認" in subject
    assert confirm_link("https://kyoso.example.jp/", "tok", "en") == (
        "https://kyoso.example.jp/move/confirm/tok?lang=en"
    )


# ---- a move with an effective date: scheduled, applied on its day --------------------------

MARCH_20 = datetime(2027, 3, 20, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
LAST_MINUTE_OF_MARCH_31 = datetime(2027, 3, 31, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
APRIL_1 = datetime(2027, 3, 31, 15, 0, tzinfo=UTC)  # 00:00 on April 1 in Tokyo
SCHEDULED_DM = "2027/04/01 に所属変更を反映します"


def _start_for_april(slack: SlackSender, emulator: SlackEmulator) -> None:
    view = _open_form(slack, emulator)
    answer = _submit(slack, view, f"lg:{HOKKAIDO}", NEW_EMAIL, "デジタル推進課", "2027-04-01")
    assert answer.status == 200 and answer.body_text in ("", "{}"), answer.body_text


def _apply_job(kyoso: RunningKyoso) -> dict[str, Any]:
    return dict(find_job("transfers-moves-apply").run(_jobs(kyoso)))


def _scheduled_dms(emulator: SlackEmulator) -> int:
    return sum(
        SCHEDULED_DM in json.dumps(m, ensure_ascii=False) for m in emulator.dm_messages(MEMBER)
    )


def test_a_move_for_april_first_confirmed_in_march_is_applied_on_april_first_once(
    scim_kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(MARCH_20)
    slack = SlackSender(scim_kyoso.events_url, SIGNING_SECRET, emulator)
    sapporo, hokkaido = (_organisation_id(session_factory, c) for c in (SAPPORO, HOKKAIDO))
    _start_for_april(slack, emulator)
    path, _ = _mail(mailbox)
    browser = Browser(scim_kyoso.base_url)
    page = browser.get(path)
    done = browser.post(path, {"csrf_token": page.field("csrf_token") or "", "lang": "ja"})
    assert done.status == 200 and SCHEDULED_DM in done.plain

    (move,) = _moves(session_factory)
    assert move.status is MoveStatus.SCHEDULED and move.confirmed_at is None
    member = _member(session_factory)
    assert (member.organisation_id, member.email) == (sapporo, OLD_EMAIL)  # nothing yet
    wait_for(lambda: _scheduled_dms(emulator) == 1)
    assert emulator.scim_calls == []
    with session_factory() as session:  # the member's Home line
        home = member_transfers(
            session, member_id=member.id, now=clock.now(), zone=ZoneInfo("Asia/Tokyo")
        )
    assert home.move_scheduled_on == date(2027, 4, 1) and not home.move_awaiting
    language: Language = "ja"
    home_text = json.dumps(to_dicts(member_transfer_blocks(home, language)), ensure_ascii=False)
    assert SCHEDULED_DM in home_text
    # The link again: used.
    assert browser.get(path).status == 409

    clock.set(LAST_MINUTE_OF_MARCH_31)
    assert _apply_job(scim_kyoso) == {"applied": 0, "review": 0, "told": 0, "failed": 0}
    assert _moves(session_factory)[0].status is MoveStatus.SCHEDULED
    assert _member(session_factory).organisation_id == sapporo

    clock.set(APRIL_1)
    assert _apply_job(scim_kyoso) == {"applied": 1, "review": 0, "told": 1, "failed": 0}
    assert _apply_job(scim_kyoso) == {"applied": 0, "review": 0, "told": 0, "failed": 0}
    member = _member(session_factory)
    assert (member.organisation_id, member.email) == (hokkaido, NEW_EMAIL)
    assert member.slack_user_id == MEMBER and member.department == "デジタル推進課"
    assert emulator.scim_calls.count(("PATCH", f"Users/{MEMBER}")) == 1
    user = emulator.user(MEMBER)
    assert user is not None and user["profile"]["email"] == NEW_EMAIL
    (move,) = _moves(session_factory)
    assert move.status is MoveStatus.CONFIRMED and move.confirmed_at == APRIL_1
    assert move.slack_email_state is SlackEmailState.SCIM_CHANGED
    applied = [
        m
        for m in emulator.dm_messages(MEMBER)
        if "所属を変更しました" in json.dumps(m, ensure_ascii=False)
    ]
    assert len(applied) == 1
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == move.public_id)
        ).all()
    assert audited.count("transfers.move_scheduled") == 1
    assert audited.count("transfers.move_applied") == 1


def test_a_crash_between_applying_and_telling_loses_no_dm_and_the_grace_starts_on_the_day(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(MARCH_20)
    slack = SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
    _start_for_april(slack, emulator)
    _, code = _mail(mailbox)
    answer = _enter_code(slack, emulator, code).json()
    assert answer["response_action"] == "update" and SCHEDULED_DM in json.dumps(
        answer, ensure_ascii=False
    )
    assert _moves(session_factory)[0].status is MoveStatus.SCHEDULED

    clock.set(APRIL_1 + timedelta(hours=2))
    with session_factory.begin() as session:  # a run that applied, then died before the DM
        applied, _ = apply_due_moves(session, clock=clock)
    assert len(applied) == 1
    assert "ご自身で変更してください" not in _dm_text(emulator, MEMBER)
    assert _apply_job(kyoso) == {"applied": 0, "review": 0, "told": 1, "failed": 0}
    assert _apply_job(kyoso) == {"applied": 0, "review": 0, "told": 0, "failed": 0}
    (move,) = _moves(session_factory)
    assert move.slack_email_state is SlackEmailState.INSTRUCTED
    assert move.slack_email_due_at == APRIL_1 + timedelta(hours=2, days=14)
    assert _dm_text(emulator, MEMBER).count("ご自身で変更してください") == 1


def test_a_scheduled_move_cancelled_before_its_day_never_applies(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(MARCH_20)
    slack = SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
    emulator.add_user("U0OTHER", name="other", locale="ja-JP")
    _start_for_april(slack, emulator)
    _, code = _mail(mailbox)
    _enter_code(slack, emulator, code)
    wait_for(lambda: _scheduled_dms(emulator) == 1)
    (move,) = _moves(session_factory)
    assert move.status is MoveStatus.SCHEDULED

    # Someone else's press: refused, nothing changes.
    slack.block_action(
        ids.TRANSFER_MOVE_CANCEL,
        move.public_id,
        user_id="U0OTHER",
        channel_id="D0OTHER",
        message={"type": "message", "ts": "2.0"},
    )
    clock.advance(timedelta(days=1))
    slack.block_action(
        ids.TRANSFER_MOVE_CANCEL,
        move.public_id,
        user_id=MEMBER,
        channel_id="D0TARO",
        message={"type": "message", "ts": "2.0"},
    )
    wait_for(lambda: _moves(session_factory)[0].status is MoveStatus.CANCELLED)
    # Pressed again: already cancelled, still nothing else.
    slack.block_action(
        ids.TRANSFER_MOVE_CANCEL,
        move.public_id,
        user_id=MEMBER,
        channel_id="D0TARO",
        message={"type": "message", "ts": "2.0"},
    )

    clock.set(APRIL_1)
    assert _apply_job(kyoso)["applied"] == 0
    member = _member(session_factory)
    assert (member.organisation_id, member.email) == (
        _organisation_id(session_factory, SAPPORO),
        OLD_EMAIL,
    )
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.target_id == move.public_id,
                AuditEntry.action == "transfers.move_cancelled",
            )
        ).all()
    assert audited == [MEMBER]


@pytest.mark.parametrize(
    ("effective", "message"),
    [("2027-03-19", "今日以降の日付"), ("2028-04-01", "1年以内の日付")],
)
def test_an_effective_date_in_the_past_or_beyond_a_year_gets_an_inline_error(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
    effective: str,
    message: str,
) -> None:
    clock.set(MARCH_20)
    slack = SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
    view = _open_form(slack, emulator)
    answer = _submit(slack, view, f"lg:{HOKKAIDO}", NEW_EMAIL, "", effective).json()
    assert answer["response_action"] == "errors"
    assert message in answer["errors"][ids.TRANSFER_MOVE_EFFECTIVE_BLOCK]
    assert _moves(session_factory) == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    # Today itself is fine, and applies at once once confirmed.
    assert _submit(slack, view, f"lg:{HOKKAIDO}", NEW_EMAIL, "", "2027-03-20").status == 200
    _, code = _mail(mailbox)
    _enter_code(slack, emulator, code)
    assert _moves(session_factory)[0].status is MoveStatus.CONFIRMED
