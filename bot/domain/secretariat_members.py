"""The secretariat's member look-up as plain data: a page of matches and one member's card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Block Kit keeps a message to 50 blocks: a page of matches stays well inside it.
PAGE_SIZE = 10


@dataclass(frozen=True)
class MemberLine:
    slack_user_id: str
    name: str | None
    organisation: str | None
    status: str


@dataclass(frozen=True)
class MemberPage:
    query: str
    lines: tuple[MemberLine, ...]
    offset: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.lines) < self.total


@dataclass(frozen=True)
class ApplicationSummary:
    public_id: str
    name: str
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


@dataclass(frozen=True)
class CaseSummary:
    count: int
    latest_public_id: str | None
    latest_status: str | None
    latest_at: datetime | None


@dataclass(frozen=True)
class AuditLine:
    occurred_at: datetime
    actor: str
    action: str


@dataclass(frozen=True)
class MemberCard:
    slack_user_id: str
    real_name: str | None
    display_name: str | None
    email: str | None
    organisation: str | None
    status: str
    roles: tuple[str, ...]
    joined_at: datetime | None
    last_seen_at: datetime | None
    rules_version: str | None
    rules_accepted_at: datetime | None
    inactivity_exempt: bool
    application: ApplicationSummary | None
    cases: CaseSummary
    # The open inactivity round, if any: its id (the restore button's) and status.
    cycle_id: int | None
    cycle_status: str | None
    restorable: bool
    audit: tuple[AuditLine, ...]
