"""Account lifecycle: inactive members are contacted, flagged, approved and deactivated.

The platform's terms: an account that has not been used for a period may be deleted when
the member cannot be contacted. One round of that is an `InactivityCycle`:

    active ──sweep──▶ contacting ──DM, then email, then grace──▶ flagged ──secretariat──▶
    approved ──SCIM / admin API / by hand──▶ deactivated

and any activity, a "keep my account" click, an exemption or the secretariat's restore ends
a round early. `members.status` follows the round: `inactive` once the member has been
contacted, `flagged` while flagged or approved, `active` again when the round ends.

Everything that touches many members is one set-based statement (`INSERT … SELECT`,
`UPDATE … WHERE …`): the daily sweep stages 100,000 members within 2 s on SQLite and
PostgreSQL (bench/lifecycle.py). The sweep only stages rounds; the first contact of each is
recorded by the sender in chunks just ahead of sending (contacts go out at ~40 a minute, so
recording 70,000 at once would only write rows that wait for days). Nothing here talks to
Slack; `contact_sender` sends, `slack_sync` reads Slack and deactivates.

Contact attempts are rows recorded before they are sent, under a unique key
(`<cycle id>:<number>`). A DM attempt is claimed before it is posted: a PLANNED attempt with
`sent_at` set is in flight since that instant. A claim older than `CLAIM_LEASE` belongs to a
sender that died; the next run looks for the message in Slack before sending it again, so a
crash neither repeats nor skips anyone. An email attempt is handed to the outbox under the
key `lifecycle:<attempt key>`; the outbox's result (sent, or refused: a bounce) is copied
back to the attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import ReturnTypeFromArgs

from bot.clock import Clock
from bot.db import insert_for
from bot.services import audit
from bot.services.application_review import organisation_label
from bot.services.members import UnknownMember, find
from bot.settings import CoreSettings
from models import (
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    ChannelFacilitator,
    ContactAttempt,
    CycleStatus,
    EmailStatus,
    InactivityCycle,
    Member,
    MemberRole,
    MemberStatus,
    Organisation,
    OutboundEmail,
    Role,
)
from models.base import UtcDateTime

# --- Policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How long each step waits (KYOSO_INACTIVE_DAYS, _EMAIL_AFTER_DAYS, _GRACE_DAYS, …)."""

    inactive_days: int = 180
    email_after_days: int = 14
    grace_days: int = 30
    retention_days: int = 365

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> Policy:
        return cls(
            inactive_days=settings.inactive_days,
            email_after_days=settings.email_after_days,
            grace_days=settings.grace_days,
            retention_days=settings.retention_days,
        )


# Attempt numbers: 1 is the DM, 2 the email (the last), 0 the thank-you DM sent when
# activity ended a round in which the member had been contacted.
THANKS = 0
DM_ATTEMPT = 1
EMAIL_ATTEMPT = 2
LAST_ATTEMPT = EMAIL_ATTEMPT
DM = "dm"
EMAIL = "email"
OUTBOX_PREFIX = "lifecycle:"
# A claimed DM whose result was never recorded is checked against Slack after this long.
CLAIM_LEASE = timedelta(minutes=10)
# Activity that ended a round this recently still earns the member a thank-you DM.
THANKS_WINDOW = timedelta(days=7)
# Roles whose members are never contacted for inactivity.
EXEMPT_ROLES = (Role.SECRETARIAT, Role.FACILITATOR)
SLACKBOT = "USLACKBOT"
_MAX_ERROR_CHARS = 500


class EndReason(StrEnum):
    ACTIVITY = "activity"
    KEEP = "keep"
    EXEMPT = "exempt"
    RESTORED = "restored"
    DEACTIVATED_SCIM = "deactivated_scim"
    DEACTIVATED_ADMIN_API = "deactivated_admin_api"
    DEACTIVATED_IN_SLACK = "deactivated_in_slack"


