"""Leavers end to end: signed requests into the running app, the Slack emulator (SCIM
included), a real database, the `transfers-departures` job run with the app's fixed clock.

DEFAULT_NOW is Tuesday 2026-11-24, 10:00 JST: a last day of that day ends at 17:30 JST."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.lifecycle.policy import Policy
from bot.services.lifecycle.sweep import daily_sweep
from models import (
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelFacilitator,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    Departure,
    DepartureStatus,
    EntryKind,
    EntryStatus,
    Handover,
    InactivityCycle,
    KnowledgeEntry,
    Member,
    MemberStatus,
    ModerationCase,
    Role,
)
from models.moderation import CaseSource, CaseStatus
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

LEAVER, SUCCESSOR, SECRETARY, OUTSIDER = "U0LEAVER", "U0SUCC", "U0SEC", "U0TARO"
PUBLIC, PRIVATE = "C0ALPHA", "C0BETA"
LONG_AGO = DEFAULT_NOW - timedelta(days=400)
TODAY = "2026-11-24"
BEFORE_END = datetime(2026, 11, 24, 8, 29, tzinfo=UTC)  # 17:29 JST
AFTER_END = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 17:30 JST


def _seed(emulator: SlackEmulator, session_factory: SessionFactory) -> None:
    for user in (LEAVER, SUCCESSOR, SECRETARY, OUTSIDER):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.example.lg.jp")
    bot = emulator.bot_user_id
    emulator.add_channel("alpha", channel_id=PUBLIC, members=[bot, LEAVER])
    emulator.add_channel("beta", channel_id=PRIVATE, is_private=True, members=[bot, LEAVER])
    old = FixedClock(LONG_AGO)
    with session_factory.begin() as session:
        for user in (LEAVER, SUCCESSOR, SECRETARY, OUTSIDER):
            member = members.ensure_member(session, clock=old, slack_user_id=user)
            member.real_name = f"職員 {user[3:]}"
            member.display_name = user[2:].lower()
            member.last_seen_at = LONG_AGO
        members.grant_role(
            session, clock=old, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
        for role in (Role.AMBASSADOR, Role.FACILITATOR):
            members.grant_role(session, clock=old, slack_user_id=LEAVER, role=role, actor="cli")
        leaver = members.find(session, LEAVER)
        assert leaver is not None
        for slack_id, name in ((PUBLIC, "alpha"), (PRIVATE, "beta")):
            channel = Channel(
                slack_channel_id=slack_id,
                name=name,
                category=ChannelCategory.OTHER,
                status=ChannelStatus.ACTIVE,
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
            session.add(channel)
            session.flush()
            session.add(
                ChannelFacilitator(channel_id=channel.id, member_id=leaver.id, added_at=LONG_AGO)
            )
        session.add(
            ChannelRequest(
                public_id="CR-1",
                requester_id=LEAVER,
                category=ChannelCategory.ALL,
                name="デジ_all_引継ぎ",
                purpose="テスト",
                status=ChannelRequestStatus.PENDING,
                facilitator_ids=[],
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )
        session.add(
            ModerationCase(
                public_id="MC-1",
                channel_id=PUBLIC,
                message_ts="1.000001",
                author_id=OUTSIDER,
                excerpt="…",
                source=CaseSource.REPORT,
                reasons=["spam"],
                status=CaseStatus.CLAIMED,
                claimed_by=LEAVER,
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )
        session.add(
            KnowledgeEntry(
                source_key="faq:leaver",
                kind=EntryKind.FAQ,
                status=EntryStatus.ACTIVE,
                title="引継ぎの質問",
                question="質問",
                answer="回答",
                tags=[],
                masked_kinds=[],
                answerer_id=LEAVER,
                answered_at=LONG_AGO,
                search_keys="",
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )


def _serve(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    **settings: str,
) -> Iterator[RunningKyoso]:
    _seed(emulator, session_factory)
    configured = make_settings(emulator.api_url, database_url, **settings)
    with serve_kyoso(configured, session_factory=session_factory, clock=clock) as running:
        yield running


@pytest.fixture
def kyoso(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[RunningKyoso]:
    """No admin token: Kyoso cannot deactivate, the secretariat gets a to-do."""
    yield from _serve(emulator, database_url, session_factory, clock)


@pytest.fixture
def scim_kyoso(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[RunningKyoso]:
    """A workspace admin's token on a paid plan: SCIM deactivates."""
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin"], user_id="U0ADMIN", paid=True)
    yield from _serve(
        emulator,
        database_url,
        session_factory,
        clock,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    )


