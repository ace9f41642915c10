"""The platform at a glance, from SQL aggregates (GROUP BY, COUNT … FILTER), never a Python
loop over members.

Who counts as a member:
- **Members** are people (not bots) whose status is `active`. Every stock figure — the member
  total, members by organisation type, coverage of local governments and agencies, active
  members in the last 30 days — counts only them.
- Members in the inactivity contact cycle (`inactive`) and those flagged for deletion
  (`flagged`) are still in the workspace but are not counted as members: they appear only in
  the breakdown by status, so the secretariat sees how many are on their way out.
  `deactivated` and `deleted` accounts appear there too and nowhere else.
- **New members per week** is a flow: everyone (not a bot) who joined that week, whatever
  their status today, so that a past week's figure does not shrink when someone leaves later.
  A member Kyoso never saw join (installed into a live workspace) counts from the day Kyoso
  first recorded them.
- **Active in the last 30 days**: a member whose `last_seen_at` (messages, reactions, App Home
  opens… as the activity recorder sees them) falls in the 30 days before now.

Coverage is counted against the shipped master data: the 1,788 local governments (47
prefectures, 792 cities, 743 towns, 183 villages, 23 special wards; unions hold a code but
are not among them) and the agencies. An organisation is covered when at least one member
(as above) belongs to it.

Weekly snapshots of the headline figures are kept in the audit log (one entry per ISO week,
written by the weekly report), so the report can show the change since last week and the
chart can show active members over time without a table of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import audit
from models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    CaseStatus,
    Channel,
    ChannelCategory,
    ChannelStatus,
    Detection,
    Member,
    MemberStatus,
    ModerationCase,
    Organisation,
    OrganisationKind,
)

ACTIVE_WINDOW = timedelta(days=30)
RECENT_WINDOW = timedelta(days=30)  # "in the last 30 days" for cases, applications, channels
QUIET_CHANNEL_AFTER = timedelta(days=90)
NEW_MEMBER_WEEKS = 12
HISTORY_WEEKS = 26

LOCAL_GOVERNMENT_KINDS = (
    OrganisationKind.PREFECTURE,
    OrganisationKind.CITY,
    OrganisationKind.TOWN,
    OrganisationKind.VILLAGE,
    OrganisationKind.SPECIAL_WARD,
)
MUNICIPALITY_KINDS = LOCAL_GOVERNMENT_KINDS[1:]
# Members by organisation type, in this order; "unknown" is a member without an organisation.
KIND_ORDER = (*LOCAL_GOVERNMENT_KINDS, OrganisationKind.UNION, OrganisationKind.AGENCY)
UNKNOWN_KIND = "unknown"
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.EDIT_REQUESTED)
CLOSED_CASE_STATUSES = tuple(s for s in CaseStatus if s not in OPEN_CASE_STATUSES)

SNAPSHOT_ACTION = "statistics.weekly_snapshot"
SNAPSHOT_TARGET = "report"


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindCount:
    kind: str  # an OrganisationKind value, or "unknown"
    members: int
    active_30d: int


@dataclass(frozen=True)
class PrefectureCoverage:
    code: str  # JIS X 0401: "01" (北海道) … "47" (沖縄県)
    name: str  # 北海道, 東京都 …
    name_en: str | None
    local_governments: int  # the prefecture itself and its municipalities
    covered: int  # of those, how many have at least one member
    members: int

    @property
    def rate(self) -> float:
        return self.covered / self.local_governments if self.local_governments else 0.0


@dataclass(frozen=True)
class WeekCount:
    week_start: date  # a Monday, in the report's time zone
    count: int


@dataclass(frozen=True)
class ChannelKindStats:
    category: str  # a ChannelCategory value
    active: int
    archived: int
    lively: int  # active channels with a message in the last 30 days
    quiet: int  # active channels with none for 90 days (or never)


@dataclass(frozen=True)
class ModerationStats:
    open: int
    opened_30d: int
    by_status: dict[str, int]  # every CaseStatus value
    detections_30d: int


@dataclass(frozen=True)
class ApplicationStats:
    by_status: dict[str, int]  # every ApplicationStatus value
    submitted_30d: int
    approved_30d: int
    rejected_30d: int

    @property
    def awaiting_decision(self) -> int:
        return (
            self.by_status[ApplicationStatus.PENDING]
            + self.by_status[ApplicationStatus.INFO_REQUESTED]
        )


@dataclass(frozen=True)
class Headline:
    """The figures the weekly report compares with last week's; stored as a snapshot."""

    members: int
    active_30d: int
    local_governments_covered: int
    municipalities_covered: int
    agencies_covered: int
    channels: int
    new_members_7d: int
    open_cases: int
    applications_awaiting: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Headline:
        """Tolerant of snapshots written by older versions: a missing figure reads as 0."""
        return cls(**{f.name: int(data.get(f.name) or 0) for f in fields(cls)})


