"""Plain data about one member's move, shared by the move use cases and the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models import MoveStatus, SlackEmailState


@dataclass(frozen=True)
class OrganisationChoice:
    """One option of the move form's organisation select."""

    value: str  # "lg:<code>" or "agency:<slug>"
    label: str  # 北海道 札幌市（011002）, デジタル庁


@dataclass(frozen=True)
class MoveSummary:
    """What the secretariat's review message and the member's DMs show of a move."""

    public_id: str
    slack_user_id: str
    status: MoveStatus
    old_organisation: str | None
    new_organisation: str | None
    new_email: str
    department: str | None
    effective_on: date | None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    slack_email_state: SlackEmailState | None = None
    decided_by: str | None = None
