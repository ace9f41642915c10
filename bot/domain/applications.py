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
    duplicate: PossibleDuplicate | None = None


@dataclass(frozen=True)
class PossibleDuplicate:
    """One person, one account: why the application may be an existing member's."""

    hints: tuple[str, ...]  # DuplicateHint values
    member_user_id: str | None  # the member's Slack user id, mentioned on the card
    member_name: str | None
    previous_email: str | None  # the earlier address the applicant gave


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
