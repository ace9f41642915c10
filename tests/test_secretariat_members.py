"""The secretariat's member look-up and roles from Slack, end to end: signed requests into the
running app over HTTP, the Slack emulator answering, a real database, a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    Member,
    MemberRole,
    Role,
)
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, HANAKO, TARO = "U0SEC", "U0HANAKO", "U0TARO"
HANAKO_EMAIL = "hanako.yamada@city.morioka.lg.jp"
MANY = 23  # more than two pages of matches


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    for user in (SECRETARY, HANAKO, TARO):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.example.lg.jp")
    old = FixedClock(DEFAULT_NOW - timedelta(days=100))
    with session_factory.begin() as session:
        for user, real_name, display_name, email in (
            (SECRETARY, "事務局 一郎", None, "sec@example.go.jp"),
            # Slack's display name carries her name in katakana.
            (HANAKO, "山田 花子", "ヤマダ ハナコ", HANAKO_EMAIL),
            (TARO, "佐藤 太郎", None, "taro@city.example.lg.jp"),
        ):
            member = members.ensure_member(session, clock=old, slack_user_id=user)
            member.email, member.email_normalized = email, email
            member.real_name, member.display_name = real_name, display_name
            member.joined_at = member.last_seen_at = old.now()
        for n in range(MANY):
            extra = members.ensure_member(session, clock=old, slack_user_id=f"U0KATO{n:03d}")
            extra.real_name = f"加藤 {n:03d}"
        session.add(
            Application(
                public_id="APP-0001",
                email=HANAKO_EMAIL,
                email_normalized=HANAKO_EMAIL,
                name="山田 花子（やまだ はなこ）",
                language="ja",
                rules_version="1",
                source=ApplicationSource.WEB,
                status=ApplicationStatus.JOINED,
                outcome="eligible",
                submitted_at=old.now(),
                decided_at=old.now(),
                decided_by=SECRETARY,
                decision_reason="盛岡市の職員",
                slack_user_id=HANAKO,
            )
        )
        members.grant_role(
            session, clock=old, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    settings = make_settings(emulator.api_url, database_url)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _answer(slack: SlackSender, emulator: SlackEmulator, text: str, user: str) -> dict[str, Any]:
    before = len(emulator.all_responses())
    slack.command("/kyoso", text, user_id=user, channel_id="C0REVIEW")
    return dict(wait_for(lambda: emulator.all_responses()[before:])[-1][1])


def _press(
    slack: SlackSender, emulator: SlackEmulator, button: dict[str, Any], message: dict[str, Any]
) -> dict[str, Any]:
    before = len(emulator.all_responses())
    slack.block_action(
        button["action_id"],
        button["value"],
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message={"ts": "1.0", "blocks": message["blocks"]},
    )
    return dict(wait_for(lambda: emulator.all_responses()[before:])[-1][1])


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in message["blocks"]:
        found.extend(e for e in block.get("elements") or [] if e.get("type") == "button")
        if (block.get("accessory") or {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(b for b in _buttons(message) if b["action_id"] == action_id)


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def _audits(session_factory: SessionFactory, action: str) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_kana_finds_her_card_with_her_application(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    card = _answer(slack, emulator, "member やまだ", SECRETARY)
    text = _text(card)
    assert "山田 花子" in text and HANAKO_EMAIL in text
    assert "APP-0001" in text and "盛岡市の職員" in text  # the application and its decision
    assert len(card["blocks"]) <= 50
    grant = _button(card, ids.SECRETARIAT_MEMBER_ROLE["facilitator"])
    assert grant["value"] == f"grant|{HANAKO}" and grant["confirm"]
    # The kana of her application's name finds her too, with spaces typed or not.
    assert "山田 花子" in _text(_answer(slack, emulator, "member はなこ", SECRETARY))
    assert "山田 花子" in _text(_answer(slack, emulator, "member 山田花子", SECRETARY))


def test_a_full_width_email_and_a_mention_find_her(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    full_width = "member ｈａｎａｋｏ．ｙａｍａｄａ＠ｃｉｔｙ．ｍｏｒｉｏｋａ．ｌｇ．ｊｐ"
    assert "山田 花子" in _text(_answer(slack, emulator, full_width, SECRETARY))
    assert "山田 花子" in _text(_answer(slack, emulator, f"member <@{HANAKO}|hanako>", SECRETARY))
    nobody = _text(_answer(slack, emulator, "member nobody@example.jp", SECRETARY))
    assert "一致するメンバーはいませんでした" in nobody


def test_a_member_is_refused_and_learns_nothing(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    answer = _text(_answer(slack, emulator, "member やまだ", TARO))
    assert "事務局メンバーのみ" in answer
    assert "山田" not in answer and HANAKO_EMAIL not in answer


def test_many_matches_page_and_open_a_card(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    first = _answer(slack, emulator, "member 加藤", SECRETARY)
    assert f"{MANY} 人" in _text(first) and "1〜10 人目" in _text(first)
    cards = [b for b in _buttons(first) if b["action_id"] == ids.SECRETARIAT_MEMBER_CARD]
    assert len(cards) == 10 and len(first["blocks"]) <= 50
    second = _press(slack, emulator, _button(first, ids.SECRETARIAT_MEMBER_PAGE_NEXT), first)
    assert "11〜20 人目" in _text(second) and "加藤 010" in _text(second)
    third = _press(slack, emulator, _button(second, ids.SECRETARIAT_MEMBER_PAGE_NEXT), second)
    assert "21〜23 人目" in _text(third)
    assert not any(b["action_id"] == ids.SECRETARIAT_MEMBER_PAGE_NEXT for b in _buttons(third))
    back = _press(slack, emulator, _button(third, ids.SECRETARIAT_MEMBER_PAGE_PREVIOUS), third)
    assert "11〜20 人目" in _text(back)
    card_button = next(b for b in _buttons(first) if b.get("value") == "U0KATO002")
    card = _press(slack, emulator, card_button, first)
    assert "加藤 002" in _text(card) and "U0KATO002" in _text(card)


def test_the_card_grants_a_role_once_and_redraws(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    card = _answer(slack, emulator, "member やまだ", SECRETARY)
    grant = _button(card, ids.SECRETARIAT_MEMBER_ROLE["facilitator"])
    after = _press(slack, emulator, grant, card)
    assert "ファシリテーターのロールを付与しました" in _text(after)
    assert _button(after, ids.SECRETARIAT_MEMBER_ROLE["facilitator"])["value"] == (
        f"revoke|{HANAKO}"
    )
    again = _press(slack, emulator, grant, card)  # the old card, clicked twice
    assert "すでに付与されていました" in _text(again)
    with session_factory() as session:
        assert members.has_role(session, HANAKO, Role.FACILITATOR)
    assert len(_audits(session_factory, "member.role_granted")) == 2  # the CLI's, and this one
    # The exemption from the card, audited once.
    exempt = _button(after, ids.SECRETARIAT_MEMBER_EXEMPT)
    exempted = _press(slack, emulator, exempt, after)
    assert "対象外にしました" in _text(exempted)
    assert "すでに非アクティブ確認の対象外" in _text(_press(slack, emulator, exempt, after))
    assert len(_audits(session_factory, "member.inactivity_exempted")) == 1
    assert "member.inactivity_exempted" in _text(exempted)  # the card's recent entries


def test_a_member_pressing_a_card_button_is_refused(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    slack.block_action(
        ids.SECRETARIAT_MEMBER_ROLE["secretariat"],
        f"grant|{TARO}",
        user_id=TARO,
        channel_id="C0REVIEW",
    )
    wait_for(lambda: emulator.all_responses())
    assert "事務局メンバーのみ" in _text(emulator.all_responses()[-1][1])
    with session_factory() as session:
        assert not members.has_role(session, TARO, Role.SECRETARIAT)


def _roles_values(user: str | None, role: str, change: str) -> dict[str, Any]:
    def input_(kind: str, **value: Any) -> dict[str, Any]:
        return {ids.SECRETARIAT_ROLES_INPUT: {"type": kind, **value}}

    return {
        ids.SECRETARIAT_ROLES_USER_BLOCK: input_("users_select", selected_user=user),
        ids.SECRETARIAT_ROLES_ROLE_BLOCK: input_("static_select", selected_option={"value": role}),
        ids.SECRETARIAT_ROLES_CHANGE_BLOCK: input_(
            "radio_buttons", selected_option={"value": change}
        ),
    }


def _open_roles_from_home(slack: SlackSender, emulator: SlackEmulator) -> dict[str, Any]:
    slack.event({"type": "app_home_opened", "user": SECRETARY, "tab": "home", "channel": "D0SEC"})

    def with_button() -> dict[str, Any] | None:
        home = emulator.published_home(SECRETARY)
        return home if home and ids.SECRETARIAT_ROLES_OPEN in _text(home) else None

    home = wait_for(with_button)
    assert len(home["blocks"]) <= 100 and "ロールを付与・解除" in _text(home)
    before = len(emulator.opened_views())
    button = _button(home, ids.SECRETARIAT_ROLES_OPEN)
    slack.block_action(
        button["action_id"], button["value"], user_id=SECRETARY, view={"id": "V0HOME", **home}
    )
    return dict(wait_for(lambda: emulator.opened_views()[before:])[-1])


def _submit_roles(
    slack: SlackSender, view: dict[str, Any], values: dict[str, Any], user: str = SECRETARY
) -> dict[str, Any]:
    response = slack.view_submission(
        ids.SECRETARIAT_ROLES_MODAL,
        view_id=view["id"],
        user_id=user,
        values=values,
        private_metadata=view.get("private_metadata"),
    )
    assert response.status == 200
    return dict(response.json() or {})


def test_a_role_granted_from_app_home_takes_effect_and_is_audited(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    view = _open_roles_from_home(slack, emulator)
    assert view["callback_id"] == ids.SECRETARIAT_ROLES_MODAL
    answer = _submit_roles(slack, view, _roles_values(TARO, "ambassador", "grant"))
    assert "アンバサダーのロールを付与しました" in _text(answer)
    with session_factory() as session:
        assert members.has_role(session, TARO, Role.AMBASSADOR)
    granted = [e for e in _audits(session_factory, "member.role_granted") if e.target_id == TARO]
    assert [(e.actor, (e.details or {}).get("role")) for e in granted] == [
        (SECRETARY, "ambassador")
    ]
    # Submitted twice: nothing changes twice.
    again = _submit_roles(slack, view, _roles_values(TARO, "ambassador", "grant"))
    assert "すでに付与されていました" in _text(again)
    assert (
        len([e for e in _audits(session_factory, "member.role_granted") if e.target_id == TARO])
        == 1
    )
    # Nobody chosen: a polite answer under the field.
    empty = _submit_roles(slack, view, _roles_values(None, "ambassador", "grant"))
    assert empty["response_action"] == "errors"
    # A member submitting the modal: refused, nothing changes.
    refused = _submit_roles(slack, view, _roles_values(TARO, "secretariat", "grant"), user=TARO)
    assert refused.get("response_action") == "errors" or "事務局" in _text(refused)
    with session_factory() as session:
        assert not members.has_role(session, TARO, Role.SECRETARIAT)


def test_revoking_the_last_secretariat_role_is_refused(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    view = _open_roles_from_home(slack, emulator)
    answer = _submit_roles(slack, view, _roles_values(SECRETARY, "secretariat", "revoke"))
    assert answer["response_action"] == "errors"
    assert "最後の1人" in _text(answer)
    with session_factory() as session:
        assert members.has_role(session, SECRETARY, Role.SECRETARIAT)
    assert _audits(session_factory, "member.role_revoked") == []
    # With a second secretary, the first may step down.
    _submit_roles(slack, view, _roles_values(HANAKO, "secretariat", "grant"))
    done = _submit_roles(slack, view, _roles_values(SECRETARY, "secretariat", "revoke"))
    assert "事務局のロールを解除しました" in _text(done)
    with session_factory() as session:
        holders = session.scalar(
            select(func.count()).select_from(MemberRole).where(MemberRole.role == Role.SECRETARIAT)
        )
        assert holders == 1
        assert session.scalar(select(Member.id).where(Member.slack_user_id == HANAKO))
