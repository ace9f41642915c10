from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum


class CaseStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"  # a secretary is looking at it
    EDIT_REQUESTED = "edit_requested"  # the author was asked to edit, with a deadline
    DISMISSED = "dismissed"
    WARNED = "warned"
    DELETED = "deleted"  # the message was deleted
    REMOVED = "removed"  # the member was removed (or a to-do to remove them was made)


class CaseSource(StrEnum):
    REPORT = "report"  # a member reported the message
    DETECTOR = "detector"  # マイナンバー or 機密性3 found on posting


class ModerationCase(Base):
    """One case per reported message: further reports of the same message merge into it."""

    __tablename__ = "moderation_cases"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32), index=True)
    # Never the message itself: an excerpt with personal information masked.
    excerpt: Mapped[str] = mapped_column(Text)
    source: Mapped[CaseSource] = mapped_column(str_enum(CaseSource))
    # Finding kinds (detector) or report reasons, most recent last.
    reasons: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    edit_deadline: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]
    alert_channel_id: Mapped[str | None] = mapped_column(String(32))
    alert_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class CaseReport(Base):
    """Who reported, why. Never shown to the reported member."""

    __tablename__ = "case_reports"
    __table_args__ = (UniqueConstraint("case_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"))
    reporter_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)  # masked like the excerpt
    created_at: Mapped[datetime]


class Detection(Base):
    """A detector's finding on a message: kinds only, never the value found."""

    __tablename__ = "detections"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    kinds: Mapped[list[str]] = mapped_column(default=list)
    details: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    # When the poster's warning reached Slack: until then a retry of the event still owes it.
    warned_at: Mapped[datetime | None]
