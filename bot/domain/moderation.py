"""Moderation's plain data: what the use cases return and the views show (no rules here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from models import CaseStatus


class ReportReason(StrEnum):
    """Why a member reports a message (the platform's rules)."""

    SLANDER = "slander"  # slander or harassment
    SPAM = "spam"  # spam, advertising, link-only posts
    PERSONAL_INFORMATION = "personal_information"
    CONFIDENTIAL = "confidential"  # 機密性2/3 information
    REPOSTING = "reposting"  # copying others' posts elsewhere without permission
    OTHER = "other"


class CaseAction(StrEnum):
    """The secretariat's actions that ask for a reason."""

    DISMISS = "dismiss"
    REQUEST_EDIT = "request_edit"
    DELETE = "delete"
    WARN = "warn"
    REMOVE = "remove"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.EDIT_REQUESTED)

# The usage rules a DM to an author can cite (texts in the moderation catalogue).
RULE_KEYS = (
    "slander",
    "ad_or_link_only",
    "personal_information",
    "confidentiality",
    "reposting",
    "general",
)


# --------------------------------------------------------------------------------------
# A case as the secretariat reads it


@dataclass(frozen=True)
class CaseEvent:
    action: str  # the audit action without its "moderation." prefix
    actor: str
    at: datetime
    reason: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Report:
    reporter_id: str
    reason: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class PastCase:
    public_id: str
    created_at: datetime
    status: CaseStatus
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class History:
    total: int
    by_status: dict[str, int]
    recent: tuple[PastCase, ...]


@dataclass(frozen=True)
class CaseItem:
    """A case as its alert in the review channel shows it."""

    public_id: str
    channel_id: str
    author_id: str
    posted_at: datetime | None
    created_at: datetime
    source: str  # CaseSource value
    status: CaseStatus
    excerpt: str  # masked; "" when withheld (機密性3)
    reasons: tuple[tuple[str, int], ...]  # (reason or finding kind, how many reported it)
    report_count: int
    notes: tuple[str, ...]  # reporters' masked notes, without names
    permalink: str | None
    claimed_by: str | None
    edit_deadline: datetime | None
    history: History
    events: tuple[CaseEvent, ...]


@dataclass(frozen=True)
class CaseLine:
    """One case in `/kyoso cases`."""

    public_id: str
    channel_id: str
    author_id: str
    created_at: datetime
    status: CaseStatus
    reasons: tuple[str, ...]
    report_count: int
    earlier_cases: int
    alert_link: str | None


CASES_PAGE_SIZE = 10  # one section per case: far inside 50 blocks


@dataclass(frozen=True)
class CasesPage:
    """A page of `/kyoso cases`: the open cases, or one author's history."""

    lines: tuple[CaseLine, ...]
    author_id: str | None  # whose history; None for the open cases
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class ActionForm:
    """What the modal of a secretariat's action shows before the reason is typed."""

    public_id: str
    action: CaseAction
    author_id: str
    default_rule: str
    edit_deadline: datetime  # if the author were asked to edit now
    edit_days: int


# --------------------------------------------------------------------------------------
# What Slack did after a decision


class Outcome(StrEnum):
    DONE = "done"
    GONE = "gone"  # the message had already been deleted
    MANUAL = "manual"  # the power is not configured: a to-do for the secretariat
    FAILED = "failed"  # Slack refused: a to-do, with Slack's answer


@dataclass(frozen=True)
class EffectResult:
    effect: str  # "dm" | "delete" | "remove"
    outcome: Outcome
    method: str | None = None
    error: str | None = None

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"effect": self.effect, "outcome": self.outcome.value}
        if self.method:
            details["method"] = self.method
        if self.error:
            details["error"] = self.error
        return details


@dataclass(frozen=True)
class DetectorWarning:
    """The poster's ephemeral warning: what was found (kinds, never values) and the rules."""

    kinds: tuple[str, ...]
    rules: tuple[str, ...]
    case_opened: bool
    in_file_name: bool
