"""Channel jobs with a fixed clock against the Slack emulator: the registry sync pages with
cursors within Tier 2, the dormant round's edge cases, and the request catch-up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import RequestForm, SlackChannel
from bot.services import members
from bot.services.channels import dormancy, facilitation, registry, requests
from bot.settings import Settings
from bot.slack.channels import ChannelsSlack
from bot.slack.channels.base import Pacer
from models import (
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelStatus,
    DormancyOutcome,
    DormancyReview,
    MemberStatus,
    Role,
)
from scheduler import channel_jobs
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator

TIER2_PER_MINUTE = 20
WINDOW = 1.0  # the emulator's "minute", shortened so the test takes about a second


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return make_settings(emulator.api_url, database_url)


@pytest.fixture
def client(emulator: SlackEmulator) -> Iterator[WebClient]:
    yield WebClient(token="xoxb-test", base_url=emulator.api_url)


def _max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_sync_pages_1000_channels_with_cursors_within_tier_2(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    for i in range(1_040):
        emulator.add_channel(f"デジ_{('all', 'pj', 're')[i % 3]}_{i:04d}", is_archived=i % 50 == 0)
    emulator.add_channel("general", channel_id="C0GENERAL", is_general=True)
    emulator.add_channel("秘密", is_private=True)
    # Slack's Tier 2 (about 20 calls a minute), enforced over a one-second "minute".
    emulator.enforce_rate_limit(
        "conversations.list", per_minute=TIER2_PER_MINUTE, window_seconds=WINDOW
    )
    started = time.monotonic()
    result = channel_jobs.sync_registry(
        _channels(session_factory, clock, client, settings),
        page_size=50,
        pace_seconds=WINDOW / TIER2_PER_MINUTE * 1.1,
    )
    elapsed = time.monotonic() - started
    calls = emulator.calls_to("conversations.list")
    # 1,041 public channels (the review channel is private): 21 pages, each after a cursor.
    assert result["pages"] == len(calls) == 21 and result["channels"] == 1_041
    assert result["new"] == 1_041 and "error" not in result
    assert all(c.status == 200 and c.response["ok"] for c in calls)  # never a 429
    assert [bool(c.params.get("cursor")) for c in calls] == [False] + [True] * 20
    assert all(c.params.get("exclude_archived") in ("0", "false", False) for c in calls)
    assert _max_in_window([c.time for c in calls], WINDOW) <= TIER2_PER_MINUTE
    achieved = len(calls) / elapsed * WINDOW
    assert achieved <= TIER2_PER_MINUTE, f"{achieved:.1f} calls per window"
    with session_factory() as session:
        rows = session.scalars(select(Channel)).all()
        archived = [c for c in rows if c.status is ChannelStatus.ARCHIVED]
        general = session.scalars(select(Channel).where(Channel.is_general)).one()
    assert len(rows) == 1_041 and len(archived) == 21 and general.slack_channel_id == "C0GENERAL"
    assert {c.category.value for c in rows} == {"all", "pj", "re", "other"}

    # A second run changes nothing; a channel deleted in Slack is marked archived.
    with emulator.state.lock:
        gone = next(c for c in emulator.state.channels.values() if c["name"] == "デジ_pj_0001")
        del emulator.state.channels[gone["id"]]
    again = channel_jobs.sync_registry(
        _channels(session_factory, clock, client, settings),
        page_size=200,
        pace_seconds=WINDOW / TIER2_PER_MINUTE * 1.1,
    )
    assert again["missing"] == 1 and "new" not in again and again["pages"] == 6
    with session_factory() as session:
        assert registry.get_channel(session, gone["id"]).status is ChannelStatus.ARCHIVED
        synced = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "channels.synced")
        ).all()
    assert len(synced) == 2


def test_without_pacing_the_enforced_limit_refuses(emulator: SlackEmulator) -> None:
    """The limiter the sync test relies on is real: unpaced calls meet 429 and Retry-After."""
    emulator.enforce_rate_limit(
        "conversations.list", per_minute=TIER2_PER_MINUTE, window_seconds=60
    )
    bare = WebClient(token="xoxb-test", base_url=emulator.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as refused:
        for _ in range(TIER2_PER_MINUTE + 1):
            bare.conversations_list(limit=1)
    assert refused.value.response.status_code == 429
    assert int(refused.value.response.headers["Retry-After"]) >= 1


def test_pacer_spaces_calls() -> None:
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(3.0, sleep=sleep, monotonic=lambda: now[0])
    for _ in range(3):
        pacer.wait()
        now[0] += 0.5
    assert slept == [2.5, 2.5]


def test_sync_stops_cleanly_on_a_slack_error(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    for i in range(30):
        emulator.add_channel(f"c{i}")
    emulator.fail("conversations.list", "internal_error", times=5)
    result = channel_jobs.sync_registry(
        _channels(session_factory, clock, client, settings),
        page_size=10,
        pace_seconds=0,
    )
    assert result == {"pages": 0, "channels": 0, "error": "internal_error"}
    with session_factory() as session:
        assert session.scalars(select(Channel)).all() == []  # nothing marked missing


# --- dormancy edge cases -------------------------------------------------------------------------


def _channel(
    session_factory: SessionFactory, clock: FixedClock, channel_id: str, name: str, **kw: object
) -> None:
    with session_factory.begin() as session:
        registry.apply_slack_channel(
            session,
            clock=clock,
            slack_channel=SlackChannel(
                id=channel_id, name=name, created=clock.now() - timedelta(days=365), **kw
            ),
        )


def _secretary(session_factory: SessionFactory, clock: FixedClock) -> None:
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id="U0SEC")
        members.grant_role(
            session, clock=clock, slack_user_id="U0SEC", role=Role.SECRETARIAT, actor="cli"
        )


def _round(
    session_factory: SessionFactory, clock: FixedClock, client: WebClient, settings: Settings
) -> dict[str, object]:
    """The weekly job's function, unpaced for the test."""
    return channel_jobs.dormancy_round(
        _channels(session_factory, clock, client, settings),
        history_pace_seconds=0,
        users_pace_seconds=0,
    )