def _run_job(kyoso: RunningKyoso) -> dict[str, Any]:
    deps = kyoso.kyoso.deps
    ctx = JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )
    return find_job("transfers-departures").run(ctx)


def _set_time(kyoso: RunningKyoso, at: datetime) -> None:
    clock = kyoso.kyoso.deps.clock
    assert isinstance(clock, FixedClock)
    clock.set(at)


def _open_form(
    slack: SlackSender, emulator: SlackEmulator, user: str, text: str = "leave"
) -> dict[str, Any]:
    before = len(emulator.opened_views())
    slack.command("/kyoso", text, user_id=user, channel_id="C0REVIEW")
    return wait_for(lambda: emulator.opened_views()[before:])[-1]


def _values(
    last_day: str | None,
    *,
    anonymous: bool = False,
    successors: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        ids.TRANSFER_LEAVE_LAST_DAY_BLOCK: {
            ids.TRANSFER_LEAVE_INPUT: {"type": "datepicker", "selected_date": last_day}
        },
        ids.TRANSFER_LEAVE_KNOWLEDGE_BLOCK: {
            ids.TRANSFER_LEAVE_INPUT: {
                "type": "radio_buttons",
                "selected_option": {"value": "anonymous" if anonymous else "attributed"},
            }
        },
    }
    for block_id, user in (successors or {}).items():
        values[block_id] = {
            ids.TRANSFER_LEAVE_INPUT: {"type": "users_select", "selected_user": user}
        }
    return values


HAND_OVER = {
    ids.TRANSFER_LEAVE_CHANNEL_BLOCK + PUBLIC: SUCCESSOR,
    ids.TRANSFER_LEAVE_CHANNEL_BLOCK + PRIVATE: SUCCESSOR,
    ids.TRANSFER_LEAVE_REQUESTS_BLOCK: SUCCESSOR,
    ids.TRANSFER_LEAVE_CASES_BLOCK: None,  # the secretariat
}


def _submit(
    slack: SlackSender, view: dict[str, Any], user: str, values: dict[str, Any]
) -> dict[str, Any] | None:
    response = slack.view_submission(
        ids.TRANSFER_LEAVE_MODAL, view_id=view["id"], user_id=user, values=values
    )
    assert response.status == 200
    answer = response.json()
    return answer if isinstance(answer, dict) else None


def _departures(session_factory: SessionFactory) -> list[Departure]:
    with session_factory() as session:
        return list(session.scalars(select(Departure).order_by(Departure.id)))


def _confirmations(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.dm_messages(user)
        if any(
            e.get("action_id") == ids.TRANSFER_LEAVE_CANCEL
            for b in m.get("blocks") or []
            for e in b.get("elements") or []
        )
    ]


def _goodbyes(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.dm_messages(user)
        if any(
            str(b.get("block_id", "")).startswith(ids.TRANSFER_LEAVE_GOODBYE_BLOCK)
            for b in m.get("blocks") or []
        )
    ]


def _review_posts(emulator: SlackEmulator, prefix: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages("C0REVIEW")
        if any(str(b.get("block_id", "")).startswith(prefix) for b in m.get("blocks") or [])
    ]


def _schedule_today(
    slack: SlackSender, emulator: SlackEmulator, *, anonymous: bool = True
) -> dict[str, Any]:
    view = _open_form(slack, emulator, LEAVER)
    assert (
        _submit(slack, view, LEAVER, _values(TODAY, anonymous=anonymous, successors=HAND_OVER))
        is None
    )
    return view


def _facilitators(session_factory: SessionFactory, slack_channel_id: str) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(Member.slack_user_id)
                .join(ChannelFacilitator, ChannelFacilitator.member_id == Member.id)
                .join(Channel, Channel.id == ChannelFacilitator.channel_id)
                .where(Channel.slack_channel_id == slack_channel_id)
            )
        )


