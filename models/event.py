from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class InboxStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet processed (or waiting for its next attempt)
    DONE = "done"
    DEAD = "dead"  # failed every attempt: an operator looks at it (`kyoso events failed`)


class InboxEvent(Base):
    """A verified Slack event, recorded before Slack gets its 200 and kept until processed.

    The body is dropped once the event is done: message texts are not kept longer than it
    takes to act on them. The row itself stays a while to recognise Slack's redeliveries."""

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_due", "status", "next_attempt_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[InboxStatus] = mapped_column(str_enum(InboxStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime]
    # Whoever processes the event holds it until then; after a crash the lease runs out and
    # any instance takes the event up again.
    claimed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class ProcessedEvent(Base):
    """Slack event ids already acted on: a retried delivery finds its id here."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(index=True)


class SchedulerLease(Base):
    """A time-limited lease: whoever holds it runs the scheduled jobs."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SeenRequest(Base):
    """Signed commands and interactions already acted on: a replay of the same signed request
    within Slack's 5-minute window finds its key here and has no second effect."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)
