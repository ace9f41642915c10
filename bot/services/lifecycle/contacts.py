"""Each contact of a round, from its record to its result: what is due, claiming a DM before
it is posted, settling it, postponing it, queueing the email.

Contact attempts are rows recorded before they are sent, under a unique key
(`<cycle id>:<number>`). A DM attempt is claimed before it is posted: a PLANNED attempt with
`sent_at` set is in flight since that instant. A claim older than `CLAIM_LEASE` belongs to a
sender that died; the next run looks for the message in Slack before sending it again, so a
crash neither repeats nor skips anyone. An email attempt is handed to the outbox under the
key `lifecycle:<attempt key>`; the outbox's result (sent, or refused: a bounce) is copied
back to the attempt by the sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.lifecycle import ContactTerms
from bot.i18n import Language
from bot.services.lifecycle.contact_email import contact_email
from bot.services.lifecycle.policy import (
    CLAIM_LEASE,
    DM,
    DM_ATTEMPT,
    EMAIL,
    EMAIL_ATTEMPT,
    MAX_ERROR_CHARS,
    THANKS,
    Policy,
    outbox_key,
)
from bot.services.lifecycle.rounds import at as _at
from bot.services.lifecycle.rounds import plan, queued_in_outbox
from bot.services.lifecycle.sweep import catch_up
from bot.services.mail.outbox import queue_email
from models import (
    AttemptStatus,
    ContactAttempt,
    CycleStatus,
    InactivityCycle,
    Member,
    MemberStatus,
)


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


def open_run(session: Session, *, now: datetime) -> int:
    """A sender's first step: catch up with what happened since the sweep (nobody active is
    contacted), then count the contacts it would make now."""
    catch_up(session, now=now)
    return pending_contacts(session, now=now)


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
                (seen for seen in (row.last_seen_at, row.last_login_at) if seen is not None),
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


def plan_first_contacts(session: Session, *, now: datetime, limit: int) -> int:
    """Record attempt 1 (the DM), due now, for up to `limit` contacting rounds that have
    none, oldest round first."""
    has_attempt = exists().where(ContactAttempt.cycle_id == InactivityCycle.id)
    return plan(
        session,
        number=DM_ATTEMPT,
        channel=DM,
        due=now,
        now=now,
        where=[InactivityCycle.status == CycleStatus.CONTACTING, ~has_attempt],
        limit=limit,
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
    return _contacts(
        session,
        [
            ContactAttempt.channel == EMAIL,
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.due_at <= _at(now),
            _still_wanted(),
            ~queued_in_outbox(),
        ],
        limit,
    )


def pending_contacts(session: Session, *, now: datetime) -> int:
    """Contacts a sender would make now: due DMs and emails, and first DMs not yet recorded."""
    due = session.scalar(
        select(func.count())
        .select_from(ContactAttempt)
        .where(
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.sent_at.is_(None),
            ContactAttempt.due_at <= _at(now),
            _still_wanted(),
            ~queued_in_outbox(),
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


def dnd_ends(dnd: Mapping[str, Any], *, now: datetime) -> datetime | None:
    """When the member's do-not-disturb ends, if they are in it now (from dnd.info's answer):
    a snooze, or the scheduled do-not-disturb hours."""
    instant = now.timestamp()
    ends: list[float] = []
    if dnd.get("snooze_enabled") and float(dnd.get("snooze_endtime") or 0) > instant:
        ends.append(float(dnd["snooze_endtime"]))
    start, end = (
        float(dnd.get("next_dnd_start_ts") or 0),
        float(dnd.get("next_dnd_end_ts") or 0),
    )
    if dnd.get("dnd_enabled") and start <= instant < end:
        ends.append(end)
    return datetime.fromtimestamp(max(ends), UTC) if ends else None


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
            error=error[:MAX_ERROR_CHARS] if error else None,
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
        plan(
            session,
            number=EMAIL_ATTEMPT,
            channel=EMAIL,
            due=due,
            now=at,
            where=[InactivityCycle.id == contact.cycle_id],
        )
    return settled is not None


def fail_email(session: Session, *, contact: Contact, error: str) -> None:
    """An email that cannot be queued at all (no address, or one the outbox cannot take)."""
    session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.id == contact.attempt_id,
            ContactAttempt.status == AttemptStatus.PLANNED,
        )
        .values(status=AttemptStatus.FAILED, error=error[:MAX_ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )


def queue_contact_email(
    session: Session,
    *,
    clock: Clock,
    contact: Contact,
    terms: ContactTerms,
    language: Language,
) -> bool:
    """Hand attempt 2 to the outbox, once by key; False when it failed for good."""
    if not contact.email:
        fail_email(session, contact=contact, error="no email address on record")
        return False
    email = contact_email(name=contact.name, terms=terms, language=language)
    try:
        queue_email(
            session,
            clock=clock,
            key=outbox_key(contact.key),
            to=contact.email,
            subject=email.subject,
            body=email.body,
        )
    except ValueError as exc:  # an address the outbox cannot take
        fail_email(session, contact=contact, error=f"unusable address: {exc}")
        return False
    return True