def _ctx(
    session_factory: SessionFactory, clock: FixedClock, client: WebClient, settings: Settings
) -> JobContext:
    return JobContext.with_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )


def _channels(
    session_factory: SessionFactory, clock: FixedClock, client: WebClient, settings: Settings
) -> ChannelsSlack:
    """The channel adapters, as the composition root builds them."""
    gateway = _ctx(session_factory, clock, client, settings).gateway
    assert gateway is not None
    return gateway.channels


def test_unknown_activity_falls_back_to_history_and_joins_when_needed(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    emulator.add_channel("デジ_all_静か", channel_id="C0OLD", members=["U0X"])
    emulator.add_channel("デジ_all_最近", channel_id="C0NEW", members=["U0X"])
    emulator.add_user("U0X", name="x")
    with emulator.state.lock:
        # A message "yesterday" (wall clock) in C0NEW; C0OLD has none at all.
        emulator.state.messages["C0NEW"].append(
            {
                "type": "message",
                "user": "U0X",
                "ts": f"{clock.now().timestamp() - 86400:.6f}",
                "text": "hi",
            }
        )
    _channel(session_factory, clock, "C0OLD", "デジ_all_静か")
    _channel(session_factory, clock, "C0NEW", "デジ_all_最近")
    result = channel_jobs.dormancy_round(
        _channels(session_factory, clock, client, settings),
        history_pace_seconds=0.01,
    )
    assert result["history_checked"] == 2 and result["asked"] == 1
    assert len(emulator.calls_to("conversations.join")) == 2  # not a member: joined to read
    with session_factory() as session:
        recent = registry.get_channel(session, "C0NEW")
        assert recent.last_activity_at is not None
        reviews = session.scalars(select(DormancyReview)).all()
    assert [svc_channel_id(session_factory, r.channel_id) for r in reviews] == ["C0OLD"]
    # The secretariat is asked (no facilitators) in the review channel.
    assert any("<#C0OLD>" in str(m.get("blocks")) for m in emulator.messages("C0REVIEW"))


def svc_channel_id(session_factory: SessionFactory, channel_pk: int) -> str:
    with session_factory() as session:
        channel = session.get(Channel, channel_pk)
        assert channel is not None
        return channel.slack_channel_id


def test_end_date_kept_channels_and_protected_channels(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    today = clock.now().date()
    _channel(session_factory, clock, "C0ENDED", "デジ_pj_終了")
    _channel(session_factory, clock, "C0GEN", "general", is_general=True)
    _channel(session_factory, clock, "C0REVIEW", "事務局レビュー")
    with session_factory.begin() as session:
        for channel_id in ("C0ENDED", "C0GEN", "C0REVIEW"):
            dormancy.record_activity(
                session, slack_channel_id=channel_id, at=clock.now() - timedelta(days=400)
            )
        registry.get_channel(session, "C0ENDED").end_date = today - timedelta(days=1)
        registry.get_channel(session, "C0ENDED").last_activity_at = clock.now()
    ctx = _ctx(session_factory, clock, client, settings)
    first = find_job("channels-dormancy").run(ctx)
    assert first["asked"] == 1  # the ended channel only: never general nor Kyoso's own
    with session_factory() as session:
        review = session.scalars(select(DormancyReview)).one()
    rendered = str(emulator.messages("C0REVIEW")[-1]["blocks"])
    assert "終了予定日" in rendered
    # Kept by the secretariat: not asked again within the period.
    _secretary(session_factory, clock)
    with session_factory.begin() as session:
        dormancy.decide_review(session, clock=clock, review_id=review.id, actor="U0SEC", keep=True)
    clock.advance(timedelta(days=7))
    assert find_job("channels-dormancy").run(ctx).get("asked", 0) == 0
    clock.advance(timedelta(days=settings.dormant_days))
    assert find_job("channels-dormancy").run(ctx)["asked"] == 1


def test_cant_archive_required_is_explained_and_never_asked_again(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    emulator.add_channel("デジ_all_必須", channel_id="C0REQ", members=[emulator.bot_user_id])
    _channel(session_factory, clock, "C0REQ", "デジ_all_必須")
    with session_factory.begin() as session:
        dormancy.record_activity(
            session, slack_channel_id="C0REQ", at=clock.now() - timedelta(days=200)
        )
    ctx = _ctx(session_factory, clock, client, settings)
    job = find_job("channels-dormancy")
    job.run(ctx)
    clock.advance(timedelta(days=7))
    job.run(ctx)
    clock.advance(timedelta(days=7))
    assert job.run(ctx)["listed"] == 1
    answers = _channels(session_factory, clock, client, settings).answers
    with session_factory() as session:
        review_id = session.scalars(select(DormancyReview.id)).one()
    emulator.fail("conversations.archive", "cant_archive_required")
    result = answers.archive_listed(review_id, "U0SEC")
    assert (result.status, result.error) == ("refused", "cant_archive_required")
    assert answers.archive_listed(review_id, "U0SEC").status == "decided"
    with session_factory() as session:
        assert session.get(DormancyReview, review_id).outcome is DormancyOutcome.KEEP  # type: ignore[union-attr]
        assert "C0REQ" in dormancy.protected_channel_ids(session, ())
    clock.advance(timedelta(days=400))
    assert job.run(ctx).get("asked", 0) == 0


def test_deleted_facilitators_are_reported_once_and_the_secretariat_asked(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    emulator.add_user("U0GONE", name="gone", deleted=True)
    emulator.add_user("U0QUIT", name="quit")
    _channel(session_factory, clock, "C0PJ", "デジ_pj_放置")
    _secretary(session_factory, clock)
    with session_factory.begin() as session:
        facilitation.update_channel(
            session,
            clock=clock,
            slack_channel_id="C0PJ",
            actor="U0SEC",
            purpose="x",
            facilitators=["U0GONE", "U0QUIT"],
            end_date=date(2099, 1, 1),
        )
        members.find(session, "U0QUIT").status = MemberStatus.DELETED  # type: ignore[union-attr]
        dormancy.record_activity(
            session, slack_channel_id="C0PJ", at=clock.now() - timedelta(days=100)
        )
    ctx = _ctx(session_factory, clock, client, settings)
    result = find_job("channels-dormancy").run(ctx)
    assert result["asked"] == 1 and result["left_reported"] == 1
    report = [m for m in emulator.messages("C0REVIEW") if "退会" in str(m.get("blocks"))]
    assert any("<@U0GONE>" in str(m["blocks"]) and "<@U0QUIT>" in str(m["blocks"]) for m in report)
    assert emulator.dm_messages("U0QUIT") == []
    assert find_job("channels-dormancy").run(ctx).get("left_reported", 0) == 0  # once


def test_catch_up_posts_requests_that_never_reached_the_review_channel(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    with session_factory.begin() as session:
        requests.submit_request(
            session,
            clock=clock,
            requester="U0REQ",
            form=RequestForm(
                category=ChannelCategory.ALL,
                suffix="雑談",
                purpose="雑談",
                reason="交流",
            ),
            today=clock.now().date(),
        )
    ctx = _ctx(session_factory, clock, client, settings)
    assert find_job("channels-catch-up").run(ctx) == {"posted": 1, "failed": 0}
    assert find_job("channels-catch-up").run(ctx) == {"posted": 0, "failed": 0}
    assert "デジ_all_雑談" in str(emulator.messages("C0REVIEW")[-1]["blocks"])


def test_channel_settings(emulator: SlackEmulator, database_url: str) -> None:
    from pydantic import ValidationError

    defaults = make_settings(emulator.api_url, database_url)
    assert (defaults.announce_channel, defaults.dormant_days) == (None, 90)
    custom = make_settings(
        emulator.api_url, database_url, KYOSO_ANNOUNCE_CHANNEL="C0ANN", KYOSO_DORMANT_DAYS="30"
    )
    assert (custom.announce_channel, custom.dormant_days) == ("C0ANN", 30)
    for bad in ({"KYOSO_ANNOUNCE_CHANNEL": "#お知らせ"}, {"KYOSO_DORMANT_DAYS": "3"}):
        with pytest.raises(ValidationError):
            make_settings(emulator.api_url, database_url, **bad)


def test_the_dormancy_round_waits_for_business_hours(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
) -> None:
    """Kind hours: on 勤労感謝の日 (a Monday) or at night nobody is asked; the next round in
    business hours asks about the same channel."""
    emulator.add_channel("デジ_all_静か", channel_id="C0OLD", members=["U0X"])
    emulator.add_user("U0X", name="x")
    _channel(session_factory, clock, "C0OLD", "デジ_all_静か")
    for holiday_or_night in (
        datetime(2026, 11, 23, 1, 30, tzinfo=UTC),  # Monday 10:30 JST, a national holiday
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),  # Tuesday 21:00 JST
    ):
        clock.set(holiday_or_night)
        assert _round(session_factory, clock, client, settings) == {
            "skipped": "outside contact hours"
        }
    assert emulator.messages("C0REVIEW") == [] and not emulator.calls_to("conversations.history")
    clock.set(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # Wednesday 10:30 JST
    assert _round(session_factory, clock, client, settings)["asked"] == 1
