from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum


class CycleStatus(StrEnum):
    CONTACTING = "contacting"  # attempts under way
    FLAGGED = "flagged"  # no answer after the last attempt and the grace period
    APPROVED = "approved"  # the secretariat approved deactivation (to do or done)
    DEACTIVATED = "deactivated"
    ANSWERED = "answered"  # activity or "keep my account": the cycle ended
    RESTORED = "restored"  # the secretariat took the member off the flag list


OPEN_CYCLE_STATUSES = (CycleStatus.CONTACTING, CycleStatus.FLAGGED, CycleStatus.APPROVED)


class InactivityCycle(Base):
    """One round of contacting an inactive member; at most one open round per member."""

    __tablename__ = "inactivity_cycles"
    __table_args__ = (
        Index(
            "uq_inactivity_cycles_open_member",
            "member_id",
            unique=True,
            sqlite_where=text("status IN ('contacting', 'flagged', 'approved')"),
            postgresql_where=text("status IN ('contacting', 'flagged', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[CycleStatus] = mapped_column(str_enum(CycleStatus), index=True)
    # The member's last activity when the cycle began: any later activity ends it.
    last_seen_at_start: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(index=True)
    flagged_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(64))


class AttemptStatus(StrEnum):
    PLANNED = "planned"  # recorded before sending, under its unique key
    SENT = "sent"
    FAILED = "failed"  # Slack refused, or the email bounced


class ContactAttempt(Base):
    """A contact recorded before it is sent: a restart neither repeats nor skips anyone."""

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("inactivity_cycles.id", ondelete="CASCADE"), index=True
    )
    # "<cycle id>:<attempt number>": the same attempt can never be recorded twice.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))  # "dm" or "email"
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