def attempt_key(cycle_id: int, number: int) -> str:
    return f"{cycle_id}:thanks" if number == THANKS else f"{cycle_id}:{number}"


def cycle_id_of(key: str) -> int:
    """The cycle an attempt key (or a keep button's value) belongs to; ValueError if malformed."""
    head, sep, _ = key.partition(":")
    if not sep or not head.isdigit():
        raise ValueError(f"not an attempt key: {key!r}")
    return int(head)


def outbox_key(key: str) -> str:
    return OUTBOX_PREFIX + key


# --- SQL building blocks ----------------------------------------------------------------


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


def _at(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UtcDateTime())


def _exempt_member() -> ColumnElement[bool]:
    """Members never contacted: bots, Slackbot, the exempt list, secretariat, facilitators."""
    return or_(
        Member.is_bot.is_(True),
        Member.slack_user_id == SLACKBOT,
        Member.inactivity_exempt.is_(True),
        exists().where(MemberRole.member_id == Member.id, MemberRole.role.in_(EXEMPT_ROLES)),
        exists().where(ChannelFacilitator.member_id == Member.id),
    )


def _cycle_member_active_since_start() -> ColumnElement[bool]:
    return exists().where(
        Member.id == InactivityCycle.member_id,
        or_(
            Member.last_seen_at > InactivityCycle.last_seen_at_start,
            Member.last_login_at > InactivityCycle.last_seen_at_start,
        ),
    )


def _key_expression(number: int) -> ColumnElement[str]:
    suffix = ":thanks" if number == THANKS else f":{number}"
    return cast(InactivityCycle.id, String(32)).concat(suffix)


def _outbox_key_of_attempt() -> ColumnElement[str]:
    return literal(OUTBOX_PREFIX, String(16)).concat(ContactAttempt.key)


