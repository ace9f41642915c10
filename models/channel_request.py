from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum
from models.channel import ChannelCategory


class ChannelRequestStatus(StrEnum):
    PENDING = "pending"
    RETURNED = "returned"  # sent back to the requester for changes
    APPROVED = "approved"  # provisioning under way (or to be resumed)
    PROVISIONED = "provisioned"  # created, purpose set, members invited, announced
    REJECTED = "rejected"


class ChannelRequest(Base):
    """A member's request for a new channel, and how far its provisioning got."""

    __tablename__ = "channel_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    requester_id: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[ChannelCategory] = mapped_column(str_enum(ChannelCategory))
    name: Mapped[str] = mapped_column(String(80))  # the full name, prefix included
    purpose: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prefecture: Mapped[str | None] = mapped_column(String(8))
    facilitating_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    facilitator_ids: Mapped[list[str]] = mapped_column(default=list)
    end_date: Mapped[date | None]
    status: Mapped[ChannelRequestStatus] = mapped_column(str_enum(ChannelRequestStatus), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_message_ts: Mapped[str | None] = mapped_column(String(32))
    # Provisioning steps done so far: a retry completes what is missing, never repeats.
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    purpose_set_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    welcomed_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class DormancyOutcome(StrEnum):
    ASKED = "asked"
    KEEP = "keep"
    ARCHIVE = "archive"  # the facilitators agreed; listed for the secretariat
    LISTED = "listed"  # no answer after the reminder; listed for the secretariat
    ARCHIVED = "archived"


class DormancyReview(Base):
    """One round of "is this channel still needed?" for a quiet or finished channel."""

    __tablename__ = "dormancy_reviews"
    __table_args__ = (UniqueConstraint("channel_id", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    started_on: Mapped[date]
    outcome: Mapped[DormancyOutcome] = mapped_column(str_enum(DormancyOutcome), index=True)
    asked_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    listed_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ChannelSummary(Base):
    """A message a facilitator pinned and recorded as the channel's summary."""

    __tablename__ = "channel_summaries"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    message_ts: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