def test_the_last_day_hands_over_says_goodbye_and_deactivates_through_scim(
    scim_kyoso: RunningKyoso, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    slack = SlackSender(scim_kyoso.events_url, SIGNING_SECRET, emulator)
    view = _open_form(slack, emulator, LEAVER)
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    for block in (*HAND_OVER, ids.TRANSFER_LEAVE_LAST_DAY_BLOCK):
        assert block in shown
    assert "アンバサダー" in shown and "ファシリテーター" in shown
    values = _values(TODAY, anonymous=True, successors=HAND_OVER)
    assert _submit(slack, view, LEAVER, values) is None
    # A double submit makes one departure and one confirmation.
    assert _submit(slack, view, LEAVER, values) is None
    (departure,) = _departures(session_factory)
    assert departure.status is DepartureStatus.SCHEDULED and departure.requested_by == LEAVER
    confirmation = wait_for(lambda: _confirmations(emulator, LEAVER))
    text = json.dumps(confirmation, ensure_ascii=False)
    assert "2026/11/24" in text and "17:30" in text and f"<@{SUCCESSOR}>" in text
    assert len(_confirmations(emulator, LEAVER)) == 1

    # Before the end of business on the last day nothing happens.
    for at in (DEFAULT_NOW, BEFORE_END):
        _set_time(scim_kyoso, at)
        assert _run_job(scim_kyoso)["due"] == 0
    assert _facilitators(session_factory, PUBLIC) == [LEAVER]
    assert emulator.scim_calls == [] and _goodbyes(emulator, LEAVER) == []

    _set_time(scim_kyoso, AFTER_END)
    assert _run_job(scim_kyoso) == {"due": 1, "done": 1, "to_do": 0, "postponed": 0, "settled": 0}
    # The channels moved to the named successor, in the registry and in Slack.
    for channel in (PUBLIC, PRIVATE):
        assert _facilitators(session_factory, channel) == [SUCCESSOR]
        assert SUCCESSOR in (emulator.channel(channel) or {})["members"]
    with session_factory() as session:
        request = session.scalars(select(ChannelRequest)).one()
        case = session.scalars(select(ModerationCase)).one()
        entry = session.scalars(select(KnowledgeEntry)).one()
        leaver = members.find(session, LEAVER)
        assert leaver is not None
        assert request.requester_id == SUCCESSOR
        assert (case.claimed_by, case.status) == (None, CaseStatus.OPEN)  # the secretariat's
        assert entry.anonymous is True
        assert leaver.roles == [] and leaver.status is MemberStatus.DEACTIVATED
        assert (
            session.scalars(select(Handover.done_at).where(Handover.done_at.is_(None))).all() == []
        )
    (done,) = _departures(session_factory)
    assert done.status is DepartureStatus.DONE and done.deactivation_via == "deactivated_scim"
    assert ("DELETE", f"Users/{LEAVER}") in emulator.scim_calls
    assert (emulator.user(LEAVER) or {})["deleted"] is True
    assert len(_goodbyes(emulator, LEAVER)) == 1
    (handover_post,) = _review_posts(emulator, ids.TRANSFER_LEAVE_HANDOVER_BLOCK)
    assert "MC-1" in json.dumps(handover_post["blocks"], ensure_ascii=False)
    assert _review_posts(emulator, ids.TRANSFER_LEAVE_TODO_BLOCK) == []

    # A second run changes nothing and says nothing twice.
    scim_calls = len(emulator.scim_calls)
    assert _run_job(scim_kyoso)["due"] == 0
    assert len(emulator.scim_calls) == scim_calls and len(_goodbyes(emulator, LEAVER)) == 1
    assert len(_review_posts(emulator, ids.TRANSFER_LEAVE_HANDOVER_BLOCK)) == 1


def test_without_an_admin_token_the_secretariat_gets_exactly_one_to_do(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _schedule_today(slack, emulator, anonymous=False)
    _set_time(kyoso, AFTER_END)
    assert _run_job(kyoso)["to_do"] == 1
    assert _run_job(kyoso)["due"] == 0
    (to_do,) = _review_posts(emulator, ids.TRANSFER_LEAVE_TODO_BLOCK)
    assert f"<@{LEAVER}>" in to_do["text"] and "管理画面" in to_do["text"]
    (departure,) = _departures(session_factory)
    assert departure.status is DepartureStatus.TODO
    assert _facilitators(session_factory, PUBLIC) == [SUCCESSOR]
    assert len(_goodbyes(emulator, LEAVER)) == 1
    with session_factory() as session:
        entry = session.scalars(select(KnowledgeEntry)).one()
        leaver = members.find(session, LEAVER)
        assert entry.anonymous is False  # the member kept their name
        assert leaver is not None and leaver.status is MemberStatus.ACTIVE
        # The secretariat deactivates by hand; the users sync sees it; the next run settles.
        leaver.status = MemberStatus.DEACTIVATED
        session.commit()
    assert _run_job(kyoso)["settled"] == 1
    (departure,) = _departures(session_factory)
    assert departure.status is DepartureStatus.DONE
    assert len(_review_posts(emulator, ids.TRANSFER_LEAVE_TODO_BLOCK)) == 1


def test_a_busy_slack_postpones_the_run_without_losing_or_repeating_anything(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _schedule_today(slack, emulator)
    _set_time(kyoso, AFTER_END)
    emulator.rate_limit("conversations.invite", times=1)
    assert _run_job(kyoso)["postponed"] == 1
    (departure,) = _departures(session_factory)
    assert departure.status is DepartureStatus.SCHEDULED and departure.error == "ratelimited"
    assert _goodbyes(emulator, LEAVER) == []
    emulator.fail("chat.postMessage", "service_unavailable", times=1)
    # The invitations go through; the secretariat's message is refused: the next run posts it.
    assert _run_job(kyoso)["postponed"] == 1
    assert _review_posts(emulator, ids.TRANSFER_LEAVE_HANDOVER_BLOCK) == []
    assert _run_job(kyoso)["to_do"] == 1
    assert len(_goodbyes(emulator, LEAVER)) == 1
    assert len(_review_posts(emulator, ids.TRANSFER_LEAVE_HANDOVER_BLOCK)) == 1
    assert _facilitators(session_factory, PRIVATE) == [SUCCESSOR]
    assert SUCCESSOR in (emulator.channel(PRIVATE) or {})["members"]


def test_a_last_day_in_the_past_or_too_far_is_refused_and_nothing_stored(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    view = _open_form(slack, emulator, LEAVER)
    for day, words in (("2026-11-23", "過去の日付"), ("2027-12-01", "1 年以内"), (None, "選んで")):
        answer = _submit(slack, view, LEAVER, _values(day, successors=HAND_OVER))
        assert answer is not None and answer["response_action"] == "errors"
        assert words in answer["errors"][ids.TRANSFER_LEAVE_LAST_DAY_BLOCK]
    # Naming yourself, or a non-secretary for a case: the field says why.
    answer = _submit(
        slack,
        view,
        LEAVER,
        _values(
            TODAY,
            successors={
                ids.TRANSFER_LEAVE_CHANNEL_BLOCK + PUBLIC: LEAVER,
                ids.TRANSFER_LEAVE_CASES_BLOCK: OUTSIDER,
            },
        ),
    )
    assert answer is not None
    assert "ご自身" in answer["errors"][ids.TRANSFER_LEAVE_CHANNEL_BLOCK + PUBLIC]
    assert "事務局メンバー" in answer["errors"][ids.TRANSFER_LEAVE_CASES_BLOCK]
    assert _departures(session_factory) == []
    assert _confirmations(emulator, LEAVER) == []


def test_the_member_changes_then_cancels_and_nobody_else_can(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _schedule_today(slack, emulator)
    # Changed to a later day: the form shows the plan again, one departure stays.
    view = _open_form(slack, emulator, LEAVER)
    assert "2026-11-24" in json.dumps(view["blocks"])
    assert _submit(slack, view, LEAVER, _values("2026-12-25", successors=HAND_OVER)) is None
    (departure,) = _departures(session_factory)
    assert departure.last_day.isoformat() == "2026-12-25"
    confirmation = wait_for(lambda: _confirmations(emulator, LEAVER)[1:])[-1]
    assert "変更しました" in json.dumps(confirmation, ensure_ascii=False)
    cancel = next(
        e
        for b in confirmation["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == ids.TRANSFER_LEAVE_CANCEL
    )
    assert cancel["confirm"]

    # Another member pressing a forwarded copy: refused, nothing changed.
    slack.block_action(
        ids.TRANSFER_LEAVE_CANCEL,
        cancel["value"],
        user_id=OUTSIDER,
        channel_id="D0X",
        message=confirmation,
    )
    wait_for(lambda: emulator.all_responses())
    assert "事務局のみ" in emulator.all_responses()[-1][1]["text"]
    assert _departures(session_factory)[0].status is DepartureStatus.SCHEDULED

    slack.block_action(
        ids.TRANSFER_LEAVE_CANCEL,
        cancel["value"],
        user_id=LEAVER,
        channel_id="D0X",
        message=confirmation,
    )
    wait_for(lambda: len(emulator.all_responses()) == 2)
    assert "取り消しました" in emulator.all_responses()[-1][1]["text"]
    assert _departures(session_factory)[0].status is DepartureStatus.CANCELLED
    # A double click: told, decided once.
    slack.block_action(
        ids.TRANSFER_LEAVE_CANCEL,
        cancel["value"],
        user_id=LEAVER,
        channel_id="D0X",
        message=confirmation,
    )
    wait_for(lambda: len(emulator.all_responses()) == 3)
    assert "取り消し済み" in emulator.all_responses()[-1][1]["text"]
    with session_factory() as session:
        cancelled = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "transfers.departure_cancelled")
        ).all()
    assert len(cancelled) == 1
    # The last day passes: nothing happens to a cancelled departure.
    _set_time(kyoso, datetime(2026, 12, 25, 9, 0, tzinfo=UTC))
    assert _run_job(kyoso)["due"] == 0
    assert _facilitators(session_factory, PUBLIC) == [LEAVER]


def test_only_the_secretariat_records_a_departure_for_someone_else(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    # A member typing the secretariat's form: refused before any form opens.
    opened = len(emulator.opened_views())
    slack.command(
        "/kyoso", f"leave <@{LEAVER}> 2026-12-01", user_id=OUTSIDER, channel_id="C0REVIEW"
    )
    wait_for(lambda: emulator.all_responses())
    assert "事務局メンバーのみ" in emulator.all_responses()[-1][1]["text"]
    assert len(emulator.opened_views()) == opened
    # A member submitting a forged form for someone else: refused, nothing stored.
    own = _open_form(slack, emulator, OUTSIDER)
    forged = own["private_metadata"].replace(OUTSIDER, LEAVER)
    response = slack.view_submission(
        ids.TRANSFER_LEAVE_MODAL,
        view_id=own["id"],
        user_id=OUTSIDER,
        private_metadata=forged,
        values=_values("2026-12-01"),
    )
    assert "事務局のみ" in json.dumps(response.json(), ensure_ascii=False)
    assert _departures(session_factory) == []

    # The secretariat's form: the member by name, the day prefilled; its approval recorded.
    by_name = _open_form(slack, emulator, SECRETARY, "leave @leaver 2026-12-01")
    assert f"<@{LEAVER}>" in json.dumps(by_name["blocks"], ensure_ascii=False)
    view = _open_form(slack, emulator, SECRETARY, f"leave <@{LEAVER}|leaver> 2026/12/01")
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "事務局として登録" in shown and "2026-12-01" in shown
    assert _submit(slack, view, SECRETARY, _values("2026-12-01", successors=HAND_OVER)) is None
    (departure,) = _departures(session_factory)
    assert departure.requested_by == SECRETARY
    with session_factory() as session:
        member = session.get(Member, departure.member_id)
        assert member is not None and member.slack_user_id == LEAVER
    told = wait_for(lambda: _confirmations(emulator, LEAVER))
    assert f"事務局（<@{SECRETARY}>）" in json.dumps(told, ensure_ascii=False)
    wait_for(lambda: any("登録しました" in m["text"] for m in emulator.dm_messages(SECRETARY)))
    # A bad secretariat command is explained.
    slack.command("/kyoso", "leave someone", user_id=SECRETARY, channel_id="C0REVIEW")
    wait_for(lambda: "使い方" in emulator.all_responses()[-1][1]["text"])


def test_the_home_button_opens_the_form_and_a_leaver_is_not_swept(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    slack.block_action(
        ids.TRANSFER_LEAVE_HOME, "leave", user_id=OUTSIDER, view={"id": "V0HOME", "type": "home"}
    )
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.TRANSFER_LEAVE_MODAL
    assert "引き継ぐチャンネル・申請・案件はありません" in json.dumps(
        view["blocks"], ensure_ascii=False
    )
    assert _submit(slack, view, OUTSIDER, _values("2026-12-01")) is None
    with session_factory.begin() as session:
        daily_sweep(session, clock=kyoso.kyoso.deps.clock, policy=Policy())
    with session_factory() as session:
        swept = session.scalars(
            select(Member.slack_user_id).join(
                InactivityCycle, InactivityCycle.member_id == Member.id
            )
        ).all()
    # Both were quiet for long; the one leaving is not asked whether they are still here.
    assert SUCCESSOR in swept and OUTSIDER not in swept