def _count(session: Session, statement: Any) -> int:
    """Rows a statement changed (psycopg needs to be asked to keep an INSERT's count)."""
    result = session.execute(
        statement.execution_options(preserve_rowcount=True, synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return max(0, result.rowcount)


# --- The sweep --------------------------------------------------------------------------


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


def sweep(session: Session, *, clock: Clock, policy: Policy) -> SweepResult:
    """The daily run: end rounds that have an answer, start rounds for the newly inactive,
    copy email results back and flag rounds without an answer.

    Each step is one statement over all members; nothing loops per member."""
    now = clock.now()
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


def start_cycles(session: Session, *, now: datetime, policy: Policy) -> int:
    """INSERT … SELECT a contacting round for every active, non-exempt member with no sign
    of life since the cutoff and no round that is open or ended since then."""
    cutoff = now - timedelta(days=policy.inactive_days)
    last = last_sign_of_life()
    # NOT IN (SELECT …), not a correlated NOT EXISTS: both engines read the busy members
    # once, before the insert, into a hash (PostgreSQL's "hashed SubPlan", SQLite's
    # ephemeral index). A join the planner may turn into a loop per member does not hold
    # up: with statistics missing or taken while the table was empty, PostgreSQL scanned
    # inactivity_cycles once per member while this very statement filled it (measured:
    # 7 s for 20,000 members instead of 0.1 s). member_id is NOT NULL, so NOT IN is exact.
    recent_or_open = Member.id.in_(
        select(InactivityCycle.member_id).where(
            or_(
                InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
                InactivityCycle.ended_at >= cutoff,
            )
        )
    )
    candidates = select(
        Member.id,
        literal(CycleStatus.CONTACTING, InactivityCycle.status.type),
        last,
        _at(now),
    ).where(
        Member.status == MemberStatus.ACTIVE,
        last < _at(cutoff),
        ~_exempt_member(),
        ~recent_or_open,
    )
    statement = (
        insert_for(session)(InactivityCycle)
        .from_select(["member_id", "status", "last_seen_at_start", "started_at"], candidates)
        # The partial unique index keeps one open round per member even if two sweeps race.
        .on_conflict_do_nothing()
    )
    return _count(session, statement)


def plan_first_contacts(session: Session, *, now: datetime, limit: int) -> int:
    """Record attempt 1 (the DM), due now, for up to `limit` contacting rounds that have
    none, oldest round first."""
    has_attempt = exists().where(ContactAttempt.cycle_id == InactivityCycle.id)
    return _plan(
        session,
        number=DM_ATTEMPT,
        channel=DM,
        due=now,
        now=now,
        where=[InactivityCycle.status == CycleStatus.CONTACTING, ~has_attempt],
        limit=limit,
    )


def plan_thanks(session: Session, *, now: datetime) -> int:
    """A thank-you DM for rounds that activity ended after the member had been contacted."""
    # Sent (or in flight): sent_at is set. Not "status = sent": SQLite would then pick the
    # status index over cycle_id's and scan every sent attempt for each round.
    contacted = exists().where(
        ContactAttempt.cycle_id == InactivityCycle.id,
        ContactAttempt.number >= DM_ATTEMPT,
        ContactAttempt.sent_at.is_not(None),
    )
    return _plan(
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


def _plan(
    session: Session,
    *,
    number: int,
    channel: str,
    due: datetime,
    now: datetime,
    where: Sequence[ColumnElement[bool]],
    limit: int | None = None,
) -> int:
    rows = select(
        InactivityCycle.id,
        _key_expression(number),
        literal(number, Integer()),
        literal(channel, String(16)),
        literal(AttemptStatus.PLANNED, ContactAttempt.status.type),
        _at(due),
        _at(now),
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
    return _count(session, statement)


def end_on_activity(session: Session, *, now: datetime) -> int:
    """Open rounds whose member was seen (or logged in) after the round began: answered."""
    return _count(
        session,
        update(InactivityCycle)
        .where(InactivityCycle.status.in_(OPEN_CYCLE_STATUSES), _cycle_member_active_since_start())
        .values(status=CycleStatus.ANSWERED, ended_at=now, end_reason=EndReason.ACTIVITY.value),
    )


def end_for_exempt(session: Session, *, now: datetime) -> int:
    """Open rounds of members who became exempt (a role, a facilitator, the exempt list)."""
    member_exempt = exists().where(Member.id == InactivityCycle.member_id, _exempt_member())
    return _count(
        session,
        update(InactivityCycle)
        .where(InactivityCycle.status.in_(OPEN_CYCLE_STATUSES), member_exempt)
        .values(status=CycleStatus.RESTORED, ended_at=now, end_reason=EndReason.EXEMPT.value),
    )


def reconcile_emails(session: Session, *, now: datetime) -> tuple[int, int]:
    """Copy the outbox's result to email attempts: sent, or refused by the server (bounce).

    Only attempts already due can be in the outbox: the many planned for later are skipped
    without a look-up."""
    key = _outbox_key_of_attempt()

    def outbox(status: EmailStatus, column: Any = OutboundEmail.id) -> Any:
        return select(column).where(OutboundEmail.key == key, OutboundEmail.status == status)

    pending = and_(
        ContactAttempt.channel == EMAIL,
        ContactAttempt.status == AttemptStatus.PLANNED,
        ContactAttempt.due_at <= _at(now),
    )
    sent = _count(
        session,
        update(ContactAttempt)
        .where(pending, outbox(EmailStatus.SENT).exists())
        .values(
            status=AttemptStatus.SENT,
            sent_at=outbox(EmailStatus.SENT, OutboundEmail.sent_at).scalar_subquery(),
        ),
    )
    failed = _count(
        session,
        update(ContactAttempt)
        .where(pending, outbox(EmailStatus.FAILED).exists())
        .values(
            status=AttemptStatus.FAILED,
            error=outbox(EmailStatus.FAILED, OutboundEmail.last_error).scalar_subquery(),
        ),
    )
    return sent, failed


def flag_due(session: Session, *, now: datetime, policy: Policy) -> int:
    """Contacting rounds whose last attempt is done (sent or failed) since the grace period."""
    cutoff = now - timedelta(days=policy.grace_days)
    last_done = exists().where(
        ContactAttempt.cycle_id == InactivityCycle.id,
        ContactAttempt.number == LAST_ATTEMPT,
        ContactAttempt.status.in_((AttemptStatus.SENT, AttemptStatus.FAILED)),
        func.coalesce(ContactAttempt.sent_at, ContactAttempt.due_at) <= _at(cutoff),
    )
    return _count(
        session,
        update(InactivityCycle)
        .where(InactivityCycle.status == CycleStatus.CONTACTING, last_done)
        .values(status=CycleStatus.FLAGGED, flagged_at=now),
    )


def drop_unsent_attempts(session: Session) -> int:
    """Planned contacts of rounds that ended before they went out are no longer needed
    (claimed DMs stay until their fate is known; queued emails until the outbox reports)."""
    ended = exists().where(
        InactivityCycle.id == ContactAttempt.cycle_id,
        InactivityCycle.status != CycleStatus.CONTACTING,
    )
    queued = select(OutboundEmail.id).where(OutboundEmail.key == _outbox_key_of_attempt()).exists()
    return _count(
        session,
        delete(ContactAttempt).where(
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            ContactAttempt.number >= DM_ATTEMPT,
            ended,
            ~queued,
        ),
    )


def sync_member_status(session: Session, *, now: datetime) -> None:
    """members.status follows the open round: flagged or approved → flagged, none → active
    (`inactive` is set when the member is contacted, see `settle`). Deactivated and deleted
    members are left alone."""

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


# --- Contacts (used by contact_sender) --------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """One planned attempt with what its message needs."""

    attempt_id: int
    key: str
    number: int
    channel: str
    cycle_id: int
    slack_user_id: str
    email: str | None
    name: str | None
    locale: str | None
    last_active: datetime | None
    claimed_at: datetime | None = None


def _contacts(session: Session, where: Sequence[ColumnElement[bool]], limit: int) -> list[Contact]:
    rows = session.execute(
        select(
            ContactAttempt.id,
            ContactAttempt.key,
            ContactAttempt.number,
            ContactAttempt.channel,
            ContactAttempt.cycle_id,
            ContactAttempt.sent_at,
            Member.slack_user_id,
            Member.email,
            Member.real_name,
            Member.display_name,
            Member.locale,
            Member.last_seen_at,
            Member.last_login_at,
        )
        .join(InactivityCycle, InactivityCycle.id == ContactAttempt.cycle_id)
        .join(Member, Member.id == InactivityCycle.member_id)
        .where(*where)
        .order_by(ContactAttempt.due_at, ContactAttempt.id)
        .limit(limit)
    ).all()
    return [
        Contact(
            attempt_id=row.id,
            key=row.key,
            number=row.number,
            channel=row.channel,
            cycle_id=row.cycle_id,
            slack_user_id=row.slack_user_id,
            email=row.email,
            name=row.display_name or row.real_name,
            locale=row.locale,
            last_active=max(
                (at for at in (row.last_seen_at, row.last_login_at) if at is not None),
                default=None,
            ),
            claimed_at=row.sent_at,
        )
        for row in rows
    ]


def _still_wanted() -> ColumnElement[bool]:
    """The attempt's round still wants it: contacting for attempts, answered for thanks."""
    return (
        exists()
        .where(
            InactivityCycle.id == ContactAttempt.cycle_id,
            or_(
                and_(
                    ContactAttempt.number >= DM_ATTEMPT,
                    InactivityCycle.status == CycleStatus.CONTACTING,
                ),
                and_(
                    ContactAttempt.number == THANKS,
                    InactivityCycle.status == CycleStatus.ANSWERED,
                ),
            ),
        )
        .correlate(ContactAttempt)
    )


def due_dms(session: Session, *, now: datetime, limit: int) -> list[Contact]:
    return _contacts(
        session,
        [
            ContactAttempt.channel == DM,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            ContactAttempt.due_at <= _at(now),
            _still_wanted(),
        ],
        limit,
    )


def due_emails(session: Session, *, now: datetime, limit: int) -> list[Contact]:
    queued = select(OutboundEmail.id).where(OutboundEmail.key == _outbox_key_of_attempt()).exists()
    return _contacts(
        session,
        [
            ContactAttempt.channel == EMAIL,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.due_at <= _at(now),
            _still_wanted(),
            ~queued,
        ],
        limit,
    )


def pending_contacts(session: Session, *, now: datetime) -> int:
    """Contacts a sender would make now: due DMs and emails, and first DMs not yet recorded."""
    queued = select(OutboundEmail.id).where(OutboundEmail.key == _outbox_key_of_attempt()).exists()
    due = session.scalar(
        select(func.count())
        .select_from(ContactAttempt)
        .where(
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            ContactAttempt.due_at <= _at(now),
            _still_wanted(),
            ~queued,
        )
    )
    unplanned = session.scalar(
        select(func.count())
        .select_from(InactivityCycle)
        .where(
            InactivityCycle.status == CycleStatus.CONTACTING,
            ~exists().where(ContactAttempt.cycle_id == InactivityCycle.id),
        )
    )
    return (due or 0) + (unplanned or 0)


def stale_claims(session: Session, *, now: datetime, limit: int = 100) -> list[Contact]:
    """DMs claimed by a sender that never reported back (it died mid-send)."""
    return _contacts(
        session,
        [
            ContactAttempt.channel == DM,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_not(None),
            ContactAttempt.sent_at <= _at(now - CLAIM_LEASE),
        ],
        limit,
    )


def claim(session: Session, *, attempt_id: int, now: datetime) -> bool:
    """Mark a DM in flight (committed before posting); False if it is taken or unwanted."""
    claimed = session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.id == attempt_id,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            _still_wanted(),
        )
        .values(sent_at=now)
        .returning(ContactAttempt.id)
        .execution_options(synchronize_session=False)
    ).first()
    return claimed is not None


def release(session: Session, *, attempt_id: int) -> None:
    """Give a claim back: Slack certainly did not take the message (e.g. `ratelimited`)."""
    session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.status == AttemptStatus.PLANNED)
        .values(sent_at=None)
        .execution_options(synchronize_session=False)
    )


