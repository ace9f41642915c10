"""The daily sweep: end rounds that have an answer, stage rounds for the newly inactive, copy
email results back and flag rounds without an answer.

Each step is one statement over all members: the sweep stages 100,000 members within 2 s on
SQLite and PostgreSQL (bench/lifecycle.py). It only stages rounds; the first contact of each
is recorded by the sender in chunks just ahead of sending (contacts go out at ~40 a minute,
so recording 70,000 at once would only write rows that wait for days)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.lifecycle import EndReason
from bot.i18n import Language, t
from bot.services import audit
from bot.services.lifecycle import planner_statistics
from bot.services.lifecycle.policy import (
    DM,
    DM_ATTEMPT,
    EMAIL,
    LAST_ATTEMPT,
    THANKS,
    THANKS_WINDOW,
    Policy,
)
from bot.services.lifecycle.rounds import (
    at,
    count,
    cycle_member_active_since_start,
    drop_unsent_attempts,
    exempt_by_flag,
    exempt_by_relation,
    exempt_members,
    last_sign_of_life,
    one_set,
    outbox_key_of_attempt,
    plan,
)
from models import (
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    ContactAttempt,
    CycleStatus,
    EmailStatus,
    InactivityCycle,
    Member,
    MemberStatus,
    OutboundEmail,
)


@dataclass(frozen=True)
class SweepResult:
    ended_by_activity: int = 0
    ended_exempt: int = 0
    started: int = 0
    thanks_planned: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    flagged: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return any(self.as_dict().values())

    def summary(self, language: Language) -> str:
        return t(
            "lifecycle.summary.sweep",
            language,
            started=self.started,
            ended=self.ended_by_activity + self.ended_exempt,
            flagged=self.flagged,
            emails_sent=self.emails_sent,
            emails_failed=self.emails_failed,
        )


def daily_sweep(session: Session, *, clock: Clock, policy: Policy) -> SweepResult:
    """The daily run; each step is one statement over all members (on PostgreSQL, after
    collecting the statistics their plans need if there are none)."""
    now = clock.now()
    planner_statistics.collect_missing(session)
    ended = end_on_activity(session, now=now)
    exempted = end_for_exempt(session, now=now)
    started = start_cycles(session, now=now, policy=policy)
    thanks = plan_thanks(session, now=now)
    sent, failed = reconcile_emails(session, now=now)
    flagged = flag_due(session, now=now, policy=policy)
    drop_unsent_attempts(session)
    sync_member_status(session, now=now)
    result = SweepResult(
        ended_by_activity=ended,
        ended_exempt=exempted,
        started=started,
        thanks_planned=thanks,
        emails_sent=sent,
        emails_failed=failed,
        flagged=flagged,
    )
    if result.changed:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="lifecycle.swept",
            target_type="lifecycle",
            target_id=now.date().isoformat(),
            details={**result.as_dict(), "inactive_days": policy.inactive_days},
        )
    return result


def catch_up(session: Session, *, now: datetime) -> None:
    """What a contact run does first, so that nobody active since the sweep is contacted:
    end answered rounds, plan thank-yous, copy email results back."""
    end_on_activity(session, now=now)
    end_for_exempt(session, now=now)
    plan_thanks(session, now=now)
    reconcile_emails(session, now=now)
    drop_unsent_attempts(session)
    sync_member_status(session, now=now)


def start_cycles(session: Session, *, now: datetime, policy: Policy) -> int:
    """INSERT … SELECT a contacting round for every active, non-exempt member with no sign
    of life since the cutoff and no round that is open or ended since then."""
    cutoff = now - timedelta(days=policy.inactive_days)
    last = last_sign_of_life()
    # Members to skip, exempt or busy, as one NOT IN (SELECT … UNION ALL …), not correlated
    # NOT EXISTS: both engines read the set once, before the insert, into a hash. A join the
    # planner may turn into a loop per member does not hold up: with statistics missing or
    # taken while the table was empty, PostgreSQL scanned inactivity_cycles once per member
    # while this very statement filled it (measured: 7 s for 20,000 members instead of
    # 0.1 s). Every member_id is NOT NULL, so NOT IN is exact.
    busy = select(InactivityCycle.member_id).where(
        or_(
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
            InactivityCycle.ended_at >= cutoff,
        )
    )
    skipped = Member.id.in_(one_set([*exempt_by_relation(), busy]))
    candidates = select(
        Member.id,
        literal(CycleStatus.CONTACTING, InactivityCycle.status.type),
        last,
        at(now),
    ).where(
        Member.status == MemberStatus.ACTIVE,
        last < at(cutoff),
        ~exempt_by_flag(),
        ~skipped,
    )
    statement = (
        insert_for(session)(InactivityCycle)
        .from_select(["member_id", "status", "last_seen_at_start", "started_at"], candidates)
        # The partial unique index keeps one open round per member even if two sweeps race.
        # Named as the only arbiter: PostgreSQL then checks it alone before each row, not
        # the primary key too (which the sequence keeps free of conflicts).
        .on_conflict_do_nothing(index_elements=["member_id"], index_where=open_round_index())
    )
    return count(session, statement)


def open_round_index() -> Any:
    """The one-open-round index's predicate, verbatim: PostgreSQL matches an ON CONFLICT
    target to a partial index by its constants, which a bound parameter is not."""
    indexes = InactivityCycle.metadata.tables[InactivityCycle.__tablename__].indexes
    index = next(i for i in indexes if i.name == "uq_inactivity_cycles_open_member")
    return index.dialect_options["postgresql"]["where"]


def plan_thanks(session: Session, *, now: datetime) -> int:
    """A thank-you DM for rounds that activity ended after the member had been contacted."""
    # Sent (or in flight): sent_at is set. Not "status = sent": SQLite would then pick the
    # status index over cycle_id's and scan every sent attempt for each round.
    contacted = exists().where(
        ContactAttempt.cycle_id == InactivityCycle.id,
        ContactAttempt.number >= DM_ATTEMPT,
        ContactAttempt.sent_at.is_not(None),
    )
    return plan(
        session,
        number=THANKS,
        channel=DM,
        due=now,
        now=now,
        where=[
            InactivityCycle.status == CycleStatus.ANSWERED,
            InactivityCycle.end_reason == EndReason.ACTIVITY.value,
            InactivityCycle.ended_at >= now - THANKS_WINDOW,
            contacted,
        ],
    )


def end_on_activity(session: Session, *, now: datetime) -> int:
    """Open rounds whose member was seen (or logged in) after the round began: answered."""
    return count(
        session,
        update(InactivityCycle)
        .where(InactivityCycle.status.in_(OPEN_CYCLE_STATUSES), cycle_member_active_since_start())
        .values(status=CycleStatus.ANSWERED, ended_at=now, end_reason=EndReason.ACTIVITY.value),
    )


def end_for_exempt(session: Session, *, now: datetime) -> int:
    """Open rounds of members who became exempt (a role, a facilitator, the exempt list, a
    last day scheduled, an appointment, a guest account)."""
    # IN over the few exempt ids, not a check of each open round's member.
    return count(
        session,
        update(InactivityCycle)
        .where(
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
            InactivityCycle.member_id.in_(exempt_members()),
        )
        .values(status=CycleStatus.RESTORED, ended_at=now, end_reason=EndReason.EXEMPT.value),
    )


def reconcile_emails(session: Session, *, now: datetime) -> tuple[int, int]:
    """Copy the outbox's result to email attempts: sent, or refused by the server (bounce).

    Only attempts already due can be in the outbox: the many planned for later are skipped
    without a look-up."""
    pending = and_(
        ContactAttempt.channel == EMAIL,
        ContactAttempt.status == AttemptStatus.PLANNED,
        ContactAttempt.due_at <= at(now),
    )

    def settle(result: EmailStatus, to: AttemptStatus, column: str, source: Any) -> int:
        """Attempts whose email ended as `result`: `to`, with `column` copied from the outbox."""
        # UPDATE … FROM: one look-up of the outbox per attempt (the key is unique), where a
        # filter and a value each as a subquery took two.
        return count(
            session,
            update(ContactAttempt)
            .where(pending, OutboundEmail.key == outbox_key_of_attempt())
            .where(OutboundEmail.status == result)
            .values({"status": to, column: source}),
        )

    sent = settle(EmailStatus.SENT, AttemptStatus.SENT, "sent_at", OutboundEmail.sent_at)
    failed = settle(EmailStatus.FAILED, AttemptStatus.FAILED, "error", OutboundEmail.last_error)
    return sent, failed


def flag_due(session: Session, *, now: datetime, policy: Policy) -> int:
    """Contacting rounds whose last attempt is done (sent or failed) since the grace period."""
    cutoff = now - timedelta(days=policy.grace_days)
    last_done = exists().where(
        ContactAttempt.cycle_id == InactivityCycle.id,
        ContactAttempt.number == LAST_ATTEMPT,
        ContactAttempt.status.in_((AttemptStatus.SENT, AttemptStatus.FAILED)),
        func.coalesce(ContactAttempt.sent_at, ContactAttempt.due_at) <= at(cutoff),
    )
    return count(
        session,
        update(InactivityCycle)
        .where(InactivityCycle.status == CycleStatus.CONTACTING, last_done)
        .values(status=CycleStatus.FLAGGED, flagged_at=now),
    )


def sync_member_status(session: Session, *, now: datetime) -> None:
    """members.status follows the open round: flagged or approved → flagged, none → active
    (`inactive` is set when the member is contacted, see `contacts.settle`). Deactivated and
    deleted members are left alone."""

    def cycle_in(*statuses: CycleStatus) -> ColumnElement[bool]:
        # IN (SELECT …), not a correlated EXISTS: SQLite would otherwise walk the status
        # index once per member (quadratic); this way it builds the set once.
        return Member.id.in_(
            select(InactivityCycle.member_id).where(InactivityCycle.status.in_(statuses))
        )

    def set_status(where: Sequence[ColumnElement[bool]], status: MemberStatus) -> None:
        session.execute(
            update(Member)
            .where(*where)
            .values(status=status, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    set_status(
        [
            Member.status.in_((MemberStatus.ACTIVE, MemberStatus.INACTIVE)),
            cycle_in(CycleStatus.FLAGGED, CycleStatus.APPROVED),
        ],
        MemberStatus.FLAGGED,
    )
    set_status(
        [
            Member.status.in_((MemberStatus.INACTIVE, MemberStatus.FLAGGED)),
            ~cycle_in(*OPEN_CYCLE_STATUSES),
        ],
        MemberStatus.ACTIVE,
    )
