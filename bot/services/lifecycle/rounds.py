"""What every step of a round shares: the SQL building blocks of the set-based statements,
recording planned attempts, and what follows when one member's round ends.

Everything that touches many members is one set-based statement (`INSERT … SELECT`,
`UPDATE … WHERE …`): nothing loops per member."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    String,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import ReturnTypeFromArgs

from bot.db import insert_for
from bot.domain.lifecycle import EndReason
from bot.services.lifecycle.policy import DM_ATTEMPT, EXEMPT_ROLES, OUTBOX_PREFIX, SLACKBOT, THANKS
from models import (
    OPEN_CYCLE_STATUSES,
    AmbassadorAppointment,
    AppointmentStatus,
    AttemptStatus,
    ChannelFacilitator,
    ContactAttempt,
    CycleStatus,
    Departure,
    DepartureStatus,
    InactivityCycle,
    Member,
    MemberRole,
    MemberStatus,
    OutboundEmail,
)
from models.base import UtcDateTime


class UnknownCycle(LookupError):
    """No such round, or not this member's."""


class greatest(ReturnTypeFromArgs[datetime]):
    """GREATEST(a, b, …): PostgreSQL's function; SQLite's multi-argument max()."""

    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


def last_sign_of_life() -> ColumnElement[datetime]:
    """The latest of activity seen, last login, joining, and when Kyoso first knew the
    member (a floor: installing Kyoso into a live workspace must not flag everyone)."""
    created = Member.created_at
    return greatest(
        func.coalesce(Member.last_seen_at, created),
        func.coalesce(Member.last_login_at, created),
        func.coalesce(Member.joined_at, created),
        created,
    )


def at(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UtcDateTime())


def exempt_by_flag() -> ColumnElement[bool]:
    """Exemptions on the member's own row: bots, Slackbot, the exempt list, guests and Slack
    Connect users (who are no members)."""
    return or_(
        Member.is_bot.is_(True),
        Member.slack_user_id == SLACKBOT,
        Member.inactivity_exempt.is_(True),
        Member.guest_kind.is_not(None),
    )


def exempt_by_relation() -> list[Select[int]]:
    """Members exempt by a row elsewhere: secretariat and facilitators by role, channels'
    facilitators, leavers with a scheduled last day (not asked whether they are still here),
    ambassadors whose appointment has not ended (serving or yet to start)."""
    return [
        select(MemberRole.member_id).where(MemberRole.role.in_(EXEMPT_ROLES)),
        select(ChannelFacilitator.member_id),
        select(Departure.member_id).where(Departure.status == DepartureStatus.SCHEDULED),
        select(AmbassadorAppointment.member_id).where(
            AmbassadorAppointment.status == AppointmentStatus.ACTIVE
        ),
    ]


def one_set(selects: Sequence[Select[int]]) -> CompoundSelect[int]:
    """Member ids from several tables as one UNION ALL: `IN`/`NOT IN` over it reads them
    once into a hash (PostgreSQL's hashed SubPlan, SQLite's ephemeral index). A correlated
    EXISTS per table is planned per member instead: without statistics PostgreSQL probed
    channel_facilitators once for each of 68,000 members."""
    return union_all(*selects)


def exempt_members() -> CompoundSelect[int]:
    """Every exempt member's id (by flag or by relation): a small set."""
    return one_set([select(Member.id).where(exempt_by_flag()), *exempt_by_relation()])


def cycle_member_active_since_start() -> ColumnElement[bool]:
    return exists().where(
        Member.id == InactivityCycle.member_id,
        or_(
            Member.last_seen_at > InactivityCycle.last_seen_at_start,
            Member.last_login_at > InactivityCycle.last_seen_at_start,
        ),
    )


def key_expression(number: int) -> ColumnElement[str]:
    suffix = ":thanks" if number == THANKS else f":{number}"
    return cast(InactivityCycle.id, String(32)).concat(suffix)


def outbox_key_of_attempt() -> ColumnElement[str]:
    return literal(OUTBOX_PREFIX, String(16)).concat(ContactAttempt.key)


def queued_in_outbox() -> ColumnElement[bool]:
    return select(OutboundEmail.id).where(OutboundEmail.key == outbox_key_of_attempt()).exists()


def count(session: Session, statement: Any) -> int:
    """Rows a statement changed (psycopg needs to be asked to keep an INSERT's count)."""
    result = session.execute(
        statement.execution_options(preserve_rowcount=True, synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return max(0, result.rowcount)


def plan(
    session: Session,
    *,
    number: int,
    channel: str,
    due: datetime,
    now: datetime,
    where: Sequence[ColumnElement[bool]],
    limit: int | None = None,
) -> int:
    """Record attempt `number` for the rounds `where` selects (once: the key is unique)."""
    rows = select(
        InactivityCycle.id,
        key_expression(number),
        literal(number, Integer()),
        literal(channel, String(16)),
        literal(AttemptStatus.PLANNED, ContactAttempt.status.type),
        at(due),
        at(now),
    ).where(*where)
    if limit is not None:
        rows = rows.order_by(InactivityCycle.id).limit(limit)
    statement = (
        insert_for(session)(ContactAttempt)
        .from_select(
            ["cycle_id", "key", "number", "channel", "status", "due_at", "created_at"], rows
        )
        .on_conflict_do_nothing()
    )
    return count(session, statement)


def drop_unsent_attempts(session: Session) -> int:
    """Planned contacts of rounds that ended before they went out are no longer needed
    (claimed DMs stay until their fate is known; queued emails until the outbox reports)."""
    ended = exists().where(
        InactivityCycle.id == ContactAttempt.cycle_id,
        InactivityCycle.status != CycleStatus.CONTACTING,
    )
    return count(
        session,
        delete(ContactAttempt).where(
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            ContactAttempt.number >= DM_ATTEMPT,
            ended,
            ~queued_in_outbox(),
        ),
    )


def end_open_round(
    session: Session, member: Member, *, status: CycleStatus, reason: EndReason, now: datetime
) -> None:
    """End the member's open round, if there is one, as `status` for `reason`."""
    session.execute(
        update(InactivityCycle)
        .where(
            InactivityCycle.member_id == member.id,
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
        )
        .values(status=status, ended_at=now, end_reason=reason.value)
        .execution_options(synchronize_session=False)
    )


def end_member_round(session: Session, member: Member, now: datetime) -> None:
    """After one member's round ended: their status and unsent attempts follow."""
    session.flush()
    drop_unsent_attempts(session)
    if member.status in (MemberStatus.INACTIVE, MemberStatus.FLAGGED):
        open_round = session.scalar(
            select(InactivityCycle.id).where(
                InactivityCycle.member_id == member.id,
                InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
            )
        )
        if open_round is None:
            member.status = MemberStatus.ACTIVE
            member.updated_at = now