def defer(session: Session, *, attempt_id: int, until: datetime) -> None:
    """Try later (the member is in do-not-disturb)."""
    session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.id == attempt_id,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
        )
        .values(due_at=until)
        .execution_options(synchronize_session=False)
    )


def settle(
    session: Session,
    *,
    contact: Contact,
    at: datetime,
    policy: Policy,
    error: str | None = None,
) -> bool:
    """Record a DM's result (sent unless `error`) and plan the email after a DM.

    After a DM that reached the member the email waits `email_after_days`; after one Slack
    refused (no DM possible) it goes out at once."""
    status = AttemptStatus.FAILED if error else AttemptStatus.SENT
    settled = session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.id == contact.attempt_id,
            ContactAttempt.status == AttemptStatus.PLANNED,
        )
        .values(
            status=status,
            sent_at=None if error else at,
            error=error[:_MAX_ERROR_CHARS] if error else None,
        )
        .returning(ContactAttempt.id)
        .execution_options(synchronize_session=False)
    ).first()
    if settled is not None and contact.number == DM_ATTEMPT:
        # Contacted (or tried): the member is now "inactive", in a round of contacts.
        # Two primary-key look-ups, not a join: the planner cannot pick a bad plan for them.
        member_id = session.scalar(
            select(InactivityCycle.member_id).where(
                InactivityCycle.id == contact.cycle_id,
                InactivityCycle.status == CycleStatus.CONTACTING,
            )
        )
        if member_id is not None:
            session.execute(
                update(Member)
                .where(Member.id == member_id, Member.status == MemberStatus.ACTIVE)
                .values(status=MemberStatus.INACTIVE, updated_at=at)
                .execution_options(synchronize_session=False)
            )
        due = at if error else at + timedelta(days=policy.email_after_days)
        _plan(
            session,
            number=EMAIL_ATTEMPT,
            channel=EMAIL,
            due=due,
            now=at,
            where=[InactivityCycle.id == contact.cycle_id],
        )
    return settled is not None


