"""What an affiliation check (所属確認が必要) shows and what the secretariat's decision on it
returns: plain data for the review card and the listeners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from models import CheckStatus


class CheckAction(StrEnum):
    """The secretariat's buttons on a check."""

    ASK = "ask"  # a DM asks the member to run /kyoso move or answer the secretariat
    KEEP = "keep"  # the member stays as they are
    DEACTIVATE = "deactivate"  # onto the lifecycle flag list: the approval there decides


@dataclass(frozen=True)
class CheckCard:
    public_id: str
    slack_user_id: str
    member_name: str | None
    organisation: str | None  # the member's organisation, now unverified
    old_domain: str | None
    new_domain: str | None
    outcome: str | None  # AddressOutcome value: review | refused
    reasons: tuple[dict[str, Any], ...]
    status: CheckStatus
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class CheckDecision:
    public_id: str
    slack_user_id: str | None  # None: no such check
    status: CheckStatus | None  # what the check is now
    decided_before: bool = False  # a double click or another secretary: nothing changed
