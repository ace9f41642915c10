from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum


class RulesVersion(Base):
    """A published version of the usage rules; members accept the latest one."""

    __tablename__ = "rules_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(index=True)
    published_by: Mapped[str] = mapped_column(String(64))


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the server refused it or it bounced


class OutboundEmail(Base):
    """An email recorded before it is sent: a restart neither loses nor repeats it."""

    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Idempotency key, e.g. "application:<public id>:approved".
    key: Mapped[str] = mapped_column(String(128), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[EmailStatus] = mapped_column(str_enum(EmailStatus), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When a PENDING row may be tried (again): after a temporary failure, or while a
    # worker holds its claim. None: at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
