"""Plain data about leavers: what the leaving form shows, what it submits, and what a
scheduled departure will do on the last day. Shared by the use cases and the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from models import HandoverKind, KnowledgeChoice

# The departure runs from the end of business on the last day, in KYOSO_TIMEZONE; a last
# day that is not a business day still ends that day, at the same time.
END_OF_BUSINESS = clock_time(17, 30)
# A last day may be set up to a year ahead.
LAST_DAY_HORIZON = timedelta(days=365)
# Channels shown with their own successor picker; the rest share one. The modal stays far
# below Block Kit's 100 blocks (each picker is one input block).
CHANNEL_PICKERS = 20


def ends_at(last_day: date, zone: ZoneInfo) -> datetime:
    """When the departure is carried out: the end of business on the last day."""
    return datetime.combine(last_day, END_OF_BUSINESS, tzinfo=zone)


@dataclass(frozen=True)
class FacilitatedChannel:
    slack_channel_id: str
    name: str


@dataclass(frozen=True)
class CurrentPlan:
    """A scheduled departure the form shows again, to change it."""

    public_id: str
    last_day: date
    knowledge: KnowledgeChoice
    successors: dict[tuple[HandoverKind, str], str | None]


@dataclass(frozen=True)
class LeavingForm:
    """What the member hands on: the leaving form's content."""

    slack_user_id: str
    channels: tuple[FacilitatedChannel, ...]
    requests: tuple[str, ...]  # open channel requests' names
    cases: tuple[str, ...]  # claimed moderation cases' public ids
    roles: tuple[str, ...]  # roles that end with the departure
    knowledge_entries: int
    current: CurrentPlan | None = None


@dataclass(frozen=True)
class DeparturePlan:
    """What the leaving form submitted; a successor None means the secretariat."""

    last_day: date | None
    knowledge: KnowledgeChoice
    channel_successors: dict[str, str | None] = field(default_factory=dict)
    other_channels_successor: str | None = None
    requests_successor: str | None = None
    cases_successor: str | None = None


class DepartureInvalid(Exception):
    """The form cannot be accepted as it is; nothing was stored. `problems` maps a field
    ("last_day", "channel:<id>", "other_channels", "requests", "cases") to a problem code."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in problems.items()))
        self.problems = problems


class NotYours(Exception):
    """Only the member themself or the secretariat may do that; nothing changed."""


class UnknownDeparture(LookupError):
    pass


class TooLate(Exception):
    """The last day has ended: the departure is being carried out and cannot change."""


@dataclass(frozen=True)
class HandoverLine:
    kind: HandoverKind
    label: str  # a channel id, a request's name, a case's public id or a role
    successor: str | None  # None: the secretariat


@dataclass(frozen=True)
class DepartureSummary:
    """A departure as the member's confirmation and the secretariat's messages show it."""

    public_id: str
    slack_user_id: str
    last_day: date
    ends_at: datetime
    knowledge: KnowledgeChoice
    knowledge_entries: int
    handovers: tuple[HandoverLine, ...]
    requested_by: str
    status: str
    changed: bool = False  # an earlier scheduled departure was changed
    unchanged: bool = False  # a second identical submission: nothing was written
