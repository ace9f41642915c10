"""What the account lifecycle's use cases return and its views show: the secretariat's flagged
list, the outcome of an approval, the member's answer to "keep my account", and the terms a
message quotes. Plain data, no Slack, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models import CycleStatus

# Flagged members listed and approved at a time: 20 rows with the header, notes and buttons
# stay well under Slack's 50 blocks per message.
BATCH_SIZE = 20


class EndReason(StrEnum):
    """Why a round ended (`inactivity_cycles.end_reason`)."""

    ACTIVITY = "activity"
    KEEP = "keep"
    EXEMPT = "exempt"
    RESTORED = "restored"
    DEACTIVATED_SCIM = "deactivated_scim"
    DEACTIVATED_ADMIN_API = "deactivated_admin_api"
    DEACTIVATED_IN_SLACK = "deactivated_in_slack"


class KeepAnswer(StrEnum):
    """What the member who pressed "keep my account" is told."""

    KEPT = "kept"  # the round ended with this click
    ALREADY = "already"  # a double click, or activity ended it first
    CLOSED = "closed"  # not their round, no such round, or the account is deactivated


@dataclass(frozen=True)
class ContactTerms:
    """The waits a contact DM and email quote (days)."""

    inactive_days: int
    email_after_days: int
    grace_days: int


@dataclass(frozen=True)
class ListTerms:
    """The waits the secretariat's flagged list quotes (days)."""

    inactive_days: int
    grace_days: int


@dataclass(frozen=True)
class Overview:
    contacting: int
    flagged: int
    approved: int  # approved, awaiting deactivation (by hand without an admin token)
    exempt: int


@dataclass(frozen=True)
class FlaggedMember:
    cycle_id: int
    slack_user_id: str
    name: str | None
    email: str | None
    organisation: str | None
    department: str | None
    status: CycleStatus
    last_active: datetime | None
    started_at: datetime
    flagged_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    dm_failed: bool
    email_failed: bool


@dataclass(frozen=True)
class FlaggedBatch:
    """The counts and the first batch of flagged members: what every list shows."""

    overview: Overview
    batch: list[FlaggedMember]


@dataclass(frozen=True)
class DecidedRound:
    """A round the secretariat decided (approved or restored)."""

    cycle_id: int
    slack_user_id: str
    name: str | None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a click on "restore" did: restored the round, or found it decided by someone
    else first (`decided_before`: the status they set), or neither (no such round)."""

    restored: DecidedRound | None = None
    decided_before: str | None = None


@dataclass
class ApprovalOutcome:
    approved: list[DecidedRound]
    deactivated: dict[EndReason, list[str]]  # how → Slack user IDs
    to_do: list[str]  # no power to deactivate: the secretariat does it in the admin pages
    failed: dict[str, str]  # Slack user ID → Slack's refusal (also to do by hand)
