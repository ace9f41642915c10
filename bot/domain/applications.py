"""Plain data about applications that use cases produce and views render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReviewItem:
    public_id: str
    name: str
    email: str
    organisation: str | None  # e.g. "北海道 札幌市（011002）"
    department: str | None
    submitted_at: datetime
    source: str
    outcome: str
    reasons: tuple[str, ...]  # already rendered in the review language
    is_reapplication: bool


@dataclass(frozen=True)
class Decision:
    status: str  # ApplicationStatus value, or "invite_failed"
    actor: str  # Slack user id or "system"
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class ReminderItem:
    name: str
    organisation: str | None
    submitted_at: datetime
    business_days: int
    link: str | None  # permalink of the review message