def fail_email(session: Session, *, contact: Contact, error: str) -> None:
    """An email that cannot be queued at all (no address on record)."""
    session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.id == contact.attempt_id,
            ContactAttempt.status == AttemptStatus.PLANNED,
        )
        .values(status=AttemptStatus.FAILED, error=error[:_MAX_ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )


# --- Members' answers and the secretariat's decisions -----------------------------------


class UnknownCycle(LookupError):
    """No such round, or not this member's."""


class NotDecidable(Exception):
    """The round is not in a state this decision applies to (someone acted first)."""

    def __init__(self, status: CycleStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(frozen=True)
class Kept:
    ended: bool  # False: the round had ended already (a double click, or activity first)
    status: CycleStatus  # the round's status now


def _end_member_round(session: Session, member: Member, now: datetime) -> None:
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


def keep(session: Session, *, clock: Clock, cycle_id: int, slack_user_id: str) -> Kept:
    """The member pressed "keep my account": the round ends and the click counts as activity."""
    now = clock.now()
    member = find(session, slack_user_id)
    cycle = session.get(InactivityCycle, cycle_id)
    if member is None or cycle is None or cycle.member_id != member.id:
        raise UnknownCycle(cycle_id)
    ended = session.execute(
        update(InactivityCycle)
        .where(InactivityCycle.id == cycle_id, InactivityCycle.status.in_(OPEN_CYCLE_STATUSES))
        .values(status=CycleStatus.ANSWERED, ended_at=now, end_reason=EndReason.KEEP.value)
        .returning(InactivityCycle.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(cycle)
    if member.last_seen_at is None or member.last_seen_at < now:
        member.last_seen_at = now
    if ended is not None:
        _end_member_round(session, member, now)
        audit.record(
            session,
            clock=clock,
            actor=slack_user_id,
            action="lifecycle.kept",
            target_type="member",
            target_id=slack_user_id,
            details={"cycle": cycle_id},
        )
    return Kept(ended=ended is not None, status=cycle.status)


@dataclass(frozen=True)
class Decided:
    cycle_id: int
    slack_user_id: str
    name: str | None


def _decide(
    session: Session,
    *,
    clock: Clock,
    cycle_ids: Sequence[int],
    actor: str,
    allowed_from: Sequence[CycleStatus],
    to: CycleStatus,
    action: str,
    end_reason: EndReason | None = None,
    reason: str | None = None,
) -> list[Decided]:
    """A guarded update: of two secretaries clicking at once, each round is decided once."""
    if not cycle_ids:
        return []
    now = clock.now()
    values: dict[str, Any] = {"status": to, "decided_by": actor, "decided_at": now}
    if end_reason is not None:
        values |= {"ended_at": now, "end_reason": end_reason.value}
    changed = session.execute(
        update(InactivityCycle)
        .where(InactivityCycle.id.in_(list(cycle_ids)), InactivityCycle.status.in_(allowed_from))
        .values(**values)
        .returning(InactivityCycle.id, InactivityCycle.member_id)
        .execution_options(synchronize_session=False)
    ).all()
    decided = []
    for cycle_id, member_id in changed:
        member = session.get(Member, member_id)
        assert member is not None
        if end_reason is not None:
            _end_member_round(session, member, now)
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action=action,
            target_type="member",
            target_id=member.slack_user_id,
            reason=reason,
            details={"cycle": cycle_id},
        )
        decided.append(Decided(cycle_id, member.slack_user_id, member.real_name))
    return decided


def approve(
    session: Session, *, clock: Clock, cycle_ids: Sequence[int], actor: str
) -> list[Decided]:
    """The secretariat approves deactivating flagged members (a batch; each decided once)."""
    return _decide(
        session,
        clock=clock,
        cycle_ids=cycle_ids,
        actor=actor,
        allowed_from=(CycleStatus.FLAGGED,),
        to=CycleStatus.APPROVED,
        action="lifecycle.approved",
    )


def restore(session: Session, *, clock: Clock, cycle_id: int, actor: str) -> Decided:
    """One click takes a member off the flag list (also after approval, until deactivated)."""
    decided = _decide(
        session,
        clock=clock,
        cycle_ids=[cycle_id],
        actor=actor,
        allowed_from=(CycleStatus.FLAGGED, CycleStatus.APPROVED),
        to=CycleStatus.RESTORED,
        action="lifecycle.restored",
        end_reason=EndReason.RESTORED,
    )
    if not decided:
        cycle = session.get(InactivityCycle, cycle_id)
        if cycle is None:
            raise UnknownCycle(cycle_id)
        session.refresh(cycle)
        raise NotDecidable(cycle.status)
    return decided[0]


def open_cycle_of(session: Session, slack_user_id: str) -> InactivityCycle | None:
    return session.scalar(
        select(InactivityCycle)
        .join(Member, Member.id == InactivityCycle.member_id)
        .where(
            Member.slack_user_id == slack_user_id,
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
        )
    )


def mark_deactivated(
    session: Session,
    *,
    clock: Clock,
    slack_user_id: str,
    actor: str,
    via: EndReason,
) -> bool:
    """The account is deactivated in Slack (by Kyoso through SCIM or the admin API, or seen
    so in users.list). Ends any open round; False when Kyoso knew it already."""
    now = clock.now()
    member = find(session, slack_user_id)
    if member is None or member.status in (MemberStatus.DEACTIVATED, MemberStatus.DELETED):
        return False
    session.execute(
        update(InactivityCycle)
        .where(
            InactivityCycle.member_id == member.id,
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
        )
        .values(status=CycleStatus.DEACTIVATED, ended_at=now, end_reason=via.value)
        .execution_options(synchronize_session=False)
    )
    member.status = MemberStatus.DEACTIVATED
    member.deactivated_at = now
    member.updated_at = now
    session.flush()
    drop_unsent_attempts(session)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="member.deactivated",
        target_type="member",
        target_id=slack_user_id,
        details={"via": via.value},
    )
    return True


def set_exempt(
    session: Session,
    *,
    clock: Clock,
    slack_user_id: str,
    exempt: bool,
    actor: str,
    reason: str | None = None,
) -> bool:
    """Put a member on (or off) the exempt list; exempting ends an open round at once."""
    now = clock.now()
    member = find(session, slack_user_id)
    if member is None:
        raise UnknownMember(slack_user_id)
    if member.inactivity_exempt == exempt:
        return False
    member.inactivity_exempt = exempt
    member.updated_at = now
    if exempt:
        session.execute(
            update(InactivityCycle)
            .where(
                InactivityCycle.member_id == member.id,
                InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
            )
            .values(status=CycleStatus.RESTORED, ended_at=now, end_reason=EndReason.EXEMPT.value)
            .execution_options(synchronize_session=False)
        )
        _end_member_round(session, member, now)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="member.inactivity_exempted" if exempt else "member.inactivity_unexempted",
        target_type="member",
        target_id=slack_user_id,
        reason=reason,
    )
    return True


# --- Retention --------------------------------------------------------------------------


def reduce_personal_data(session: Session, *, clock: Clock, policy: Policy) -> int:
    """Deactivated and deleted members keep only what the audit log needs (their Slack ID,
    organisation and dates) once the retention period has passed."""
    now = clock.now()
    cutoff = now - timedelta(days=policy.retention_days)
    due = and_(
        Member.status.in_((MemberStatus.DEACTIVATED, MemberStatus.DELETED)),
        Member.personal_data_reduced_at.is_(None),
        func.coalesce(Member.deactivated_at, Member.updated_at) <= _at(cutoff),
    )
    # Mail servers quote the address in their refusals: those errors go too.
    session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.error.is_not(None),
            exists().where(
                InactivityCycle.id == ContactAttempt.cycle_id,
                Member.id == InactivityCycle.member_id,
                due,
            ),
        )
        .values(error=None)
        .execution_options(synchronize_session=False)
    )
    result = _count(
        session,
        update(Member)
        .where(due)
        .values(
            email=None,
            email_normalized=None,
            real_name=None,
            display_name=None,
            department=None,
            locale=None,
            last_login_at=None,
            personal_data_reduced_at=now,
            updated_at=now,
        ),
    )
    reduced = result
    if reduced:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="lifecycle.personal_data_reduced",
            target_type="lifecycle",
            target_id=now.date().isoformat(),
            details={"members": reduced, "retention_days": policy.retention_days},
        )
    return reduced


