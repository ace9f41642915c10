"""Ambassadors (アンバサダー): appointments by prefecture or region for a term, the greeting
card each newcomer gets in the ambassadors' channel, and the questions asked in a
prefecture's デジ_re_ channel (whether someone answered, never their text)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum


class AppointmentStatus(StrEnum):
    ACTIVE = "active"  # appointed; serving from starts_on to ends_on
    ENDED = "ended"  # ended early, by the term's end, or by the member's departure


class AmbassadorAppointment(Base):
    """One ambassador's term for some prefectures or a region; kept after it ends (history)."""

    __tablename__ = "ambassador_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[AppointmentStatus] = mapped_column(str_enum(AppointmentStatus), index=True)
    # Prefecture names (岩手県), as elsewhere; a region appointment lists none of its own.
    prefectures: Mapped[list[str]] = mapped_column(default=list)
    region: Mapped[str | None] = mapped_column(String(32))  # a bot/regions.py key
    starts_on: Mapped[date]
    ends_on: Mapped[date] = mapped_column(index=True)
    appointed_by: Mapped[str] = mapped_column(String(32))
    # Municipalities with a member per prefecture when the term began: coverage change since.
    coverage_at_start: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The secretariat was reminded that the term ends within a month (once per end date).
    reminded_for: Mapped[date | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(String(32))  # ended | term | departure
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GreetingStatus(StrEnum):
    OPEN = "open"  # waiting for an ambassador's 「担当します」
    CLAIMED = "claimed"
    CLOSED = "closed"  # the newcomer left before anyone greeted them


class AmbassadorGreeting(Base):
    """The card a newcomer gets in the ambassadors' channel: one per member, one claim."""

    __tablename__ = "ambassador_greetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[GreetingStatus] = mapped_column(str_enum(GreetingStatus), index=True)
    prefecture: Mapped[str | None] = mapped_column(String(8), index=True)
    mentioned: Mapped[list[str]] = mapped_column(default=list)  # the ambassadors' Slack ids
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    introduced_at: Mapped[datetime | None]  # the newcomer's introduction DM reached Slack
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]  # the secretariat was told nobody claimed it
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class RegionalQuestion(Base):
    """A question posted in a prefecture's デジ_re_ channel: when it was asked and whether
    someone else answered in its thread. No text is kept."""

    __tablename__ = "regional_questions"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    prefecture: Mapped[str | None] = mapped_column(String(8), index=True)
    asked_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
