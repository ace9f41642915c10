"""Account lifecycle end to end: signed requests into the running app over HTTP, the Slack
emulator answering its calls, the jobs run with the app's fixed clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.lifecycle.overview import overview
from bot.slack.lifecycle import runs
from bot.slack.lifecycle.pacing import TokenBucket
from models import AuditEntry, CycleStatus, InactivityCycle, Member, MemberStatus, Role
from scheduler import lifecycle_jobs
from scheduler.jobs import JobContext
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, MEMBER, OUTSIDER = "U0SEC", "U0HANAKO", "U0TARO"
LONG_AGO = DEFAULT_NOW - timedelta(days=400)


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    for user in (SECRETARY, MEMBER, OUTSIDER, "U0SLEEPY", "U0ALSO"):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.example.lg.jp")
    old = FixedClock(LONG_AGO)
    with session_factory.begin() as session:
        for user in (SECRETARY, MEMBER, OUTSIDER, "U0SLEEPY", "U0ALSO"):
            member = members.ensure_member(session, clock=old, slack_user_id=user)
            member.email = member.email_normalized = f"{user.lower()}@city.example.lg.jp"
            member.real_name = f"職員 {user[3:]}"
            member.last_seen_at = LONG_AGO
        members.grant_role(
            session, clock=old, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    settings = make_settings(emulator.api_url, database_url, KYOSO_CONTACTS_PER_MINUTE="6000")
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _jobs(kyoso: RunningKyoso) -> JobContext:
    """The jobs' context as the scheduler builds it: the app's clock, its own client."""
    deps = kyoso.kyoso.deps
    return JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )


def _contact(kyoso: RunningKyoso) -> dict[str, Any]:
    gateway = _jobs(kyoso).gateway
    assert gateway is not None
    return runs.send_contacts(gateway.lifecycle, bucket=TokenBucket(60_000, burst=50))


def _cycle(session_factory: SessionFactory, user: str) -> InactivityCycle | None:
    with session_factory() as session:
        return session.scalar(
            select(InactivityCycle)
            .join(Member, Member.id == InactivityCycle.member_id)
            .where(Member.slack_user_id == user)
            .order_by(InactivityCycle.id.desc())
            .limit(1)
        )


def _contact_dm(emulator: SlackEmulator, user: str) -> dict[str, Any]:
    return next(
        m
        for m in emulator.dm_messages(user)
        if any(str(b.get("block_id", "")).startswith("lifecycle_contact:") for b in m["blocks"])
    )


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button")


def _last_response(emulator: SlackEmulator) -> dict[str, Any]:
    return dict(emulator.all_responses()[-1][1])


def test_the_member_keeps_the_account_with_one_click(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    lifecycle_jobs.sweep(_jobs(kyoso))
    assert _contact(kyoso)["dms"] == 4  # everyone but the secretariat
    dm = _contact_dm(emulator, MEMBER)
    keep = _button(dm, ids.LIFECYCLE_KEEP)
    # Another member pressing a forwarded copy of her button changes nothing.
    slack.block_action(
        ids.LIFECYCLE_KEEP,
        keep["value"],
        user_id=OUTSIDER,
        channel_id=emulator.im_channel_id(OUTSIDER),
        message=dm,
    )
    wait_for(lambda: len(emulator.all_responses()) == 1)
    assert "受付は終了" in _last_response(emulator)["text"]
    assert _cycle(session_factory, MEMBER).status is CycleStatus.CONTACTING  # type: ignore[union-attr]

    response = slack.block_action(
        ids.LIFECYCLE_KEEP,
        keep["value"],
        user_id=MEMBER,
        channel_id=emulator.im_channel_id(MEMBER),
        message=dm,
    )
    assert response.status == 200
    wait_for(lambda: len(emulator.all_responses()) == 2)
    thanks = _last_response(emulator)
    assert thanks["replace_original"] is True
    assert "アカウントはそのまま残ります" in thanks["text"]
    cycle = _cycle(session_factory, MEMBER)
    assert cycle is not None and (cycle.status, cycle.end_reason) == (CycleStatus.ANSWERED, "keep")
    with session_factory() as session:
        member = members.find(session, MEMBER)
        assert member is not None and member.status is MemberStatus.ACTIVE
    # A double click: thanked again, decided once.
    slack.block_action(
        ids.LIFECYCLE_KEEP,
        keep["value"],
        user_id=MEMBER,
        channel_id=emulator.im_channel_id(MEMBER),
        message=dm,
    )
    wait_for(lambda: len(emulator.all_responses()) == 3)
    assert "すでに済んでいます" in _last_response(emulator)["text"]
    with session_factory() as session:
        kept = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lifecycle.kept")
        ).all()
    assert [entry.target_id for entry in kept] == [MEMBER]


def test_reactions_joins_and_profile_changes_are_activity(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    lifecycle_jobs.sweep(_jobs(kyoso))
    _contact(kyoso)
    now = kyoso.kyoso.deps.clock.now().timestamp()
    slack.event(
        {
            "type": "reaction_added",
            "user": MEMBER,
            "reaction": "+1",
            "item": {"type": "message", "channel": "C0REVIEW", "ts": "1.000001"},
            "event_ts": f"{now + 60:.6f}",
        }
    )
    slack.event(
        {
            "type": "member_joined_channel",
            "user": OUTSIDER,
            "channel": "C0REVIEW",
            "channel_type": "C",
            "event_ts": f"{now + 60:.6f}",
        }
    )
    profile = emulator.user("U0ALSO")
    slack.event({"type": "user_change", "user": profile, "event_ts": f"{now + 60:.6f}"})
    sleepy = {**(emulator.user("U0SLEEPY") or {}), "deleted": True}
    slack.event({"type": "user_change", "user": sleepy, "event_ts": f"{now + 60:.6f}"})

    def all_flushed() -> bool:
        kyoso.kyoso.deps.activity.flush()
        with session_factory() as session:
            seen = session.scalars(
                select(Member.slack_user_id).where(
                    Member.last_seen_at > DEFAULT_NOW, Member.slack_user_id != SECRETARY
                )
            ).all()
        return set(seen) == {MEMBER, OUTSIDER, "U0ALSO"}

    wait_for(all_flushed)
    wait_for(
        lambda: _cycle(session_factory, "U0SLEEPY").status is CycleStatus.DEACTIVATED  # type: ignore[union-attr]
    )
    result = _contact(kyoso)
    assert result["thanks"] == 3
    for user in (MEMBER, OUTSIDER, "U0ALSO"):
        assert _cycle(session_factory, user).end_reason == "activity"  # type: ignore[union-attr]


def test_the_secretariat_approves_in_batches_and_restores_with_one_click(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    jobs = _jobs(kyoso)
    clock = jobs.clock
    assert isinstance(clock, FixedClock)
    lifecycle_jobs.sweep(jobs)
    _contact(kyoso)
    clock.advance(timedelta(days=14))
    _contact(kyoso)
    with session_factory.begin() as session:  # no mail server here: pretend the outbox sent
        from models import EmailStatus, OutboundEmail

        for email in session.scalars(select(OutboundEmail)):
            email.status, email.sent_at = EmailStatus.SENT, clock.now()
    clock.advance(timedelta(days=31))
    assert lifecycle_jobs.sweep(jobs)["flagged"] == 4
    # The weekly summary lands in the review channel with the batch and its buttons.
    assert lifecycle_jobs.weekly_summary(jobs)["posted"]
    summary = emulator.messages("C0REVIEW")[-1]
    text = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "アカウント管理の週次まとめ" in text and "削除候補 4 件" in text
    approve = _button(summary, ids.LIFECYCLE_APPROVE_BATCH)
    assert approve["confirm"] and len(approve["value"].split(",")) == 4

    # A member pressing the secretariat's button: refused, nothing changed.
    slack.block_action(
        ids.LIFECYCLE_APPROVE_BATCH,
        approve["value"],
        user_id=OUTSIDER,
        channel_id="C0REVIEW",
        message=summary,
    )
    wait_for(lambda: len(emulator.all_responses()) == 1)
    assert "事務局メンバーのみ" in _last_response(emulator)["text"]
    with session_factory() as session:
        assert overview(session).flagged == 4

    # The secretariat restores one with a click, from /kyoso inactive.
    slack.command("/kyoso", "inactive", user_id=SECRETARY, channel_id="C0REVIEW")
    wait_for(lambda: len(emulator.all_responses()) == 2)
    listing = _last_response(emulator)
    restore = next(
        block["accessory"]
        for block in listing["blocks"]
        if block.get("accessory", {}).get("action_id") == ids.LIFECYCLE_RESTORE
        and MEMBER in block["text"]["text"]
    )
    slack.block_action(
        ids.LIFECYCLE_RESTORE,
        restore["value"],
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message={"ts": "1.0", "blocks": listing["blocks"]},
    )
    wait_for(lambda: len(emulator.all_responses()) == 3)
    assert "削除候補から外しました" in json.dumps(_last_response(emulator), ensure_ascii=False)
    assert _cycle(session_factory, MEMBER).status is CycleStatus.RESTORED  # type: ignore[union-attr]

    # Then approves the batch from the summary: no admin token, so a to-do list.
    slack.block_action(
        ids.LIFECYCLE_APPROVE_BATCH,
        approve["value"],
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message=summary,
    )
    wait_for(lambda: len(emulator.all_responses()) == 4)
    answer = json.dumps(_last_response(emulator), ensure_ascii=False)
    assert "3 件の停止を承認しました" in answer and "Slack の管理画面で停止してください" in answer
    with session_factory() as session:
        counts = overview(session)
    assert (counts.flagged, counts.approved) == (0, 3)
    assert _cycle(session_factory, MEMBER).status is CycleStatus.RESTORED  # type: ignore[union-attr]
    # A second click on the old message decides nothing twice.
    slack.block_action(
        ids.LIFECYCLE_APPROVE_BATCH,
        approve["value"],
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message=summary,
    )
    wait_for(lambda: len(emulator.all_responses()) == 5)
    assert "すでに処理されていました" in json.dumps(_last_response(emulator), ensure_ascii=False)
    with session_factory() as session:
        approvals = session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action == "lifecycle.approved")
        ).all()
    assert sorted(approvals) == sorted([OUTSIDER, "U0SLEEPY", "U0ALSO"])


def test_a_member_cannot_list_flagged_accounts(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    slack.command("/kyoso", "inactive", user_id=OUTSIDER, channel_id="C0REVIEW")
    wait_for(lambda: emulator.all_responses())
    assert "事務局メンバーのみ" in _last_response(emulator)["text"]


def test_the_app_home_open_counts_as_activity(
    kyoso: RunningKyoso, slack: SlackSender, session_factory: SessionFactory
) -> None:
    slack.event({"type": "app_home_opened", "user": MEMBER, "tab": "messages"})

    def seen() -> bool:
        kyoso.kyoso.deps.activity.flush()
        with session_factory() as session:
            member = members.find(session, MEMBER)
            return member is not None and member.last_seen_at == DEFAULT_NOW

    wait_for(seen)


def test_buttons_on_the_app_home_answer_by_dm(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    """The same buttons may sit on the secretariat's Home (a view: no response_url)."""
    slack.block_action(
        ids.LIFECYCLE_SHOW_FLAGGED,
        "refresh",
        user_id=SECRETARY,
        view={"id": "V0HOME", "type": "home", "blocks": []},
    )
    listing = wait_for(lambda: emulator.dm_messages(SECRETARY))[-1]
    assert "削除候補のアカウントはありません" in json.dumps(listing["blocks"], ensure_ascii=False)
    slack.block_action(
        ids.LIFECYCLE_RESTORE, "1", user_id=OUTSIDER, view={"id": "V0HOME", "type": "home"}
    )
    refusal = wait_for(lambda: emulator.dm_messages(OUTSIDER))[-1]
    assert "事務局メンバーのみ" in refusal["text"]