@dataclass(frozen=True)
class Statistics:
    generated_at: datetime
    members: int
    active_30d: int
    members_by_status: dict[str, int]  # every MemberStatus value, bots excluded
    members_by_kind: tuple[KindCount, ...]  # KIND_ORDER, then "unknown"
    local_governments: int
    local_governments_covered: int
    municipalities: int
    municipalities_covered: int
    agencies: int
    agencies_covered: int
    coverage_by_prefecture: tuple[PrefectureCoverage, ...]  # by JIS code
    new_members_by_week: tuple[WeekCount, ...]  # oldest first; the last is the current week
    new_members_7d: int
    channels: tuple[ChannelKindStats, ...]  # every ChannelCategory
    moderation: ModerationStats
    applications: ApplicationStats

    @property
    def active_channels(self) -> int:
        return sum(c.active for c in self.channels)

    @property
    def headline(self) -> Headline:
        return Headline(
            members=self.members,
            active_30d=self.active_30d,
            local_governments_covered=self.local_governments_covered,
            municipalities_covered=self.municipalities_covered,
            agencies_covered=self.agencies_covered,
            channels=self.active_channels,
            new_members_7d=self.new_members_7d,
            open_cases=self.moderation.open,
            applications_awaiting=self.applications.awaiting_decision,
        )


# --- time -------------------------------------------------------------------------------------


