from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum
from models.organisation import Organisation


class MemberStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # in the contact cycle for inactivity
    FLAGGED = "flagged"  # flagged for deletion, awaiting the secretariat
    DEACTIVATED = "deactivated"
    DELETED = "deleted"


class GuestKind(StrEnum):
    """Who is in the workspace without being a member of the platform (Slack's user flags)."""

    MULTI_CHANNEL = "multi_channel"  # is_restricted
    SINGLE_CHANNEL = "single_channel"  # is_ultra_restricted
    EXTERNAL = "external"  # another organisation's user through Slack Connect


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    FACILITATOR = "facilitator"
    AMBASSADOR = "ambassador"


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # NFKC + trimmed + lowercased: one account per address.
    email_normalized: Mapped[str | None] = mapped_column(String(254), unique=True)
    real_name: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus), index=True)
    # The member's chosen language; None means "follow Slack's locale".
    locale: Mapped[str | None] = mapped_column(String(8))
    is_bot: Mapped[bool] = mapped_column(default=False)
    # A guest or a Slack Connect user: never contacted, swept or counted as a member.
    guest_kind: Mapped[GuestKind | None] = mapped_column(str_enum(GuestKind))
    joined_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None] = mapped_column(index=True)
    rules_version: Mapped[str | None] = mapped_column(String(32))
    rules_accepted_at: Mapped[datetime | None]
    # Onboarding: each nudge is sent once, so each has its own "done" instant.
    welcomed_at: Mapped[datetime | None]  # Slack accepted the welcome DM
    # The welcome DM in flight (recorded before it is sent) and, when Slack refused it for
    # good (the member cannot be DMed), why.
    welcome_claimed_at: Mapped[datetime | None]
    welcome_error: Mapped[str | None] = mapped_column(String(500))
    introduced_at: Mapped[datetime | None]
    intro_reminded_at: Mapped[datetime | None]
    profile_nudged_at: Mapped[datetime | None]
    # Account lifecycle: last login from team.accessLogs (paid plans), exemption from the
    # inactivity sweep, and when personal data was reduced after deactivation.
    last_login_at: Mapped[datetime | None]
    inactivity_exempt: Mapped[bool] = mapped_column(default=False, server_default=false())
    deactivated_at: Mapped[datetime | None]
    personal_data_reduced_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    roles: Mapped[list[MemberRole]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )

    def has_role(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)


class MemberRole(Base):
    __tablename__ = "member_roles"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role), primary_key=True)
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship(back_populates="roles")
