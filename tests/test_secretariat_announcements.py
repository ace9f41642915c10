"""Announcements end to end (issue 16, item 1): `/kyoso announce` → the modal → the preview
with the number of recipients → 「送信する」 (once) → DMs to 岩手県's members only, once each,
through a crash and restart and a `ratelimited` answer, only in business hours, and the
progress message ends with the true counts. Members are refused; opt-outs are honoured for
optional categories, never for rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.gateway import build_gateway
from bot.services import members
from bot.services.lifecycle.policy import CLAIM_LEASE
from bot.services.secretariat import announcements
from bot.services.secretariat.announcements import AnnouncementDM
from bot.slack.lifecycle.pacing import TokenBucket
from models import (
    Announcement,
    AnnouncementStatus,
    AuditEntry,
    GuestKind,
    Organisation,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

JST = ZoneInfo("Asia/Tokyo")
DAY = date(2027, 6, 7)  # a Monday, 開庁日
SECRETARY, OUTSIDER = "U0SEC", "U0MEM"
IWATE = [f"U0IW{n:02d}" for n in range(6)]
IWATE_GONE = "U0IWGONE"  # active here, deactivated in Slack: undeliverable
IWATE_GUEST, IWATE_BOT = "U0IWGUEST", "U0IWBOT"
MIYAGI = [f"U0MG{n:02d}" for n in range(3)]


def jst(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST).astimezone(UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(jst(8, 0))


def _organisation(session_factory: SessionFactory, prefecture: str) -> int:
    with session_factory() as session:
        found = session.scalar(
            select(Organisation.id).where(Organisation.prefecture == prefecture).limit(1)
        )
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    iwate, miyagi = (
        _organisation(session_factory, "岩手県"),
        _organisation(session_factory, "宮城県"),
    )
    everyone = [SECRETARY, OUTSIDER, *IWATE, IWATE_GONE, IWATE_GUEST, IWATE_BOT, *MIYAGI]
    for user in everyone:
        emulator.add_user(user, name=user.lower(), locale="ja-JP", deleted=user == IWATE_GONE)
    with session_factory.begin() as session:
        for user in everyone:
            member = members.ensure_member(session, clock=clock, slack_user_id=user)
            member.organisation_id = iwate if user.startswith("U0IW") else miyagi
            member.is_bot = user == IWATE_BOT
            member.guest_kind = GuestKind.EXTERNAL if user == IWATE_GUEST else None
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )


def _values(category: str, audience: str, **extra: dict[str, Any]) -> dict[str, Any]:
    def typed(value: str) -> dict[str, Any]:
        return {ids.ANNOUNCE_INPUT: {"type": "plain_text_input", "value": value}}

    def picked(value: str) -> dict[str, Any]:
        return {ids.ANNOUNCE_INPUT: {"type": "static_select", "selected_option": {"value": value}}}

    return {
        ids.ANNOUNCE_TITLE_BLOCK: typed("岩手県での勉強会 / A meetup in Iwate"),
        ids.ANNOUNCE_TEXT_JA_BLOCK: typed("7月に盛岡市で勉強会を開きます。"),
        ids.ANNOUNCE_TEXT_EN_BLOCK: typed("A meetup in Morioka in July."),
        ids.ANNOUNCE_CATEGORY_BLOCK: picked(category),
        ids.ANNOUNCE_AUDIENCE_BLOCK: picked(audience),
        **extra,
    }


def _iwate() -> dict[str, Any]:
    return {
        ids.ANNOUNCE_PREFECTURES_BLOCK: {
            ids.ANNOUNCE_INPUT: {
                "type": "multi_static_select",
                "selected_options": [{"value": "岩手県"}],
            }
        }
    }


def _compose(
    slack: SlackSender,
    emulator: SlackEmulator,
    *,
    category: str = "events",
    user_id: str = SECRETARY,
) -> dict[str, Any]:
    """The secretariat opens the modal and submits it; the confirmation it is shown."""

    def confirmations() -> list[dict[str, Any]]:
        return [m for m in emulator.dm_messages(SECRETARY) if "人に送ります" in m["text"]]

    # Wait for this compose's own modal and confirmation, not an earlier one already there.
    views_before, confirmations_before = len(emulator.opened_views()), len(confirmations())
    assert (
        slack.command("/kyoso", "announce", user_id=SECRETARY, channel_id="C0REVIEW").status == 200
    )
    form = wait_for(lambda: emulator.opened_views()[views_before:])[-1]
    assert form["callback_id"] == ids.ANNOUNCE_MODAL
    answer = slack.view_submission(
        ids.ANNOUNCE_MODAL,
        values=_values(category, "prefectures", **_iwate()),
        user_id=user_id,
        private_metadata=form["private_metadata"],
        blocks=form["blocks"],
    )
    assert answer.status == 200
    shown = wait_for(lambda: confirmations()[confirmations_before:])[-1]
    return {**shown, "channel": emulator.im_channel_id(SECRETARY)}


def _button(message: dict[str, Any], action_id: str) -> str:
    return next(
        str(e["value"])
        for b in message["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == action_id
    )


def _press(
    slack: SlackSender, message: dict[str, Any], action_id: str, *, user_id: str = SECRETARY
) -> None:
    value = _button(message, action_id)
    response = slack.block_action(
        action_id, value, user_id=user_id, channel_id=message["channel"], message=message
    )
    assert response.status == 200


def _announcement_dms(emulator: SlackEmulator) -> Counter[str]:
    return Counter(
        str(call.params["channel"])
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and f"{ids.ANNOUNCE_DM_BLOCK}:ann:" in str(call.params.get("blocks"))
    )


def _context(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock, database_url: str
) -> JobContext:
    return JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url, KYOSO_CONTACTS_PER_MINUTE="6000"),
    )


class _Crash(Exception):
    """Stands for the process dying: nothing after it runs."""


def _progress(emulator: SlackEmulator) -> dict[str, Any]:
    posted = [
        m
        for m in emulator.messages("C0REVIEW")
        if ids.ANNOUNCE_PROGRESS_BLOCK in str(m.get("blocks"))
    ]
    assert len(posted) == 1  # one message, edited in place
    return posted[0]


def test_an_announcement_to_iwate_reaches_its_members_once_in_business_hours(
    slack: SlackSender,
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    confirmation = _compose(slack, emulator)
    shown = str(confirmation["blocks"])
    # 6 + the one Slack deactivated; the guest and the bot are never counted.
    assert "7 人に送ります" in shown and "7月に盛岡市で勉強会を開きます。" in shown

    _press(slack, confirmation, ids.ANNOUNCE_TEST_SEND)
    test = wait_for(lambda: [m for m in emulator.dm_messages(SECRETARY) if "test:" in str(m)])
    assert "7月に盛岡市で勉強会を開きます。" in str(test[-1]["blocks"])

    _press(slack, confirmation, ids.ANNOUNCE_SEND)
    _press(slack, confirmation, ids.ANNOUNCE_SEND)  # a double click confirms once
    wait_for(lambda: emulator.messages("C0REVIEW"))
    with session_factory() as session:
        sent = session.scalars(select(Announcement)).one()
        confirms = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "announcement.confirm")
        ).all()
    assert (sent.status, sent.recipients, len(confirms)) == (AnnouncementStatus.SENDING, 7, 1)

    job = find_job("secretariat-announcements")
    context = _context(emulator, session_factory, clock, database_url)
    # 8:00: before the office opens, nothing is sent.
    early = job.run(context)
    assert (early["dms"], early["stopped"]) == (0, "hours")
    assert _announcement_dms(emulator) == Counter()

    # 10:00: a crash right after Slack took the third DM, with a `ratelimited` on the way.
    clock.set(jst(10))
    emulator.rate_limit("chat.postMessage", times=4)  # past the SDK's 3 retries
    posted: list[AnnouncementDM] = []

    def crash_after_the_third(dm: AnnouncementDM) -> None:
        posted.append(dm)
        if len(posted) == 3:
            raise _Crash

    gateway = build_gateway(
        context.settings,  # type: ignore[arg-type]
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        admin_client=None,
        session_factory=session_factory,
        clock=clock,
    )
    sender = gateway.secretariat.announcements.start(
        bucket=TokenBucket(60_000, burst=100), after_post=crash_after_the_third
    )
    with pytest.raises(_Crash):
        sender.run()
    assert sender.result.rate_limited >= 1
    assert sum(_announcement_dms(emulator).values()) == 3

    # Restarted at once: the claim is within its lease and left alone; the rest goes out.
    restarted = job.run(context)
    assert (restarted["dms"], restarted["failed"], restarted["recovered"]) == (3, 1, 0)
    # Later: the crashed DM is found in the member's IM, recorded, not sent again.
    clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    late = job.run(context)
    assert (late["recovered"], late["resent"], late["dms"]) == (1, 0, 0)
    assert late["finished"] == [sent.public_id]

    per_member = _announcement_dms(emulator)
    assert set(per_member) == set(IWATE) and set(per_member.values()) == {1}
    with session_factory() as session:
        counts = announcements.progress(session, announcement_id=sent.id)
    assert (counts.planned, counts.sent, counts.failed) == (0, 6, 1)
    final = str(_progress(emulator)["blocks"])
    assert "送信済み 6・未送信 0・送信できず 1" in final and "送信完了" in final
    assert f"<@{IWATE_GONE}> (channel_not_found)" in final
    assert ids.ANNOUNCE_CONTROL["pause"] not in final  # no controls once done


def test_a_member_cannot_open_or_submit_the_announcement_modal(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    assert (
        slack.command("/kyoso", "announce", user_id=OUTSIDER, channel_id="C0REVIEW").status == 200
    )
    assert emulator.opened_views() == []
    refused = slack.view_submission(
        ids.ANNOUNCE_MODAL,
        values=_values("events", "everyone"),
        user_id=OUTSIDER,
        private_metadata='{"modal": "announce"}',
    )
    assert refused.status == 200
    # And a forged 「送信する」 for a real draft changes nothing.
    confirmation = _compose(slack, emulator)
    _press(slack, confirmation, ids.ANNOUNCE_SEND, user_id=OUTSIDER)
    with session_factory() as session:
        drafts = session.scalars(select(Announcement)).all()
    assert [(a.created_by, a.status) for a in drafts] == [(SECRETARY, AnnouncementStatus.DRAFT)]
    assert _announcement_dms(emulator) == Counter()


def test_bad_input_gets_a_polite_answer_and_keeps_nothing(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    assert (
        slack.command("/kyoso", "announce", user_id=SECRETARY, channel_id="C0REVIEW").status == 200
    )
    form = wait_for(lambda: emulator.opened_views())[-1]
    answer = slack.view_submission(
        ids.ANNOUNCE_MODAL,
        values=_values("events", "prefectures"),  # no prefecture picked
        user_id=SECRETARY,
        private_metadata=form["private_metadata"],
        blocks=form["blocks"],
    ).json()
    assert answer["response_action"] == "errors"
    assert "都道府県" in answer["errors"][ids.ANNOUNCE_AUDIENCE_BLOCK]
    with session_factory() as session:
        assert session.scalars(select(Announcement)).all() == []


def _send_now(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    database_url: str,
    category: str,
) -> None:
    """Compose, send, and run the job once the new progress message is up."""

    def progress_messages() -> int:
        return sum(
            ids.ANNOUNCE_PROGRESS_BLOCK in str(m.get("blocks"))
            for m in emulator.messages("C0REVIEW")
        )

    before = progress_messages()
    confirmation = _compose(slack, emulator, category=category)
    _press(slack, confirmation, ids.ANNOUNCE_SEND)
    wait_for(lambda: progress_messages() > before)
    clock.set(jst(11))
    find_job("secretariat-announcements").run(
        _context(emulator, session_factory, clock, database_url)
    )


def test_opting_out_is_honoured_for_an_optional_category_not_for_rules(
    slack: SlackSender,
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(jst(10))
    _send_now(slack, emulator, session_factory, clock, database_url, "events")
    member = IWATE[0]
    dm = next(m for m in emulator.dm_messages(member) if ids.ANNOUNCE_DM_BLOCK in str(m["blocks"]))
    assert (
        slack.block_action(
            ids.ANNOUNCE_OPT_OUT,
            _button(dm, ids.ANNOUNCE_OPT_OUT),
            user_id=member,
            message=dm,
            channel_id=emulator.im_channel_id(member),
        ).status
        == 200
    )

    def opted_out() -> list[AuditEntry]:
        with session_factory() as session:
            return list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "announcement.opt_out")
                )
            )

    assert wait_for(opted_out)[0].details == {"category": "events"}

    before = _announcement_dms(emulator)
    _send_now(slack, emulator, session_factory, clock, database_url, "events")
    after_events = _announcement_dms(emulator) - before
    assert member not in after_events and set(after_events) == set(IWATE) - {member}

    _send_now(slack, emulator, session_factory, clock, database_url, "rules")
    after_rules = _announcement_dms(emulator) - before - after_events
    assert set(after_rules) == set(IWATE)  # rules reach everyone
    rules_dm = [
        m for m in emulator.dm_messages(member) if ids.ANNOUNCE_DM_BLOCK in str(m["blocks"])
    ][-1]
    assert ids.ANNOUNCE_OPT_OUT not in str(rules_dm["blocks"])  # and have no such button