def week_start(at: datetime, zone: ZoneInfo) -> date:
    """The Monday of `at`'s week in `zone`."""
    day = at.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` in `zone`, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_key(at: datetime, zone: ZoneInfo) -> str:
    """ISO week in `zone`, e.g. "2026-W48": one weekly report and snapshot per key."""
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


# --- the aggregates -----------------------------------------------------------------------------


def _member() -> ColumnElement[bool]:
    """A member, as counted: a person whose status is active."""
    return and_(Member.status == MemberStatus.ACTIVE, Member.is_bot.is_(False))


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.count().filter(condition)


def _joined() -> Any:
    # Members Kyoso never saw join count from when it first recorded them.
    return func.coalesce(Member.joined_at, Member.created_at)


def compute(session: Session, *, now: datetime, zone: ZoneInfo) -> Statistics:
    """All figures, in a dozen aggregate queries whatever the number of members."""
    active_since = now - ACTIVE_WINDOW
    recent_since = now - RECENT_WINDOW

    by_status = dict.fromkeys((s.value for s in MemberStatus), 0)
    for status, count in session.execute(
        select(Member.status, func.count()).where(Member.is_bot.is_(False)).group_by(Member.status)
    ):
        by_status[MemberStatus(status).value] = count

    kinds: dict[str, KindCount] = {}
    for kind, count, active in session.execute(
        select(
            Organisation.kind,
            func.count(),
            _count_if(Member.last_seen_at >= active_since),
        )
        .select_from(Member)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(_member())
        .group_by(Organisation.kind)
    ):
        key = OrganisationKind(kind).value if kind is not None else UNKNOWN_KIND
        kinds[key] = KindCount(key, count, active)
    members_by_kind = tuple(
        kinds.get(key, KindCount(key, 0, 0))
        for key in (*(k.value for k in KIND_ORDER), UNKNOWN_KIND)
    )

    prefectures, municipalities = _coverage(session)
    agencies, agencies_covered = _agency_coverage(session)
    weeks = _new_members_by_week(session, now=now, zone=zone)
    new_7d = session.scalar(
        select(func.count()).where(Member.is_bot.is_(False), _joined() >= now - timedelta(days=7))
    )

    return Statistics(
        generated_at=now,
        members=sum(k.members for k in members_by_kind),
        active_30d=sum(k.active_30d for k in members_by_kind),
        members_by_status=by_status,
        members_by_kind=members_by_kind,
        local_governments=sum(p.local_governments for p in prefectures),
        local_governments_covered=sum(p.covered for p in prefectures),
        municipalities=municipalities[0],
        municipalities_covered=municipalities[1],
        agencies=agencies,
        agencies_covered=agencies_covered,
        coverage_by_prefecture=prefectures,
        new_members_by_week=weeks,
        new_members_7d=new_7d or 0,
        channels=_channels(session, now=now),
        moderation=_moderation(session, since=recent_since),
        applications=_applications(session, since=recent_since),
    )


def _members_per_organisation() -> Any:
    return (
        select(Member.organisation_id.label("organisation_id"), func.count().label("members"))
        .where(_member(), Member.organisation_id.is_not(None))
        .group_by(Member.organisation_id)
        .subquery("members_per_organisation")
    )


def _coverage(session: Session) -> tuple[tuple[PrefectureCoverage, ...], tuple[int, int]]:
    """Per prefecture: local governments, how many have a member, members; and municipalities."""
    per_org = _members_per_organisation()
    is_municipality = Organisation.kind.in_(MUNICIPALITY_KINDS)
    rows = session.execute(
        select(
            Organisation.prefecture,
            func.min(func.substr(Organisation.code, 1, 2)),
            func.max(Organisation.name_en).filter(Organisation.kind == OrganisationKind.PREFECTURE),
            func.count(Organisation.id),
            func.count(per_org.c.organisation_id),
            func.coalesce(func.sum(per_org.c.members), 0),
            _count_if(is_municipality),
            func.count(per_org.c.organisation_id).filter(is_municipality),
        )
        .select_from(Organisation)
        .outerjoin(per_org, per_org.c.organisation_id == Organisation.id)
        .where(Organisation.kind.in_(LOCAL_GOVERNMENT_KINDS), Organisation.prefecture.is_not(None))
        .group_by(Organisation.prefecture)
        .order_by(func.min(Organisation.code))
    ).all()
    prefectures = tuple(
        PrefectureCoverage(
            code=code or "",
            name=name,
            name_en=name_en,
            local_governments=total,
            covered=covered,
            members=int(members),
        )
        for name, code, name_en, total, covered, members, _, _ in rows
    )
    municipalities = (sum(r[6] for r in rows), sum(r[7] for r in rows))
    return prefectures, municipalities


def _agency_coverage(session: Session) -> tuple[int, int]:
    per_org = _members_per_organisation()
    row = session.execute(
        select(func.count(Organisation.id), func.count(per_org.c.organisation_id))
        .select_from(Organisation)
        .outerjoin(per_org, per_org.c.organisation_id == Organisation.id)
        .where(Organisation.kind == OrganisationKind.AGENCY)
    ).one()
    return row[0], row[1]


def _week_starts(now: datetime, zone: ZoneInfo, weeks: int) -> list[date]:
    current = week_start(now, zone)
    return [current - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _new_members_by_week(
    session: Session, *, now: datetime, zone: ZoneInfo, weeks: int = NEW_MEMBER_WEEKS
) -> tuple[WeekCount, ...]:
    starts = _week_starts(now, zone, weeks)
    bounds = [start_of(day, zone) for day in starts] + [now]
    joined = _joined()
    columns = [
        _count_if(and_(joined >= bounds[i], joined < bounds[i + 1])).label(f"w{i}")
        for i in range(weeks)
    ]
    row = session.execute(
        select(*columns).where(Member.is_bot.is_(False), joined >= bounds[0], joined < now)
    ).one()
    return tuple(WeekCount(day, row[i]) for i, day in enumerate(starts))


def _channels(session: Session, *, now: datetime) -> tuple[ChannelKindStats, ...]:
    active = Channel.status == ChannelStatus.ACTIVE
    # A channel without any message seen is as quiet as its age.
    last = func.coalesce(Channel.last_activity_at, Channel.slack_created_at, Channel.created_at)
    found: dict[str, ChannelKindStats] = {}
    for category, n_active, n_archived, lively, quiet in session.execute(
        select(
            Channel.category,
            _count_if(active),
            _count_if(Channel.status == ChannelStatus.ARCHIVED),
            _count_if(and_(active, Channel.last_activity_at >= now - RECENT_WINDOW)),
            _count_if(and_(active, last < now - QUIET_CHANNEL_AFTER)),
        ).group_by(Channel.category)
    ):
        key = ChannelCategory(category).value
        found[key] = ChannelKindStats(key, n_active, n_archived, lively, quiet)
    return tuple(found.get(c.value, ChannelKindStats(c.value, 0, 0, 0, 0)) for c in ChannelCategory)


def _moderation(session: Session, *, since: datetime) -> ModerationStats:
    by_status = dict.fromkeys((s.value for s in CaseStatus), 0)
    opened = 0
    for status, count, recent in session.execute(
        select(
            ModerationCase.status,
            func.count(),
            _count_if(ModerationCase.created_at >= since),
        ).group_by(ModerationCase.status)
    ):
        by_status[CaseStatus(status).value] = count
        opened += recent
    detections = session.scalar(
        select(func.count()).select_from(Detection).where(Detection.created_at >= since)
    )
    return ModerationStats(
        open=sum(by_status[s.value] for s in OPEN_CASE_STATUSES),
        opened_30d=opened,
        by_status=by_status,
        detections_30d=detections or 0,
    )


def _applications(session: Session, *, since: datetime) -> ApplicationStats:
    by_status = dict.fromkeys((s.value for s in ApplicationStatus), 0)
    submitted = approved = rejected = 0
    decided_recently = Application.decided_at >= since
    for status, count, n_submitted, n_decided in session.execute(
        select(
            Application.status,
            func.count(),
            _count_if(Application.submitted_at >= since),
            _count_if(decided_recently),
        ).group_by(Application.status)
    ):
        value = ApplicationStatus(status)
        by_status[value.value] = count
        submitted += n_submitted
        if value is ApplicationStatus.REJECTED:
            rejected += n_decided
        elif value in (
            ApplicationStatus.APPROVED,
            ApplicationStatus.INVITED,
            ApplicationStatus.JOINED,
        ):
            approved += n_decided
    return ApplicationStats(
        by_status=by_status,
        submitted_30d=submitted,
        approved_30d=approved,
        rejected_30d=rejected,
    )


# --- over time ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    at: date  # the Monday a week starts (the last point: today)
    members: int
    active_30d: int | None  # known only from a weekly snapshot (or today's figures)
    estimated: bool  # members estimated from join dates (no snapshot that week)


def member_estimates(
    session: Session, *, now: datetime, zone: ZoneInfo, weeks: int = HISTORY_WEEKS
) -> list[tuple[date, int]]:
    """Today's members by the week they had joined by: an estimate for weeks with no snapshot
    (members who have left since are not known to it)."""
    starts = _week_starts(now, zone, weeks)
    joined = _joined()
    columns = [
        _count_if(joined < start_of(day, zone)).label(f"w{i}") for i, day in enumerate(starts)
    ]
    row = session.execute(select(*columns).where(_member())).one()
    return [(day, row[i]) for i, day in enumerate(starts)]


def history(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    current: Headline,
    weeks: int = HISTORY_WEEKS,
) -> list[HistoryPoint]:
    """Members and active members week by week: snapshots where the weekly report recorded
    them, estimates from join dates elsewhere, and today's figures as the last point."""
    recorded = {
        week_start(at, zone): headline
        for at, headline in snapshots(
            session, since=start_of(_week_starts(now, zone, weeks)[0], zone)
        )
    }
    this_week = week_start(now, zone)
    points = []
    for day, estimate in member_estimates(session, now=now, zone=zone, weeks=weeks):
        if day == this_week:
            continue  # today's figures stand for this week
        snapshot = recorded.get(day)
        if snapshot is not None:
            points.append(HistoryPoint(day, snapshot.members, snapshot.active_30d, False))
        else:
            points.append(HistoryPoint(day, estimate, None, True))
    today = now.astimezone(zone).date()
    points.append(HistoryPoint(today, current.members, current.active_30d, False))
    return points


# --- snapshots (the audit log) ----------------------------------------------------------------


def record_snapshot(session: Session, *, clock: Clock, zone: ZoneInfo, headline: Headline) -> bool:
    """Keep this week's headline figures once; False when this week already has a snapshot."""
    key = week_key(clock.now(), zone)
    if snapshot_for(session, key) is not None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=SNAPSHOT_ACTION,
        target_type=SNAPSHOT_TARGET,
        target_id=key,
        details=headline.to_dict(),
    )
    session.flush()
    return True


def snapshot_for(session: Session, key: str) -> Headline | None:
    details = session.scalar(
        select(AuditEntry.details)
        .where(
            AuditEntry.action == SNAPSHOT_ACTION,
            AuditEntry.target_type == SNAPSHOT_TARGET,
            AuditEntry.target_id == key,
        )
        .order_by(AuditEntry.id)
        .limit(1)
    )
    return Headline.from_dict(details) if details is not None else None


def snapshots(session: Session, *, since: datetime) -> list[tuple[datetime, Headline]]:
    """Snapshots taken since `since`, oldest first."""
    rows = session.execute(
        select(AuditEntry.occurred_at, AuditEntry.details)
        .where(AuditEntry.action == SNAPSHOT_ACTION, AuditEntry.occurred_at >= since)
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return [(at, Headline.from_dict(details or {})) for at, details in rows]


def previous_snapshot(session: Session, *, before_week: str) -> tuple[datetime, Headline] | None:
    """The latest snapshot of an earlier week (normally last week's)."""
    row = session.execute(
        select(AuditEntry.occurred_at, AuditEntry.details)
        .where(
            AuditEntry.action == SNAPSHOT_ACTION,
            AuditEntry.target_type == SNAPSHOT_TARGET,
            AuditEntry.target_id < before_week,
        )
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], Headline.from_dict(row[1] or {})