# --- What the secretariat sees ----------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    contacting: int
    flagged: int
    approved: int  # approved, awaiting deactivation (by hand without an admin token)
    exempt: int


@dataclass(frozen=True)
class FlaggedMember:
    cycle_id: int
    slack_user_id: str
    name: str | None
    email: str | None
    organisation: str | None
    department: str | None
    status: CycleStatus
    last_active: datetime | None
    started_at: datetime
    flagged_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    dm_failed: bool
    email_failed: bool


def overview(session: Session) -> Overview:
    counts = dict(
        session.execute(
            select(InactivityCycle.status, func.count())
            .where(InactivityCycle.status.in_(OPEN_CYCLE_STATUSES))
            .group_by(InactivityCycle.status)
        ).all()
    )
    exempt = session.scalar(
        select(func.count()).select_from(Member).where(Member.inactivity_exempt.is_(True))
    )
    return Overview(
        contacting=counts.get(CycleStatus.CONTACTING, 0),
        flagged=counts.get(CycleStatus.FLAGGED, 0),
        approved=counts.get(CycleStatus.APPROVED, 0),
        exempt=exempt or 0,
    )


def flagged_members(
    session: Session,
    *,
    statuses: Sequence[CycleStatus] = (CycleStatus.FLAGGED,),
    limit: int | None = None,
) -> list[FlaggedMember]:
    """Flagged (or approved) rounds, longest-flagged first."""

    def failed(number: int) -> ColumnElement[bool]:
        return exists().where(
            ContactAttempt.cycle_id == InactivityCycle.id,
            ContactAttempt.number == number,
            ContactAttempt.status == AttemptStatus.FAILED,
        )

    query = (
        select(
            InactivityCycle,
            Member,
            Organisation,
            failed(DM_ATTEMPT).label("dm_failed"),
            failed(EMAIL_ATTEMPT).label("email_failed"),
        )
        .join(Member, Member.id == InactivityCycle.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(InactivityCycle.status.in_(list(statuses)))
        .order_by(InactivityCycle.flagged_at, InactivityCycle.id)
    )
    if limit is not None:
        query = query.limit(limit)
    out = []
    for cycle, member, organisation, dm_failed, email_failed in session.execute(query).all():
        last_active = max(
            (at for at in (member.last_seen_at, member.last_login_at) if at is not None),
            default=None,
        )
        out.append(
            FlaggedMember(
                cycle_id=cycle.id,
                slack_user_id=member.slack_user_id,
                name=member.real_name or member.display_name,
                email=member.email,
                organisation=organisation_label(organisation),
                department=member.department,
                status=cycle.status,
                last_active=last_active,
                started_at=cycle.started_at,
                flagged_at=cycle.flagged_at,
                decided_by=cycle.decided_by,
                decided_at=cycle.decided_at,
                dm_failed=bool(dm_failed),
                email_failed=bool(email_failed),
            )
        )
    return out
