"""People move: a member's change of organisation (a move), a change seen in Slack that needs
the secretariat (an affiliation check), the yearly 異動 season's survey, and leavers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, str_enum
from models.lifecycle import AttemptStatus


class MoveStatus(StrEnum):
    AWAITING = "awaiting"  # a one-time link and code went to the new address
    REVIEW = "review"  # eligibility wants a person: the secretariat decides
    SCHEDULED = "scheduled"  # confirmed, applied on its effective date (still the open move)
    CONFIRMED = "confirmed"  # applied: organisation and address changed, same Slack user
    REFUSED = "refused"  # not eligible (or refused by the secretariat): nothing changed
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the link was never used


OPEN_MOVE_STATUSES = (MoveStatus.AWAITING, MoveStatus.REVIEW, MoveStatus.SCHEDULED)


class MoveSource(StrEnum):
    COMMAND = "command"  # /kyoso move
    HOME = "home"  # the App Home button
    SURVEY = "survey"  # the season survey's "moving" button
    APPLICATION = "application"  # an application from a member's new address
    SLACK = "slack"  # a new address seen in Slack, found eligible


class SlackEmailState(StrEnum):
    """Where the Slack profile's address stands after a confirmed move."""

    UNCHANGED = "unchanged"  # the address did not change
    SCIM_CHANGED = "scim_changed"  # Kyoso changed it through SCIM
    INSTRUCTED = "instructed"  # the member was told how; Kyoso waits to see it in Slack
    SEEN = "seen"  # Slack shows the new address
    TODO = "todo"  # never seen in time: a to-do for the secretariat


class MoveNotice(StrEnum):
    """The "applied" DM of a move the scheduler applied on its effective date."""

    DUE = "due"  # applied: the member is still to be told
    CLAIMED = "claimed"  # a run is telling them
    SENT = "sent"


