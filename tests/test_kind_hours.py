"""Kind hours end to end (bot/slack/kind_hours.py): Kyoso's own DMs wait for business hours,
do-not-disturb and an away status (休暇, :palm_tree:), postponed rather than dropped. The jobs
run against the Slack emulator with fixed clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.settings import Settings
from bot.slack.lifecycle import runs
from bot.slack.lifecycle.pacing import TokenBucket
from bot.slack.onboarding import dms
from models import AttemptStatus, ContactAttempt, Member, MemberStatus
from scheduler import lifecycle_jobs
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator

JST = ZoneInfo("Asia/Tokyo")
INTRO = "C0INTRO"
AWAY = "U0AWAY"


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dms, "DM_PACE_SECONDS", 0)


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    emulator.add_channel("自己紹介", channel_id=INTRO, members=[emulator.bot_user_id])
    return make_settings(
        emulator.api_url,
        database_url,
        KYOSO_INTRO_CHANNEL=INTRO,
        KYOSO_CONTACTS_PER_MINUTE="6000",
    )


@pytest.fixture
def context(
    settings: Settings, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[JobContext]:
    yield JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=settings.slack_api_url),
        settings=settings,
    )


def _welcomed_member(session_factory: SessionFactory, user_id: str, *, at: datetime) -> None:
    with session_factory.begin() as session:
        session.add(
            Member(
                slack_user_id=user_id,
                status=MemberStatus.ACTIVE,
                is_bot=False,
                joined_at=at,
                welcomed_at=at,
                last_seen_at=at,
                created_at=at,
                updated_at=at,
            )
        )


def test_an_onboarding_reminder_waits_for_a_holiday_status_to_be_cleared(
    context: JobContext,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    joined = datetime(2026, 11, 24, 10, tzinfo=JST)
    emulator.add_user(AWAY, name="away")
    emulator.add_user("U0HERE", name="here")
    emulator.update_user(AWAY, profile={"status_text": "夏季休暇中", "status_emoji": ""})
    for user_id in (AWAY, "U0HERE"):
        _welcomed_member(session_factory, user_id, at=joined)
    job = find_job("onboarding-intro-reminders")

    clock.set(datetime(2026, 12, 5, 10, tzinfo=JST))  # a Saturday: nobody is reminded
    assert job.run(context)["skipped"] == "outside contact hours"
    assert emulator.dm_messages("U0HERE") == []

    clock.set(datetime(2026, 12, 7, 10, tzinfo=JST))  # Monday
    result = job.run(context)
    assert result["reminded"] == 1 and result["postponed"] == 1
    assert emulator.dm_messages(AWAY) == [] and len(emulator.dm_messages("U0HERE")) == 1
    clock.advance(timedelta(hours=1))
    assert job.run(context)["postponed"] == 1  # still on holiday: still due, not dropped
    assert emulator.dm_messages(AWAY) == []

    emulator.update_user(AWAY, profile={"status_text": ""})  # back from holiday
    clock.advance(timedelta(hours=1))
    assert job.run(context)["reminded"] == 1
    assert len(emulator.dm_messages(AWAY)) == 1
    assert job.run(context)["reminded"] == 0  # once only
    assert len(emulator.dm_messages(AWAY)) == 1 and len(emulator.dm_messages("U0HERE")) == 1


def test_an_inactivity_contact_to_a_member_on_holiday_is_postponed_not_dropped(
    context: JobContext,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    long_ago = clock.now() - timedelta(days=400)
    emulator.add_user(AWAY, name="away", email="away@city.example.lg.jp")
    emulator.update_user(AWAY, profile={"status_emoji": ":palm_tree:", "status_text": "旅行"})
    with session_factory.begin() as session:
        member = members.ensure_member(session, clock=FixedClock(long_ago), slack_user_id=AWAY)
        member.last_seen_at = long_ago
        member.email = member.email_normalized = "away@city.example.lg.jp"
    gateway = context.gateway
    assert gateway is not None

    def contact() -> dict[str, object]:
        return runs.send_contacts(gateway.lifecycle, bucket=TokenBucket(60_000, burst=50))

    lifecycle_jobs.sweep(context)
    first = contact()
    assert first["dms"] == 0 and first["deferred"] == 1
    assert not emulator.dm_messages(AWAY)
    with session_factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
    # The status has no expiry: looked at again the next business morning (Wednesday 9:00).
    assert attempt.status is AttemptStatus.PLANNED and attempt.sent_at is None
    assert attempt.due_at == datetime(2026, 11, 25, 9, tzinfo=JST)

    clock.set(datetime(2026, 11, 25, 9, 30, tzinfo=JST))
    emulator.update_user(AWAY, profile={"status_emoji": "", "status_text": ""})
    assert contact()["dms"] == 1
    assert len(emulator.dm_messages(AWAY)) == 1
    assert contact()["dms"] == 0  # never twice
