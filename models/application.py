from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class ApplicationStatus(StrEnum):
    PENDING = "pending"  # waiting for the secretariat
    INFO_REQUESTED = "info_requested"  # the secretariat asked for affiliation details
    APPROVED = "approved"  # to be invited (by the admin API or by hand)
    INVITED = "invited"
    JOINED = "joined"  # matched to a Slack member on team_join
    REJECTED = "rejected"
    MOVED = "moved"  # a member's new address: turned into a move of that member


# An address may have at most one application in these states at a time.
OPEN_STATUSES = (
    ApplicationStatus.PENDING,
    ApplicationStatus.INFO_REQUESTED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.INVITED,
)


class ApplicationSource(StrEnum):
    WEB = "web"
    CSV = "csv"


class Application(Base):
    """A request to join the workspace, from the registration page or an imported form."""

    __tablename__ = "applications"
    __table_args__ = (
        Index(
            "uq_applications_open_email",
            "email_normalized",
            unique=True,
            sqlite_where=text("status IN ('pending', 'info_requested', 'approved', 'invited')"),
            postgresql_where=text("status IN ('pending', 'info_requested', 'approved', 'invited')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown to the applicant and in links; the integer id stays internal.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    organisation_code_entered: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    rules_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[ApplicationSource] = mapped_column(str_enum(ApplicationSource))
    status: Mapped[ApplicationStatus] = mapped_column(str_enum(ApplicationStatus), index=True)
    outcome: Mapped[str] = mapped_column(String(32))  # eligibility Outcome value
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    is_reapplication: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_message_ts: Mapped[str | None] = mapped_column(String(32))
    last_reminded_at: Mapped[datetime | None]
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    # One person, one account: the address of an earlier account the applicant gave, and the
    # member the application may duplicate (with why: previous_email, name_prefecture, …).
    previous_email: Mapped[str | None] = mapped_column(String(254))
    existing_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    duplicate_hints: Mapped[list[str]] = mapped_column(default=list, server_default=text("'[]'"))
