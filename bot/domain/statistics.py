"""The platform's figures as plain data: what bot/services/statistics computes and the
dashboard, the weekly report, its charts and the exports show."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from bot.domain.ambassador_figures import AmbassadorFigures
from bot.domain.transfers import TransferFigures
from models import ApplicationStatus


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


@dataclass(frozen=True)
class HistoryPoint:
    at: date  # the Monday a week starts (the last point: today)
    members: int
    active_30d: int | None  # known only from a weekly snapshot (or today's figures)
    estimated: bool  # members estimated from join dates (no snapshot that week)


@dataclass(frozen=True)
class WeeklyReport:
    """What the weekly report shows: this week's figures, last week's, and the series."""

    week: str  # ISO week in the report's zone, e.g. "2026-W48"
    statistics: Statistics
    current: Headline  # the week's first snapshot: a retry later reports the same figures
    previous: Headline | None
    previous_at: datetime | None
    history: tuple[HistoryPoint, ...]
    transfers: TransferFigures | None = None  # moves and leavers, as of the report
    ambassadors: AmbassadorFigures | None = None  # ambassadors and greetings, as of the report
