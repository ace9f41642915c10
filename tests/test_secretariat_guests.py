"""Guests and Slack Connect users end to end: signed events into the running app, the Slack
emulator, the jobs with the app's fixed clock. They are recorded as guests, never reported as
unknown joiners, welcomed, swept or counted, and listed on the secretariat's Home."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.statistics.counting import is_guest, is_member
from bot.slack.lifecycle import runs
from bot.slack.lifecycle.pacing import TokenBucket
from models import AuditEntry, GuestKind, InactivityCycle, Member, Role
from scheduler import lifecycle_jobs
from scheduler.jobs import JobContext
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, CONNECT, GUEST, STRANGER = "U0SEC", "U0CONNECT", "U0GUEST", "U0STRANGER"
LONG_AGO = DEFAULT_NOW - timedelta(days=400)


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    emulator.add_user(SECRETARY, name="sec", email="sec@pref.iwate.lg.jp")
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id=SECRETARY)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    settings = make_settings(emulator.api_url, database_url, KYOSO_CONTACTS_PER_MINUTE="6000")
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _jobs(kyoso: RunningKyoso) -> JobContext:
    deps = kyoso.kyoso.deps
    return JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )


def _join(slack: SlackSender, emulator: SlackEmulator, user_id: str, **kw: Any) -> None:
    user = emulator.user(user_id)
    assert user is not None
    assert slack.event({"type": "team_join", "user": user}, **kw).status == 200


def _member(session_factory: SessionFactory, user_id: str) -> Member | None:
    with session_factory() as session:
        return members.find(session, user_id)


def _joined(session_factory: SessionFactory, user_id: str) -> Member:
    return wait_for(lambda: _member(session_factory, user_id))


def _review_text(emulator: SlackEmulator) -> str:
    return json.dumps(emulator.messages("C0REVIEW"), ensure_ascii=False)


def _control_joiner(slack: SlackSender, emulator: SlackEmulator) -> None:
    """An ordinary unknown joiner after the guest: once reported, the guest's event is done."""
    emulator.add_user(STRANGER, name="stranger", email="who@example.com")
    _join(slack, emulator, STRANGER)
    wait_for(lambda: STRANGER in _review_text(emulator))


def _long_idle(session_factory: SessionFactory, *user_ids: str) -> None:
    with session_factory.begin() as session:
        for member in session.scalars(select(Member).where(Member.slack_user_id.in_(user_ids))):
            member.joined_at = member.created_at = member.last_seen_at = LONG_AGO


def _cycles(session_factory: SessionFactory, user_id: str) -> int:
    with session_factory() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(InactivityCycle)
                .join(Member, Member.id == InactivityCycle.member_id)
                .where(Member.slack_user_id == user_id)
            )
            or 0
        )


def test_a_slack_connect_user_joining_is_not_reported_welcomed_or_swept(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user(CONNECT, name="partner", email="partner@vendor.example.com")
    emulator.update_user(CONNECT, team_id="T0PARTNER")  # another organisation's workspace
    _join(slack, emulator, CONNECT, event_id="Ev0CONNECT")
    _join(slack, emulator, CONNECT, event_id="Ev0CONNECT", retry_num=1)  # a retried delivery
    assert _joined(session_factory, CONNECT).guest_kind is GuestKind.EXTERNAL
    _control_joiner(slack, emulator)

    review = _review_text(emulator)
    assert STRANGER in review and CONNECT not in review  # not an unknown joiner
    wait_for(lambda: emulator.dm_messages(STRANGER))  # the ordinary joiner is welcomed …
    assert emulator.dm_messages(CONNECT) == []  # … the Slack Connect user is not
    connect = _member(session_factory, CONNECT)
    assert (
        connect is not None and connect.welcomed_at is None and connect.welcome_claimed_at is None
    )

    with session_factory() as session:  # counted apart from members
        assert session.scalar(select(func.count()).select_from(Member).where(is_guest())) == 1
        counted = session.scalars(select(Member.slack_user_id).where(is_member())).all()
    assert CONNECT not in counted and STRANGER in counted

    # A year idle: the member is contacted, the Slack Connect user is not.
    _long_idle(session_factory, CONNECT, STRANGER)
    lifecycle_jobs.sweep(_jobs(kyoso))
    gateway = _jobs(kyoso).gateway
    assert gateway is not None
    runs.send_contacts(gateway.lifecycle, bucket=TokenBucket(60_000, burst=50))
    assert _cycles(session_factory, STRANGER) == 1 and _cycles(session_factory, CONNECT) == 0
    assert not [
        m
        for m in emulator.dm_messages(CONNECT)
        if any(str(b.get("block_id", "")).startswith("lifecycle_contact:") for b in m["blocks"])
    ]


def test_a_single_channel_guest_is_not_welcomed_and_is_listed_on_the_secretariats_home(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user(GUEST, name="consultant", email="c@consult.example.com", is_restricted=True)
    emulator.update_user(GUEST, is_ultra_restricted=True)
    emulator.add_channel("dx-project", channel_id="C0DX", members=[GUEST, emulator.bot_user_id])
    _join(slack, emulator, GUEST)
    assert _joined(session_factory, GUEST).guest_kind is GuestKind.SINGLE_CHANNEL
    _control_joiner(slack, emulator)
    assert GUEST not in _review_text(emulator) and emulator.dm_messages(GUEST) == []

    slack.event({"type": "app_home_opened", "user": SECRETARY, "tab": "home", "channel": "D0S"})
    home = wait_for(lambda: emulator.published_home(SECRETARY))
    rendered = json.dumps(home, ensure_ascii=False)
    assert "ゲストと外部（Slack コネクト）ユーザー: 1 人" in rendered
    assert f"<@{GUEST}> (シングルチャンネルゲスト): #dx-project" in rendered
    assert len(home["blocks"]) <= 100

    # A member's own Home lists no guests.
    slack.event({"type": "app_home_opened", "user": STRANGER, "tab": "home", "channel": "D0X"})
    own = wait_for(lambda: emulator.published_home(STRANGER))
    assert GUEST not in json.dumps(own, ensure_ascii=False)


def test_a_guest_made_a_full_member_in_slack_becomes_a_member_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user(GUEST, name="consultant", email="c@city.example.lg.jp", is_restricted=True)
    _join(slack, emulator, GUEST)
    assert _joined(session_factory, GUEST).guest_kind is GuestKind.MULTI_CHANNEL

    promoted = emulator.update_user(GUEST, is_restricted=False)
    event = {"type": "user_change", "user": promoted}
    for retry in (None, 1):  # Slack delivering the same event again changes nothing twice
        assert slack.event(event, event_id="Ev0PROMOTED", retry_num=retry).status == 200
    assert slack.event(event, event_id="Ev0PROMOTEDAGAIN").status == 200
    wait_for(lambda: (m := _member(session_factory, GUEST)) is not None and m.guest_kind is None)
    with session_factory() as session:
        changes = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "member.guest_kind_changed", AuditEntry.target_id == GUEST)
        )
    assert changes == 1