class AffiliationMove(Base):
    """One member's change of organisation and address, from request to Slack's profile."""

    __tablename__ = "affiliation_moves"
    __table_args__ = (
        Index(
            "uq_affiliation_moves_open_member",
            "member_id",
            unique=True,
            sqlite_where=text("status IN ('awaiting', 'review', 'scheduled')"),
            postgresql_where=text("status IN ('awaiting', 'review', 'scheduled')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[MoveStatus] = mapped_column(str_enum(MoveStatus), index=True)
    source: Mapped[MoveSource] = mapped_column(str_enum(MoveSource))
    old_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    old_email: Mapped[str | None] = mapped_column(String(254))
    new_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    new_email: Mapped[str | None] = mapped_column(String(254))
    new_email_normalized: Mapped[str | None] = mapped_column(String(254), index=True)
    new_department: Mapped[str | None] = mapped_column(String(200))
    effective_on: Mapped[date | None]
    # 00:00 of effective_on in KYOSO_TIMEZONE: a move confirmed before it is SCHEDULED.
    effective_at: Mapped[datetime | None] = mapped_column(index=True)
    applied_notice: Mapped[MoveNotice | None] = mapped_column(str_enum(MoveNotice))
    # Hashes only: the link's token and the short code typed in Slack.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(32))  # eligibility Outcome value
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    slack_email_state: Mapped[SlackEmailState | None] = mapped_column(str_enum(SlackEmailState))
    slack_email_due_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_message_ts: Mapped[str | None] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]


class CheckStatus(StrEnum):
    OPEN = "open"  # waiting for the secretariat
    ASKED = "asked"  # the secretariat asked the member
    KEPT = "kept"  # the secretariat keeps the member as they are
    DEACTIVATING = "deactivating"  # the secretariat started deactivation (lifecycle flag)
    RESOLVED = "resolved"  # a move was confirmed, or Slack shows an eligible address again


OPEN_CHECK_STATUSES = (CheckStatus.OPEN, CheckStatus.ASKED)


class AffiliationCheck(Base):
    """所属確認が必要: Slack shows an address eligibility does not accept for this member."""

    __tablename__ = "affiliation_checks"
    __table_args__ = (
        Index(
            "uq_affiliation_checks_open_member",
            "member_id",
            unique=True,
            sqlite_where=text("status IN ('open', 'asked')"),
            postgresql_where=text("status IN ('open', 'asked')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[CheckStatus] = mapped_column(str_enum(CheckStatus), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    old_email: Mapped[str | None] = mapped_column(String(254))
    new_email: Mapped[str | None] = mapped_column(String(254))
    outcome: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_message_ts: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class SeasonContactKind(StrEnum):
    SURVEY = "survey"  # mid-March: 「4月に所属の変更はありますか」
    REMINDER = "reminder"  # after April 1: a move said, not confirmed


class SeasonContact(Base):
    """A season DM recorded before it is sent, once per season, kind and member: never twice,
    never lost. Staged for every member at once, so it carries only the index the sender reads
    by (a planned contact by due time) and the one that keeps it unique."""

    __tablename__ = "season_contacts"
    __table_args__ = (
        UniqueConstraint("season", "kind", "member_id"),
        Index(
            "ix_season_contacts_planned_due",
            "due_at",
            sqlite_where=text("status = 'planned'"),
            postgresql_where=text("status = 'planned'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    season: Mapped[int]  # the year of the April it asks about
    kind: Mapped[SeasonContactKind] = mapped_column(str_enum(SeasonContactKind))
    # No foreign key: rows are staged by one INSERT … SELECT from members (the member exists
    # by construction, and members are never deleted, only reduced), and a key checked per
    # row would cost a third of staging 100,000 members.
    member_id: Mapped[int]
    # "season:<year>:<kind>:<member id>": the DM's block id, found again after a crash.
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # set when claimed: in flight since then
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class SeasonAnswerKind(StrEnum):
    NO_CHANGE = "no_change"
    MOVING = "moving"
    LEAVING = "leaving"


class SeasonAnswer(Base):
    """A member's answer to the season's question; the latest answer counts."""

    __tablename__ = "season_answers"

    season: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[SeasonAnswerKind] = mapped_column(str_enum(SeasonAnswerKind))
    effective_on: Mapped[date | None]
    answered_at: Mapped[datetime]


class DepartureStatus(StrEnum):
    SCHEDULED = "scheduled"  # a last day is set; hand-over and goodbye before it
    DONE = "done"  # deactivated on the last day
    TODO = "todo"  # no power to deactivate: a to-do for the secretariat
    CANCELLED = "cancelled"


class KnowledgeChoice(StrEnum):
    ATTRIBUTED = "attributed"  # entries keep the member's name
    ANONYMOUS = "anonymous"


class Departure(Base):
    """A member leaving public service: their last day, their hand-over, their deactivation."""

    __tablename__ = "departures"
    __table_args__ = (
        Index(
            "uq_departures_scheduled_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'scheduled'"),
            postgresql_where=text("status = 'scheduled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[DepartureStatus] = mapped_column(str_enum(DepartureStatus), index=True)
    last_day: Mapped[date] = mapped_column(index=True)
    knowledge: Mapped[KnowledgeChoice] = mapped_column(str_enum(KnowledgeChoice))
    # The member themself, or the secretary who approved it.
    requested_by: Mapped[str] = mapped_column(String(32))
    handed_over_at: Mapped[datetime | None]
    goodbye_claimed_at: Mapped[datetime | None]
    goodbye_sent_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    deactivation_via: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class HandoverKind(StrEnum):
    CHANNEL = "channel"  # a channel the leaver facilitates (target: Slack channel id)
    REQUEST = "request"  # an open channel request (target: its public id)
    CASE = "case"  # a moderation case the leaver claimed (target: its public id)
    ROLE = "role"  # a role that ends with the departure (target: the role)


class Handover(Base):
    """事務引継: one thing the leaver hands on, to a successor or (None) to the secretariat."""

    __tablename__ = "departure_handovers"
    __table_args__ = (UniqueConstraint("departure_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(
        ForeignKey("departures.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[HandoverKind] = mapped_column(str_enum(HandoverKind))
    target: Mapped[str] = mapped_column(String(64))
    successor_id: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None]
