"""What the App Home shows, as plain data: a member's own record, the secretariat's queues
(a summary each, and a list read a page at a time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.ambassador_figures import AmbassadorFigures
from bot.domain.ambassadors import AmbassadorSection
from bot.domain.secretariat_guests import GuestList
from bot.domain.statistics import Statistics
from bot.domain.transfers import MemberTransfers, TransferFigures


class QueueKind(StrEnum):
    APPLICATIONS = "applications"
    CHANNEL_REQUESTS = "channel_requests"
    MODERATION = "moderation"
    FLAGGED = "flagged"  # members flagged for deletion, awaiting the secretariat's approval
    ONBOARDING = "onboarding"  # joined 3 business days ago or more, rules not accepted


@dataclass(frozen=True)
class QueueSummary:
    kind: QueueKind
    count: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class QueueItem:
    reference: str  # a public id, or the member's Slack user id
    title: str  # may be member-supplied: escape before it goes into mrkdwn
    at: datetime  # what the item's age counts from
    detail: str | None = None  # organisation, channel kind …
    status: str | None = None  # the row's status value
    user_id: str | None = None  # the member concerned (applicant has none yet)
    channel_id: str | None = None  # the channel a case is about
    last_seen_at: datetime | None = None  # flagged members
    business_days: int | None = None  # stuck onboardings


@dataclass(frozen=True)
class QueuePage:
    kind: QueueKind
    items: tuple[QueueItem, ...]
    total: int
    page: int  # 1-based
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class FacilitatedChannel:
    slack_channel_id: str
    name: str


@dataclass(frozen=True)
class MemberHome:
    user_id: str
    status: str | None  # a MemberStatus value; None when Kyoso has no record
    organisation: str | None = None
    department: str | None = None
    roles: tuple[str, ...] = ()
    joined_at: datetime | None = None
    rules_state: str | None = None  # onboarding.RulesState value
    facilitated: tuple[FacilitatedChannel, ...] = ()
    facilitated_total: int = 0
    transfers: MemberTransfers = field(default_factory=MemberTransfers)

    @property
    def is_secretariat(self) -> bool:
        return "secretariat" in self.roles


@dataclass(frozen=True)
class HomePage:
    """A member's Home tab; for the secretariat, with the dashboard above their own page."""

    member: MemberHome
    queues: tuple[QueueSummary, ...] = ()
    statistics: Statistics | None = None  # None: not the secretariat
    transfers: TransferFigures | None = None  # the secretariat's figures on people moving
    ambassadors: AmbassadorFigures | None = None  # the secretariat's figures on ambassadors
    ambassador: AmbassadorSection | None = None  # their prefectures, while serving
    guests: GuestList | None = None  # the secretariat's list of guests and Slack Connect users
