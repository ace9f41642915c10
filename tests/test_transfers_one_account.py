"""One person, one account: an application from a former member's new address becomes a
move of that member (no second account, no review, no invitation); other likely duplicates
are flagged on the review card. Over real HTTP into the running app, mail read from the
real SMTP server, the review channel from the Slack emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import FixedClock
from bot.db import SessionFactory
from models import (
    AffiliationMove,
    Application,
    ApplicationStatus,
    AuditEntry,
    Member,
    MemberStatus,
    MoveSource,
    MoveStatus,
    Organisation,
    OutboundEmail,
)
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.smtp_server import SmtpServer, smtp_server
from tests.support.web_client import Page, WebClient

FORMER, NAMESAKE = "U0HANAKO", "U0ICHIRO"
OLD_EMAIL = "hanako.yamada@city.sapporo.lg.jp"
NEW_EMAIL = "hanako.yamada@pref.hokkaido.lg.jp"
SAPPORO, HAKODATE, HOKKAIDO = "011002", "012025", "010006"
MOVED_JA = "以前のアカウントの所属変更として受け付けました"
DUPLICATE_JA = "既存メンバーと重複の可能性"


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
    settings = make_settings(
        emulator.api_url,
        database_url,
        SMTP_HOST=mailbox.host,
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="false",
        KYOSO_MAIL_FROM="kyoso@example.lg.jp",
        KYOSO_PUBLIC_URL="http://kyoso.example.lg.jp",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _member(
    session_factory: SessionFactory,
    clock: FixedClock,
    *,
    user_id: str,
    name: str,
    email: str | None,
    code: str,
    status: MemberStatus = MemberStatus.ACTIVE,
) -> int:
    with session_factory.begin() as session:
        organisation_id = session.scalar(select(Organisation.id).where(Organisation.code == code))
        member = Member(
            slack_user_id=user_id,
            email=email,
            email_normalized=email,
            real_name=name,
            display_name=name,
            organisation_id=organisation_id,
            status=status,
            is_bot=False,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(member)
        session.flush()
        return member.id


def _former_member(session_factory: SessionFactory, clock: FixedClock, **kw: Any) -> int:
    return _member(
        session_factory,
        clock,
        user_id=FORMER,
        name="山田 花子",
        email=OLD_EMAIL,
        code=SAPPORO,
        **kw,
    )


def _apply(client: WebClient, lang: str = "ja", **overrides: str) -> Page:
    form = client.get("/apply", lang=lang)
    assert form.status == 200
    fields = {
        "action": "submit",
        "lang": lang,
        "name": "山田 花子",
        "email": NEW_EMAIL,
        "org_kind": "lg",
        "prefecture": "北海道",
        "lg_code": HOKKAIDO,
        "code": "",
        "agency": "",
        "department": "総務部 デジタル推進課",
        "rules": "yes",
        "website": "",
        "had_account": "yes",
        "previous_email": "Ｈａｎａｋｏ.Yamada＠city.sapporo.lg.jp",  # as people type it
        "csrf_token": form.field("csrf_token") or "",
        "rules_version": form.field("rules_version") or "",
    }
    return client.post("/apply", fields | overrides)


def _applications(session_factory: SessionFactory) -> list[Application]:
    with session_factory() as session:
        return list(session.scalars(select(Application).order_by(Application.id)))


def _moves(session_factory: SessionFactory) -> list[AffiliationMove]:
    with session_factory() as session:
        return list(session.scalars(select(AffiliationMove).order_by(AffiliationMove.id)))


def _blocks(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


# --------------------------------------------------------------------------------------
# A former member's new address: a move


def test_an_application_from_a_members_new_address_becomes_a_move(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    member_id = _former_member(session_factory, clock)
    emulator.add_user(FORMER, name="hanako", locale="ja-JP")
    client = WebClient(kyoso.base_url)
    form = client.get("/apply")
    assert "以前に共創PFのアカウントをお持ちでしたか" in form.plain
    assert '<label for="previous_email">' in form.text

    response = _apply(client)
    assert response.status == 303, response.plain
    public_id = response.headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    done = client.get(response.headers["Location"])
    assert done.status == 200 and MOVED_JA in done.plain
    assert "3開庁日以内" not in done.plain  # no review to wait for
    assert "hanako" not in done.text

    [application] = _applications(session_factory)
    assert application.public_id == public_id
    assert application.status is ApplicationStatus.MOVED
    assert application.existing_member_id == member_id
    assert application.previous_email == "Ｈａｎａｋｏ.Yamada＠city.sapporo.lg.jp"
    assert application.email_normalized == NEW_EMAIL
    assert application.duplicate_hints == ["previous_email"]
    [move] = _moves(session_factory)
    assert move.member_id == member_id and move.application_id == application.id
    assert move.status is MoveStatus.AWAITING and move.source is MoveSource.APPLICATION
    assert move.new_email == NEW_EMAIL
    with session_factory() as session:
        hokkaido = session.scalar(select(Organisation.id).where(Organisation.code == HOKKAIDO))
        assert move.new_organisation_id == hokkaido
        member = session.get(Member, member_id)
        assert member is not None
        # nothing changes before the link is followed: same account, old address
        assert member.email_normalized == OLD_EMAIL
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == public_id)
        ).all()
        assert "application.moved" in audited

    # Two mails to the new address: received as a move, and the confirmation link and code.
    messages = mailbox.wait_for(2, timeout=10)
    assert {m.rcpt_tos for m in messages} == {(NEW_EMAIL,)}
    bodies = [m.message["Subject"] + "\n" + m.message.get_content() for m in messages]
    received = next(b for b in bodies if MOVED_JA in b)
    assert public_id in received and "No new account is created" in received
    confirmation = next(b for b in bodies if b is not received)
    assert "http://kyoso.example.lg.jp/" in confirmation
    # no review message and no invitation for a move
    assert emulator.messages("C0REVIEW") == []
    assert not [c for c in emulator.calls if c.method.startswith("admin.")]

    # The link confirms it: the same member, the same Slack account, now at 北海道.
    link = re.search(r"http://kyoso\.example\.lg\.jp(/move/confirm/\S+)", confirmation)
    assert link is not None
    page = client.get(link.group(1))
    assert page.status == 200 and "北海道" in page.plain
    done = client.post(link.group(1), {"csrf_token": page.field("csrf_token") or "", "lang": "ja"})
    assert done.status == 200, done.plain
    with session_factory() as session:
        member = session.get(Member, member_id)
        assert member is not None and member.slack_user_id == FORMER
        assert member.organisation_id == hokkaido and member.email_normalized == NEW_EMAIL
        assert session.scalar(select(func.count()).select_from(Member)) == 1
    assert [m.status for m in _moves(session_factory)] == [MoveStatus.CONFIRMED]
    wait_for(lambda: emulator.dm_messages(FORMER))  # what to do about the Slack address


def test_a_double_submit_starts_one_move_and_mails_once(
    kyoso: RunningKyoso,
    mailbox: SmtpServer,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _former_member(session_factory, clock)
    client = WebClient(kyoso.base_url)
    first, second = _apply(client), _apply(client)
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_applications(session_factory)) == 1 and len(_moves(session_factory)) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 2


def test_the_move_page_in_english(
    kyoso: RunningKyoso, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _former_member(session_factory, clock)
    client = WebClient(kyoso.base_url)
    response = _apply(client, lang="en")
    assert response.status == 303, response.plain
    done = client.get(response.headers["Location"])
    assert "Received as a change of your earlier account" in done.plain
    assert MOVED_JA not in done.plain


def test_a_move_to_a_private_address_is_refused_and_nothing_is_stored(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _former_member(session_factory, clock)
    response = _apply(WebClient(kyoso.base_url), email="hanako.yamada@gmail.com")
    assert response.status == 422
    assert "入力内容をご確認ください" in response.plain
    assert _applications(session_factory) == [] and _moves(session_factory) == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    assert emulator.messages("C0REVIEW") == []


def test_a_malformed_earlier_address_is_refused_politely(
    kyoso: RunningKyoso, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _former_member(session_factory, clock)
    response = _apply(WebClient(kyoso.base_url), previous_email="hanako@@sapporo")
    assert response.status == 422
    assert "以前のアカウントのメールアドレスの形式が正しくありません" in response.plain
    assert 'id="previous_email"' in response.text and "hanako@@sapporo" in response.text
    assert _applications(session_factory) == []
    # "no" ignores whatever the hidden field holds
    response = _apply(WebClient(kyoso.base_url), had_account="no", previous_email="hanako@@sapporo")
    assert response.status == 303
    [application] = _applications(session_factory)
    assert application.status is ApplicationStatus.PENDING and application.previous_email is None


# --------------------------------------------------------------------------------------
# Likely duplicates: flagged to the reviewer


def test_a_deactivated_members_address_is_flagged_on_the_review_card(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    member_id = _former_member(session_factory, clock, status=MemberStatus.DEACTIVATED)
    response = _apply(WebClient(kyoso.base_url))
    assert response.status == 303
    [application] = _applications(session_factory)
    assert application.status is ApplicationStatus.PENDING  # not a move: reviewed as usual
    assert application.existing_member_id == member_id
    assert application.duplicate_hints == ["previous_email", "name_organisation"]
    assert _moves(session_factory) == []

    [card] = wait_for(lambda: emulator.messages("C0REVIEW"))
    blocks = _blocks(card)
    assert DUPLICATE_JA in blocks and f"<@{FORMER}>" in blocks
    assert "以前のアドレスが既存メンバー" in blocks
    assert "同じ団体（または都道府県と市区町村の関係）に同じ氏名" in blocks


def test_the_same_name_nearby_is_flagged_without_an_earlier_address(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    namesake = _member(
        session_factory,
        clock,
        user_id=NAMESAKE,
        name="さとう 一郎",
        email="ichiro.sato@city.hakodate.lg.jp",
        code=HAKODATE,
    )
    client = WebClient(kyoso.base_url)
    # 札幌市 and 函館市: the same prefecture, not one family
    response = _apply(
        client,
        name="サトウ　一郎",
        email="ichiro.sato@city.sapporo.lg.jp",
        lg_code=SAPPORO,
        had_account="no",
        previous_email="",
    )
    assert response.status == 303, response.plain
    [application] = _applications(session_factory)
    assert application.duplicate_hints == ["name_prefecture"]
    assert application.existing_member_id == namesake
    [card] = wait_for(lambda: emulator.messages("C0REVIEW"))
    assert DUPLICATE_JA in _blocks(card) and f"<@{NAMESAKE}>" in _blocks(card)
    assert "同じ都道府県に同じ氏名" in _blocks(card)

    # Someone else altogether: no hint, no warning on the card
    response = _apply(
        WebClient(kyoso.base_url),
        name="鈴木 次郎",
        email="jiro.suzuki@city.sapporo.lg.jp",
        lg_code=SAPPORO,
        had_account="no",
    )
    assert response.status == 303
    other = _applications(session_factory)[-1]
    assert other.duplicate_hints == [] and other.existing_member_id is None
    cards = wait_for(lambda: emulator.messages("C0REVIEW")[1:])
    assert DUPLICATE_JA not in _blocks(cards[0])


def test_an_earlier_application_and_a_declared_account_are_flagged(
    kyoso: RunningKyoso, session_factory: SessionFactory, emulator: SlackEmulator
) -> None:
    client = WebClient(kyoso.base_url)
    first = _apply(client, email=OLD_EMAIL, lg_code=SAPPORO, had_account="no")
    assert first.status == 303
    second = _apply(WebClient(kyoso.base_url), name="別人 太郎")  # yes, previous = OLD_EMAIL
    assert second.status == 303
    third = _apply(
        WebClient(kyoso.base_url),
        name="田中 三郎",
        email="saburo.tanaka@pref.hokkaido.lg.jp",
        previous_email="",
    )
    assert third.status == 303
    _, with_earlier, declared = _applications(session_factory)
    assert with_earlier.duplicate_hints == ["previous_application"]
    assert with_earlier.existing_member_id is None
    assert declared.duplicate_hints == ["declared"]
    cards = wait_for(lambda: emulator.messages("C0REVIEW")[2:])
    assert "以前のアドレスで過去に申請があります" in _blocks(emulator.messages("C0REVIEW")[1])
    assert "一致するメンバーは見つかりませんでした" in _blocks(cards[0])


# --------------------------------------------------------------------------------------
# The CSV import: an optional earlier-address column


def test_an_imported_row_with_a_members_earlier_address_becomes_a_move(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    member_id = _former_member(session_factory, clock)
    for name in ("SLACK_BOT_TOKEN", "KYOSO_REVIEW_CHANNEL", "KYOSO_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "form.csv"
    export.write_text(
        "氏名,メールアドレス,団体コード,部署,以前のメールアドレス\n"
        f"山田 花子,{NEW_EMAIL},{HOKKAIDO},デジタル推進課,{OLD_EMAIL}\n"
        f"佐藤 次郎,jiro.sato@city.sapporo.lg.jp,{SAPPORO},情報政策課,\n",
        encoding="utf-8",
    )
    assert main(["applications", "import", str(export)], clock=clock) == 0
    out = capsys.readouterr().out
    assert MOVED_JA in out
    moved, plain = _applications(session_factory)
    assert moved.status is ApplicationStatus.MOVED and moved.existing_member_id == member_id
    assert plain.status is ApplicationStatus.PENDING and plain.previous_email is None
    [move] = _moves(session_factory)
    assert move.application_id == moved.id and move.source is MoveSource.APPLICATION
    with session_factory() as session:
        keys = set(session.scalars(select(OutboundEmail.key)))
    assert f"application:{moved.public_id}:moved" in keys
    assert any(re.fullmatch(r"move:[0-9a-f]+:confirm", k) for k in keys)
