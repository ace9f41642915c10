from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class ChannelCategory(StrEnum):
    ALL = "all"  # デジ_all_…: for everyone
    PJ = "pj"  # デジ_pj_…: a policy theme with a facilitating agency
    RE = "re"  # デジ_re_…: a prefecture or region
    OTHER = "other"  # created outside the naming convention


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_channel_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    category: Mapped[ChannelCategory] = mapped_column(str_enum(ChannelCategory))
    purpose: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ChannelStatus] = mapped_column(str_enum(ChannelStatus), index=True)
    is_general: Mapped[bool] = mapped_column(default=False)
    prefecture: Mapped[str | None] = mapped_column(String(8))
    facilitating_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    end_date: Mapped[date | None]
    slack_created_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChannelFacilitator(Base):
    __tablename__ = "channel_facilitators"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]
