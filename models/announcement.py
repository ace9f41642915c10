"""Announcements by the secretariat: the message, its audience, and each recipient recorded
before their DM is sent; members' opt-outs of optional categories."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum
from models.lifecycle import AttemptStatus


class AnnouncementCategory(StrEnum):
    RULES = "rules"  # never opted out of
    ACCOUNT = "account"  # never opted out of
    EVENTS = "events"  # optional
    SURVEYS = "surveys"  # optional
    GENERAL = "general"  # optional


OPTIONAL_CATEGORIES = (
    AnnouncementCategory.EVENTS,
    AnnouncementCategory.SURVEYS,
    AnnouncementCategory.GENERAL,
)


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"  # composed, not confirmed
    SENDING = "sending"  # confirmed: recipients staged, DMs going out in kind hours
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[AnnouncementStatus] = mapped_column(str_enum(AnnouncementStatus), index=True)
    category: Mapped[AnnouncementCategory] = mapped_column(str_enum(AnnouncementCategory))
    title: Mapped[str] = mapped_column(String(150))
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    # {"kind": "everyone" | "prefectures" | "organisation_kind" | "roles" | "channel" |
    #  "users", "values": [...]}: what the secretariat picked, kept for the record.
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recipients: Mapped[int] = mapped_column(default=0)  # staged at confirmation
    created_by: Mapped[str] = mapped_column(String(32))
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None]
    progress_channel_id: Mapped[str | None] = mapped_column(String(32))
    progress_ts: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class AnnouncementRecipient(Base):
    """One recipient's DM, recorded before it is sent: never twice, never lost."""

    __tablename__ = "announcement_recipients"
    __table_args__ = (
        UniqueConstraint("announcement_id", "member_id"),
        Index(
            "ix_announcement_recipients_planned_due",
            "due_at",
            sqlite_where=text("status = 'planned'"),
            postgresql_where=text("status = 'planned'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign keys: staged by one INSERT … SELECT for an announcement just confirmed, from
    # members (never deleted, only reduced); a key checked per row would cost a third of the
    # staging (see SeasonContact). Indexed by the unique constraint it leads.
    announcement_id: Mapped[int]
    member_id: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # set when claimed: in flight since then
    error: Mapped[str | None] = mapped_column(Text)


class MessageOptOut(Base):
    """A member does not want announcements of an optional category."""

    __tablename__ = "message_opt_outs"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[AnnouncementCategory] = mapped_column(
        str_enum(AnnouncementCategory), primary_key=True
    )
    created_at: Mapped[datetime]
