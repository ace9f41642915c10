"""Statistics and the dashboard's queues: exact figures on a small, deliberate dataset, and
proof that the number of queries does not grow with the number of members."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.dashboard import QueueKind
from bot.domain.statistics import Headline, Statistics
from bot.services.dashboard import home as dashboard_home
from bot.services.dashboard import queues as dashboard_queues
from bot.services.statistics.figures import compute
from bot.services.statistics.history import history
from bot.services.statistics.members import NEW_MEMBER_WEEKS
from bot.services.statistics.periods import week_key
from bot.services.statistics.snapshots import previous_snapshot, record_snapshot, snapshot_for
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    CaseSource,
    CaseStatus,
    Channel,
    ChannelCategory,
    ChannelFacilitator,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    Detection,
    Member,
    MemberRole,
    MemberStatus,
    ModerationCase,
    Organisation,
    OrganisationKind,
    OrganisationSource,
    Role,
)
from tests.conftest import DEFAULT_NOW

JST = ZoneInfo("Asia/Tokyo")
NOW = DEFAULT_NOW  # Tuesday 2026-11-24 10:00 JST
_ids = itertools.count(1)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def org_id(session: Session, *, code: str | None = None, slug: str | None = None) -> int:
    column = Organisation.code if code else Organisation.slug
    found = session.scalar(select(Organisation.id).where(column == (code or slug)))
    assert found is not None
    return found


def add_member(
    session: Session,
    user_id: str,
    *,
    organisation_id: int | None = None,
    status: MemberStatus = MemberStatus.ACTIVE,
    joined_at: datetime | None = None,
    last_seen_at: datetime | None = None,
    is_bot: bool = False,
    rules_accepted: bool = True,
    roles: tuple[Role, ...] = (),
    updated_at: datetime | None = None,
    real_name: str | None = None,
) -> Member:
    member = Member(
        slack_user_id=user_id,
        organisation_id=organisation_id,
        status=status,
        is_bot=is_bot,
        joined_at=joined_at,
        last_seen_at=last_seen_at,
        rules_version="1" if rules_accepted else None,
        rules_accepted_at=joined_at if rules_accepted else None,
        real_name=real_name,
        created_at=joined_at or ago(days=500),  # when Kyoso first recorded them
        updated_at=updated_at or NOW,
    )
    member.roles = [MemberRole(role=r, granted_at=NOW, granted_by="cli") for r in roles]
    session.add(member)
    session.flush()
    return member


def add_channel(
    session: Session,
    name: str,
    category: ChannelCategory,
    *,
    status: ChannelStatus = ChannelStatus.ACTIVE,
    last_activity_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Channel:
    channel = Channel(
        slack_channel_id=f"C{next(_ids):08d}",
        name=name,
        category=category,
        status=status,
        last_activity_at=last_activity_at,
        created_at=created_at or ago(days=365),
        updated_at=NOW,
    )
    session.add(channel)
    session.flush()
    return channel


def add_case(
    session: Session, status: CaseStatus, created_at: datetime, *, author: str = "U0AUTHOR"
) -> ModerationCase:
    n = next(_ids)
    case = ModerationCase(
        public_id=f"CASE{n:05d}",
        channel_id="C0GENERAL",
        message_ts=f"{n}.000100",
        author_id=author,
        excerpt="…",
        source=CaseSource.REPORT,
        reasons=["spam"],
        status=status,
        created_at=created_at,
        updated_at=created_at,
    )
    session.add(case)
    return case


def add_application(
    session: Session,
    status: ApplicationStatus,
    submitted_at: datetime,
    *,
    decided_at: datetime | None = None,
    name: str = "申請 太郎",
) -> Application:
    n = next(_ids)
    application = Application(
        public_id=f"APP{n:05d}",
        email=f"a{n}@city.example.lg.jp",
        email_normalized=f"a{n}@city.example.lg.jp",
        name=name,
        language="ja",
        rules_version="1",
        source=ApplicationSource.WEB,
        status=status,
        outcome="eligible",
        reasons=[],
        submitted_at=submitted_at,
        decided_at=decided_at,
    )
    session.add(application)
    return application


def add_channel_request(session: Session, created_at: datetime, requester: str) -> None:
    n = next(_ids)
    session.add(
        ChannelRequest(
            public_id=f"REQ{n:05d}",
            requester_id=requester,
            category=ChannelCategory.PJ,
            name=f"デジ_pj_テーマ{n}",
            purpose="目的",
            status=ChannelRequestStatus.PENDING,
            created_at=created_at,
            updated_at=created_at,
        )
    )


@pytest.fixture
def populated(session_factory: SessionFactory) -> None:
    """A small platform whose every figure is known."""
    with session_factory.begin() as session:
        sapporo = org_id(session, code="011002")
        hakodate = org_id(session, code="012025")
        hokkaido = org_id(session, code="010006")
        chiyoda = org_id(session, code="131016")
        tobetsu = org_id(session, code="013030")  # a town
        digital = org_id(session, slug="digital")
        union = Organisation(
            code=None,
            slug="union-test",
            kind=OrganisationKind.UNION,
            name="テスト広域連合",
            prefecture="北海道",
            source=OrganisationSource.MANUAL,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(union)
        session.flush()
        # members (status active): A–F and the union's member U
        add_member(
            session,
            "U0A",
            organisation_id=sapporo,
            joined_at=jst(2026, 11, 21, 9),
            last_seen_at=ago(days=2),
        )
        add_member(
            session,
            "U0B",
            organisation_id=sapporo,
            joined_at=ago(days=100),
            last_seen_at=ago(days=40),
        )
        add_member(session, "U0C", organisation_id=hokkaido, joined_at=jst(2026, 11, 23, 8))
        add_member(
            session,
            "U0D",
            organisation_id=chiyoda,
            joined_at=ago(days=200),
            last_seen_at=ago(days=1),
        )
        add_member(
            session,
            "U0E",
            organisation_id=digital,
            joined_at=ago(days=300),
            last_seen_at=ago(days=29),
        )
        add_member(session, "U0F", joined_at=None, last_seen_at=ago(days=31))
        add_member(session, "U0U", organisation_id=union.id, joined_at=ago(days=50))
        # not members: in the contact cycle, flagged, deactivated, a bot
        add_member(
            session,
            "U0G",
            organisation_id=hakodate,
            status=MemberStatus.INACTIVE,
            joined_at=ago(days=20),
        )
        add_member(
            session,
            "U0H",
            organisation_id=tobetsu,
            status=MemberStatus.FLAGGED,
            joined_at=ago(days=400),
        )
        add_member(
            session,
            "U0I",
            organisation_id=sapporo,
            status=MemberStatus.DEACTIVATED,
            joined_at=ago(days=3),
        )
        add_member(
            session,
            "U0BOT",
            organisation_id=hakodate,
            is_bot=True,
            joined_at=ago(days=1),
            last_seen_at=ago(days=1),
        )

        add_channel(session, "デジ_all_雑談", ChannelCategory.ALL, last_activity_at=ago(days=1))
        add_channel(
            session, "デジ_all_お知らせ", ChannelCategory.ALL, last_activity_at=ago(days=100)
        )
        add_channel(
            session,
            "デジ_all_旧",
            ChannelCategory.ALL,
            status=ChannelStatus.ARCHIVED,
            last_activity_at=ago(days=1),
        )
        add_channel(session, "デジ_pj_子育て", ChannelCategory.PJ, last_activity_at=ago(days=5))
        add_channel(session, "random", ChannelCategory.OTHER, created_at=ago(days=200))
        add_channel(session, "新しい", ChannelCategory.OTHER, created_at=ago(days=10))

        add_case(session, CaseStatus.OPEN, ago(days=5))
        add_case(session, CaseStatus.CLAIMED, ago(days=40))
        add_case(session, CaseStatus.DISMISSED, ago(days=3))
        for days in (1, 2, 45):
            n = next(_ids)
            session.add(
                Detection(
                    channel_id="C1",
                    message_ts=f"{n}.1",
                    user_id="U0A",
                    kinds=["my_number"],
                    created_at=ago(days=days),
                )
            )

        add_application(session, ApplicationStatus.PENDING, ago(days=3))
        add_application(session, ApplicationStatus.PENDING, ago(days=50))
        add_application(session, ApplicationStatus.INFO_REQUESTED, ago(days=10))
        add_application(session, ApplicationStatus.APPROVED, ago(days=8), decided_at=ago(days=5))
        add_application(session, ApplicationStatus.JOINED, ago(days=20), decided_at=ago(days=10))
        add_application(session, ApplicationStatus.REJECTED, ago(days=45), decided_at=ago(days=40))


def _compute(session_factory: SessionFactory) -> Statistics:
    with session_factory() as session:
        return compute(session, now=NOW, zone=JST)


def test_members_are_active_people_only(session_factory: SessionFactory, populated: None) -> None:
    stats = _compute(session_factory)
    assert stats.members == 7  # A–F and U; not inactive, flagged, deactivated or the bot
    assert stats.active_30d == 3  # A (2 days), D (1 day), E (29 days); not B (40) or F (31)
    assert stats.members_by_status == {
        "active": 7,
        "inactive": 1,
        "flagged": 1,
        "deactivated": 1,
        "deleted": 0,
    }
    kinds = {k.kind: (k.members, k.active_30d) for k in stats.members_by_kind}
    assert kinds == {
        "prefecture": (1, 0),
        "city": (2, 1),
        "town": (0, 0),  # the flagged member's town does not count
        "village": (0, 0),
        "special_ward": (1, 1),
        "union": (1, 0),
        "agency": (1, 1),
        "unknown": (1, 0),
    }
    assert [k.kind for k in stats.members_by_kind] == [
        "prefecture",
        "city",
        "town",
        "village",
        "special_ward",
        "union",
        "agency",
        "unknown",
    ]


def test_coverage_counts_the_1788_local_governments(
    session_factory: SessionFactory, populated: None
) -> None:
    stats = _compute(session_factory)
    assert stats.local_governments == 1788
    assert stats.local_governments_covered == 3  # Sapporo, Hokkaido, Chiyoda
    assert stats.municipalities == 1741
    assert stats.municipalities_covered == 2
    assert stats.agencies_covered == 1
    assert stats.agencies >= 30
    assert len(stats.coverage_by_prefecture) == 47
    first, tokyo = stats.coverage_by_prefecture[0], stats.coverage_by_prefecture[12]
    assert (first.code, first.name, first.name_en) == ("01", "北海道", "Hokkaido")
    assert (first.local_governments, first.covered, first.members) == (180, 2, 3)
    assert (tokyo.code, tokyo.name, tokyo.local_governments, tokyo.covered) == (
        "13",
        "東京都",
        63,
        1,
    )
    assert stats.coverage_by_prefecture[-1].name == "沖縄県"
    assert [p.code for p in stats.coverage_by_prefecture] == [f"{n:02d}" for n in range(1, 48)]


def test_new_members_per_week_count_joins_whatever_the_status_now(
    session_factory: SessionFactory, populated: None
) -> None:
    stats = _compute(session_factory)
    weeks = stats.new_members_by_week
    assert len(weeks) == NEW_MEMBER_WEEKS
    assert weeks[-1].week_start == date(2026, 11, 23)  # this week (Monday, JST)
    assert weeks[-2].week_start == date(2026, 11, 16)
    assert all(w.week_start.weekday() == 0 for w in weeks)
    counts = {w.week_start: w.count for w in weeks}
    assert counts[date(2026, 11, 23)] == 1  # C (Monday 08:00 JST)
    assert counts[date(2026, 11, 16)] == 2  # A (Saturday) and I (deactivated since)
    assert counts[date(2026, 11, 2)] == 1  # G (inactive now)
    assert counts[date(2026, 10, 5)] == 1  # U
    assert sum(counts.values()) == 5  # older joins fall before the 12 weeks; bots never count
    assert stats.new_members_7d == 3  # A, C and I; the bot is not a member


def test_channels_by_kind_and_activity(session_factory: SessionFactory, populated: None) -> None:
    channels = {c.category: c for c in _compute(session_factory).channels}
    assert list(channels) == ["all", "pj", "re", "other"]
    assert (channels["all"].active, channels["all"].archived) == (2, 1)
    assert (channels["all"].lively, channels["all"].quiet) == (1, 1)
    assert (channels["pj"].active, channels["pj"].lively, channels["pj"].quiet) == (1, 1, 0)
    assert (channels["re"].active, channels["re"].archived) == (0, 0)
    # never a message: quiet once older than 90 days, not when just created
    assert (channels["other"].active, channels["other"].quiet, channels["other"].lively) == (
        2,
        1,
        0,
    )


def test_moderation_and_application_counts(
    session_factory: SessionFactory, populated: None
) -> None:
    stats = _compute(session_factory)
    assert stats.moderation.open == 2
    assert stats.moderation.opened_30d == 2  # the open one and the dismissed one
    assert stats.moderation.by_status["dismissed"] == 1
    assert stats.moderation.detections_30d == 2
    applications = stats.applications
    assert applications.awaiting_decision == 3
    assert applications.by_status["pending"] == 2
    assert applications.submitted_30d == 4
    assert (applications.approved_30d, applications.rejected_30d) == (2, 0)
    headline = stats.headline
    assert headline == Headline(
        members=7,
        active_30d=3,
        local_governments_covered=3,
        municipalities_covered=2,
        agencies_covered=1,
        channels=5,
        new_members_7d=3,
        open_cases=2,
        applications_awaiting=3,
    )


def test_an_empty_platform(session_factory: SessionFactory) -> None:
    stats = _compute(session_factory)
    assert stats.members == stats.active_30d == stats.local_governments_covered == 0
    assert stats.local_governments == 1788
    assert all(w.count == 0 for w in stats.new_members_by_week)
    assert all(c.active == 0 for c in stats.channels)
    assert stats.moderation.open == 0 and stats.applications.awaiting_decision == 0


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_query_count_does_not_grow_with_members(
    session_factory: SessionFactory, engine: Engine
) -> None:
    def queries() -> int:
        with _counting(engine) as statements:
            _compute(session_factory)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    few = queries()
    with session_factory.begin() as session:
        sapporo = org_id(session, code="011002")
        session.add_all(
            Member(
                slack_user_id=f"U{n:07d}",
                organisation_id=sapporo,
                status=MemberStatus.ACTIVE,
                is_bot=False,
                joined_at=ago(days=n % 120),
                last_seen_at=ago(days=n % 60),
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(500)
        )
    assert queries() == few <= 14


# --- snapshots and history ----------------------------------------------------------------------


def _headline(members: int, active: int) -> Headline:
    return Headline(members, active, 1, 1, 1, 1, 0, 0, 0)


def test_one_snapshot_per_week_and_the_previous_one(session_factory: SessionFactory) -> None:
    clock = FixedClock(jst(2026, 11, 16, 9))  # Monday of last week
    with session_factory.begin() as session:
        assert record_snapshot(session, clock=clock, zone=JST, headline=_headline(100, 40))
        assert not record_snapshot(session, clock=clock, zone=JST, headline=_headline(999, 999))
    clock.set(jst(2026, 11, 23, 9))
    with session_factory.begin() as session:
        assert record_snapshot(session, clock=clock, zone=JST, headline=_headline(120, 45))
    with session_factory() as session:
        assert snapshot_for(session, "2026-W47") == _headline(100, 40)
        assert snapshot_for(session, "2026-W48") == _headline(120, 45)
        previous = previous_snapshot(session, before_week="2026-W48")
        assert previous is not None
        assert previous[0] == jst(2026, 11, 16, 9)
        assert previous[1] == _headline(100, 40)
        assert previous_snapshot(session, before_week="2026-W47") is None


def test_week_keys_follow_jst() -> None:
    # Sunday 23:30 UTC is already Monday in Japan.
    assert week_key(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), JST) == "2026-W48"
    assert week_key(datetime(2026, 11, 22, 14, 30, tzinfo=UTC), JST) == "2026-W47"
    assert week_key(jst(2027, 1, 1, 12), JST) == "2026-W53"


def test_history_uses_snapshots_and_estimates_the_rest(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        sapporo = org_id(session, code="011002")
        for n, days in enumerate((200, 100, 20, 3)):
            add_member(session, f"U0H{n}", organisation_id=sapporo, joined_at=ago(days=days))
        record_snapshot(
            session, clock=FixedClock(jst(2026, 11, 16, 9)), zone=JST, headline=_headline(50, 20)
        )
    with session_factory() as session:
        points = history(session, now=NOW, zone=JST, current=_headline(4, 2), weeks=26)
    assert len(points) == 26  # 25 past weeks and today
    assert points[-1].at == date(2026, 11, 24) and points[-1].members == 4
    assert points[-1].active_30d == 2 and not points[-1].estimated
    last_week = points[-2]
    assert (last_week.at, last_week.members, last_week.active_30d) == (date(2026, 11, 16), 50, 20)
    assert not last_week.estimated
    two_weeks = points[-3]  # from join dates: everyone but the newest had joined by 11/9
    assert (two_weeks.at, two_weeks.members, two_weeks.estimated) == (date(2026, 11, 9), 3, True)
    assert two_weeks.active_30d is None
    assert points[0].members == 1  # only the 200-day member had joined 25 weeks ago


# --- the dashboard's queues ---------------------------------------------------------------------


def test_queues_count_and_age_on_their_tables(
    session_factory: SessionFactory, populated: None
) -> None:
    with session_factory.begin() as session:
        add_channel_request(session, ago(days=4), "U0A")
        add_channel_request(session, ago(days=1), "U0B")
        # stuck: joined a week ago, rules never accepted
        add_member(session, "U0STUCK", joined_at=ago(days=7), rules_accepted=False)
        add_member(session, "U0FRESH", joined_at=ago(hours=5), rules_accepted=False)
    with session_factory() as session:
        queues = {q.kind: q for q in dashboard_queues.queues(session, now=NOW, zone=JST)}
    assert list(queues) == list(QueueKind)
    assert (queues[QueueKind.APPLICATIONS].count, queues[QueueKind.APPLICATIONS].oldest_at) == (
        3,
        ago(days=50),
    )
    assert (
        queues[QueueKind.CHANNEL_REQUESTS].count,
        queues[QueueKind.CHANNEL_REQUESTS].oldest_at,
    ) == (
        2,
        ago(days=4),
    )
    assert (queues[QueueKind.MODERATION].count, queues[QueueKind.MODERATION].oldest_at) == (
        2,
        ago(days=40),
    )
    assert queues[QueueKind.FLAGGED].count == 1
    assert (queues[QueueKind.ONBOARDING].count, queues[QueueKind.ONBOARDING].oldest_at) == (
        1,
        ago(days=7),
    )


def test_empty_queues(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        queues = dashboard_queues.queues(session, now=NOW, zone=JST)
    assert [(q.count, q.oldest_at) for q in queues] == [(0, None)] * 5


def test_queue_pages_are_oldest_first_and_clamped(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        for n in range(45):
            add_application(
                session, ApplicationStatus.PENDING, ago(hours=100 - n), name=f"申請者{n:02d}"
            )
    with session_factory() as session:
        first = dashboard_queues.queue_page(
            session, QueueKind.APPLICATIONS, page=1, now=NOW, zone=JST, language="ja"
        )
        last = dashboard_queues.queue_page(
            session, QueueKind.APPLICATIONS, page=99, now=NOW, zone=JST, language="ja"
        )
        before = dashboard_queues.queue_page(
            session, QueueKind.APPLICATIONS, page=0, now=NOW, zone=JST, language="ja"
        )
    assert (first.total, first.pages, first.page, len(first.items)) == (45, 3, 1, 20)
    assert first.items[0].title == "申請者00" and first.items[-1].title == "申請者19"
    assert (last.page, len(last.items), last.items[-1].title) == (3, 5, "申請者44")
    assert before.page == 1


def test_each_queue_lists_its_items(session_factory: SessionFactory, populated: None) -> None:
    with session_factory.begin() as session:
        add_channel_request(session, ago(days=4), "U0A")
        add_member(
            session, "U0STUCK", joined_at=ago(days=7), rules_accepted=False, real_name="止まった 人"
        )
    with session_factory() as session:
        pages = {
            kind: dashboard_queues.queue_page(
                session, kind, page=1, now=NOW, zone=JST, language="ja"
            )
            for kind in QueueKind
        }
    assert [i.status for i in pages[QueueKind.APPLICATIONS].items] == [
        "pending",
        "info_requested",
        "pending",
    ]
    request = pages[QueueKind.CHANNEL_REQUESTS].items[0]
    assert (request.user_id, request.detail) == ("U0A", "pj")
    case = pages[QueueKind.MODERATION].items[0]
    assert (case.status, case.user_id, case.channel_id, case.title) == (
        "claimed",
        "U0AUTHOR",
        "C0GENERAL",
        "spam",
    )
    flagged = pages[QueueKind.FLAGGED].items[0]
    assert (flagged.user_id, flagged.detail) == ("U0H", "北海道 当別町")
    stuck = pages[QueueKind.ONBOARDING].items[0]
    assert (stuck.user_id, stuck.title) == ("U0STUCK", "止まった 人")
    assert stuck.business_days is not None and stuck.business_days >= 3


def test_member_home_lists_facilitated_channels(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        member = add_member(
            session,
            "U0FAC",
            organisation_id=org_id(session, slug="digital"),
            roles=(Role.FACILITATOR,),
        )
        for n in range(12):
            channel = add_channel(session, f"デジ_pj_{n:02d}", ChannelCategory.PJ)
            session.add(
                ChannelFacilitator(channel_id=channel.id, member_id=member.id, added_at=NOW)
            )
        archived = add_channel(
            session, "デジ_pj_終了", ChannelCategory.PJ, status=ChannelStatus.ARCHIVED
        )
        session.add(ChannelFacilitator(channel_id=archived.id, member_id=member.id, added_at=NOW))
    with session_factory() as session:
        home = dashboard_home.member_home(
            session, "U0FAC", "ja", now=NOW, zone=ZoneInfo("Asia/Tokyo")
        )
        unknown = dashboard_home.member_home(
            session, "U0NOBODY", "ja", now=NOW, zone=ZoneInfo("Asia/Tokyo")
        )
    assert home.facilitated_total == 12
    assert len(home.facilitated) == dashboard_home.FACILITATED_SHOWN
    assert home.facilitated[0].name == "デジ_pj_00"
    assert home.roles == ("facilitator",) and home.organisation == "デジタル庁"
    assert not home.is_secretariat
    assert unknown.status is None and unknown.facilitated_total == 0
