"""The secretariat's appointments: appoint a member for some prefectures or a region for a
term, extend the term, end it; the daily work of terms that start, end or end soon.

Role.AMBASSADOR follows the appointments: granted while one runs, revoked when none does
(`sync_role`). Every change is audited; a double click changes nothing twice (a public id
chosen when the form opened, guarded UPDATEs)."""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AuditEntry, decide_once
from bot.domain.ambassadors_appointments import (
    MAX_TERM_YEARS,
    ROSTER_PAGE_SIZE,
    AppointmentInvalid,
    RosterLine,
    RosterPage,
    TermReminder,
    UnknownAppointment,
)
from bot.regions import PREFECTURES, REGION_KEYS, prefectures_of
from bot.services import audit, members
from bot.services.ambassadors.coverage import covered_municipalities
from bot.services.ambassadors.roster import serving_on
from bot.timefmt import JST
from models import AmbassadorAppointment, AppointmentStatus, Member, MemberStatus, Role

TARGET = "ambassador_appointment"
_GONE = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)


def today_in(clock: Clock, zone: ZoneInfo = JST) -> date:
    return clock.now().astimezone(zone).date()


def month_before(day: date) -> date:
    """The same day a month earlier (the month's last day when it has no such day)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_end(starts_on: date) -> date:
    year = starts_on.year + MAX_TERM_YEARS
    return date(
        year, starts_on.month, min(starts_on.day, calendar.monthrange(year, starts_on.month)[1])
    )


def term_problems(starts_on: date | None, ends_on: date | None, *, today: date) -> dict[str, str]:
    """What is wrong with a term: missing dates, an end not after the start, an end already
    past, longer than MAX_TERM_YEARS."""
    problems: dict[str, str] = {}
    if starts_on is None:
        problems["starts_on"] = "missing"
    if ends_on is None:
        problems["ends_on"] = "missing"
    if starts_on is None or ends_on is None:
        return problems
    if ends_on <= starts_on:
        problems["ends_on"] = "end_before_start"
    elif ends_on < today:
        problems["ends_on"] = "end_past"
    elif ends_on > latest_end(starts_on):
        problems["ends_on"] = "too_long"
    return problems


def area_problems(prefectures: Sequence[str], region: str | None) -> dict[str, str]:
    """One or more known prefectures, or one region: not both, not neither."""
    if prefectures and region:
        return {"area": "both"}
    if not prefectures and not region:
        return {"area": "no_area"}
    if region and region not in REGION_KEYS:
        return {"area": "unknown_region"}
    if any(p not in PREFECTURES for p in prefectures):
        return {"area": "unknown_prefecture"}
    return {}


def served_prefectures(prefectures: Sequence[str], region: str | None) -> tuple[str, ...]:
    return prefectures_of(region) if region else tuple(prefectures)


def new_public_id() -> str:
    return "AMB-" + secrets.token_hex(6)


def appoint(
    session: Session,
    *,
    clock: Clock,
    member: Member,
    prefectures: Sequence[str],
    region: str | None,
    starts_on: date,
    ends_on: date,
    actor: str,
    zone: ZoneInfo = JST,
    public_id: str | None = None,
) -> AmbassadorAppointment:
    """Appoint `member`; a `public_id` already used (the same form submitted twice) returns
    that appointment unchanged. Raises AppointmentInvalid."""
    if public_id is not None:
        known = _by_public_id(session, public_id)
        if known is not None:
            return known
    today = today_in(clock, zone)
    chosen = tuple(dict.fromkeys(p for p in PREFECTURES if p in set(prefectures)))
    problems = {
        **area_problems(list(dict.fromkeys(prefectures)), region),
        **term_problems(starts_on, ends_on, today=today),
    }
    if member.is_bot or member.status in _GONE:
        problems["member"] = "not_a_member"
    elif not problems and _overlaps(
        session, member.id, served_prefectures(chosen, region), starts_on, ends_on
    ):
        problems["member"] = "already_appointed"
    if problems:
        raise AppointmentInvalid(problems)
    now = clock.now()
    appointment = AmbassadorAppointment(
        public_id=public_id or new_public_id(),
        member_id=member.id,
        status=AppointmentStatus.ACTIVE,
        prefectures=[] if region else list(chosen),
        region=region,
        starts_on=starts_on,
        ends_on=ends_on,
        appointed_by=actor,
        coverage_at_start={},
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(appointment)
    except IntegrityError:  # the same form, submitted at the same moment: the other one won
        known = _by_public_id(session, public_id or "")
        if known is None:
            raise
        return known
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="ambassadors.appointed",
        target_type=TARGET,
        target_id=appointment.public_id,
        details={
            "member": member.slack_user_id,
            "prefectures": appointment.prefectures,
            "region": region,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
    )
    if starts_on <= today:
        _record_coverage(session, appointment)
    sync_role(session, clock=clock, member_id=member.id, today=today, actor=actor)
    return appointment


def extend(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    ends_on: date,
    actor: str,
    zone: ZoneInfo = JST,
) -> AmbassadorAppointment:
    """Move a running appointment's end later. The same new end twice changes nothing the
    second time; an ended appointment raises AlreadyDecided; a bad date AppointmentInvalid."""
    appointment = _by_public_id(session, public_id)
    if appointment is None:
        raise UnknownAppointment(public_id)
    if appointment.status is AppointmentStatus.ACTIVE and appointment.ends_on == ends_on:
        return appointment
    problems = term_problems(appointment.starts_on, ends_on, today=today_in(clock, zone))
    if not problems and ends_on < appointment.ends_on:
        problems["ends_on"] = "not_later"
    if problems and appointment.status is AppointmentStatus.ACTIVE:
        raise AppointmentInvalid(problems)
    previous = appointment.ends_on
    return decide_once(
        session,
        row=appointment,
        status=AmbassadorAppointment.status,
        allowed_from=(AppointmentStatus.ACTIVE,),
        values={"ends_on": ends_on, "updated_at": clock.now()},
        audit_entry=AuditEntry(
            actor=actor,
            action="ambassadors.extended",
            target_type=TARGET,
            target_id=public_id,
            details={"from": previous.isoformat(), "to": ends_on.isoformat()},
        ),
        clock=clock,
    )


def end(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    reason: str,
    zone: ZoneInfo = JST,
) -> AmbassadorAppointment:
    """End an appointment now (reason: ended | term | departure); the role goes when no
    other appointment runs. Raises AlreadyDecided when it had ended already."""
    appointment = _by_public_id(session, public_id)
    if appointment is None:
        raise UnknownAppointment(public_id)
    _end(session, clock=clock, appointment=appointment, actor=actor, reason=reason)
    sync_role(
        session,
        clock=clock,
        member_id=appointment.member_id,
        today=today_in(clock, zone),
        actor=actor,
    )
    return appointment


def end_all_for_member(
    session: Session, *, clock: Clock, member_id: int, actor: str, reason: str
) -> int:
    """End every appointment of a member (running or starting later), e.g. when they leave;
    how many were ended. The role goes with them."""
    running = session.scalars(
        select(AmbassadorAppointment).where(
            AmbassadorAppointment.member_id == member_id,
            AmbassadorAppointment.status == AppointmentStatus.ACTIVE,
        )
    ).all()
    for appointment in running:
        _end(session, clock=clock, appointment=appointment, actor=actor, reason=reason)
    if running:
        sync_role(session, clock=clock, member_id=member_id, today=today_in(clock), actor=actor)
    return len(running)


def sync_role(session: Session, *, clock: Clock, member_id: int, today: date, actor: str) -> None:
    """Role.AMBASSADOR while one of the member's appointments runs, not otherwise."""
    member = session.get(Member, member_id)
    assert member is not None
    runs = session.scalar(
        select(exists().where(AmbassadorAppointment.member_id == member_id, serving_on(today)))
    )
    if runs and not member.has_role(Role.AMBASSADOR):
        members.grant_role(
            session,
            clock=clock,
            slack_user_id=member.slack_user_id,
            role=Role.AMBASSADOR,
            actor=actor,
        )
    elif not runs and member.has_role(Role.AMBASSADOR):
        members.revoke_role(
            session,
            clock=clock,
            slack_user_id=member.slack_user_id,
            role=Role.AMBASSADOR,
            actor=actor,
        )


def start_terms(session: Session, *, clock: Clock, today: date) -> int:
    """Terms that have begun: coverage recorded once, the role granted. How many members
    got the role."""
    starting = session.scalars(
        select(AmbassadorAppointment).where(serving_on(today)).order_by(AmbassadorAppointment.id)
    ).all()
    granted = 0
    for appointment in starting:
        if not appointment.coverage_at_start:
            _record_coverage(session, appointment)
        member = session.get(Member, appointment.member_id)
        assert member is not None
        if member.status not in _GONE and not member.has_role(Role.AMBASSADOR):
            sync_role(
                session, clock=clock, member_id=member.id, today=today, actor=audit.SYSTEM_ACTOR
            )
            granted += 1
    return granted


def end_finished_terms(session: Session, *, clock: Clock, today: date) -> int:
    """Appointments whose last day has passed: ended (reason "term"), roles revoked where
    no other appointment runs."""
    finished = session.scalars(
        select(AmbassadorAppointment)
        .where(
            AmbassadorAppointment.status == AppointmentStatus.ACTIVE,
            AmbassadorAppointment.ends_on < today,
        )
        .order_by(AmbassadorAppointment.id)
    ).all()
    for appointment in finished:
        _end(session, clock=clock, appointment=appointment, actor=audit.SYSTEM_ACTOR, reason="term")
    for member_id in dict.fromkeys(a.member_id for a in finished):
        sync_role(session, clock=clock, member_id=member_id, today=today, actor=audit.SYSTEM_ACTOR)
    return len(finished)


def claim_reminders(session: Session, *, clock: Clock, today: date) -> list[TermReminder]:
    """Running terms that end within a month and were not reminded for this end date:
    each claimed (reminded_for = its end) before the reminder is posted."""
    due = session.execute(
        select(AmbassadorAppointment, Member.slack_user_id)
        .join(Member, Member.id == AmbassadorAppointment.member_id)
        .where(
            AmbassadorAppointment.status == AppointmentStatus.ACTIVE,
            AmbassadorAppointment.ends_on >= today,
            or_(
                AmbassadorAppointment.reminded_for.is_(None),
                AmbassadorAppointment.reminded_for != AmbassadorAppointment.ends_on,
            ),
        )
        .order_by(AmbassadorAppointment.ends_on, AmbassadorAppointment.id)
    ).all()
    claimed: list[TermReminder] = []
    for appointment, slack_user_id in due:
        if month_before(appointment.ends_on) > today:
            continue
        previous = appointment.reminded_for
        won = session.execute(
            update(AmbassadorAppointment)
            .where(
                AmbassadorAppointment.id == appointment.id,
                AmbassadorAppointment.ends_on == appointment.ends_on,
                _reminded_for_is(previous),
            )
            .values(reminded_for=appointment.ends_on)
            .returning(AmbassadorAppointment.id)
        ).first()
        if won is None:
            continue
        claimed.append(
            TermReminder(
                public_id=appointment.public_id,
                slack_user_id=slack_user_id,
                prefectures=tuple(appointment.prefectures or ()),
                region=appointment.region,
                ends_on=appointment.ends_on,
                previous_reminder=previous,
            )
        )
    return claimed


def reminder_sent(session: Session, *, clock: Clock, reminder: TermReminder) -> None:
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="ambassadors.term_reminded",
        target_type=TARGET,
        target_id=reminder.public_id,
        details={"ends_on": reminder.ends_on.isoformat()},
    )


def release_reminder(session: Session, *, reminder: TermReminder) -> None:
    """Slack did not take the reminder: the next run posts it."""
    session.execute(
        update(AmbassadorAppointment)
        .where(
            AmbassadorAppointment.public_id == reminder.public_id,
            AmbassadorAppointment.reminded_for == reminder.ends_on,
        )
        .values(reminded_for=reminder.previous_reminder)
    )


def roster_page(session: Session, *, today: date, offset: int = 0) -> RosterPage:
    """Running and future appointments first (the nearest end first), then ended ones
    (the latest first), a page at a time."""
    is_active = AmbassadorAppointment.status == AppointmentStatus.ACTIVE
    ordered = (
        select(AmbassadorAppointment, Member.slack_user_id)
        .join(Member, Member.id == AmbassadorAppointment.member_id)
        .order_by(
            case((is_active, 0), else_=1),
            case((is_active, AmbassadorAppointment.ends_on), else_=None),
            AmbassadorAppointment.ended_at.desc(),
            AmbassadorAppointment.id,
        )
    )
    total = session.scalar(select(func.count(AmbassadorAppointment.id))) or 0
    offset = max(0, min(offset, max(total - 1, 0)))
    rows = session.execute(ordered.offset(offset).limit(ROSTER_PAGE_SIZE)).all()
    serving = session.scalar(select(func.count(AmbassadorAppointment.id)).where(serving_on(today)))
    return RosterPage(
        today=today,
        lines=tuple(_line(a, user) for a, user in rows),
        offset=offset,
        total=total,
        serving=serving or 0,
    )


def roster_line(session: Session, *, public_id: str) -> RosterLine:
    row = session.execute(
        select(AmbassadorAppointment, Member.slack_user_id)
        .join(Member, Member.id == AmbassadorAppointment.member_id)
        .where(AmbassadorAppointment.public_id == public_id)
    ).first()
    if row is None:
        raise UnknownAppointment(public_id)
    return _line(row[0], row[1])


def _line(appointment: AmbassadorAppointment, slack_user_id: str) -> RosterLine:
    return RosterLine(
        public_id=appointment.public_id,
        slack_user_id=slack_user_id,
        prefectures=tuple(appointment.prefectures or ()),
        region=appointment.region,
        starts_on=appointment.starts_on,
        ends_on=appointment.ends_on,
        active=appointment.status is AppointmentStatus.ACTIVE,
        end_reason=appointment.end_reason,
    )


def _end(
    session: Session, *, clock: Clock, appointment: AmbassadorAppointment, actor: str, reason: str
) -> None:
    now = clock.now()
    decide_once(
        session,
        row=appointment,
        status=AmbassadorAppointment.status,
        allowed_from=(AppointmentStatus.ACTIVE,),
        values={
            "status": AppointmentStatus.ENDED,
            "ended_at": now,
            "ended_by": actor,
            "end_reason": reason,
            "updated_at": now,
        },
        audit_entry=AuditEntry(
            actor=actor,
            action="ambassadors.ended",
            target_type=TARGET,
            target_id=appointment.public_id,
            details={"reason": reason, "ends_on": appointment.ends_on.isoformat()},
        ),
        clock=clock,
    )


def _record_coverage(session: Session, appointment: AmbassadorAppointment) -> None:
    appointment.coverage_at_start = covered_municipalities(
        session, served_prefectures(appointment.prefectures or (), appointment.region)
    )


def _overlaps(
    session: Session, member_id: int, prefectures: Sequence[str], starts_on: date, ends_on: date
) -> bool:
    """The member already holds a running appointment for one of these prefectures whose
    term overlaps this one."""
    held = session.execute(
        select(AmbassadorAppointment.prefectures, AmbassadorAppointment.region).where(
            AmbassadorAppointment.member_id == member_id,
            AmbassadorAppointment.status == AppointmentStatus.ACTIVE,
            and_(
                AmbassadorAppointment.starts_on <= ends_on,
                AmbassadorAppointment.ends_on >= starts_on,
            ),
        )
    ).all()
    wanted = set(prefectures)
    return any(wanted & set(served_prefectures(p or (), r)) for p, r in held)


def _reminded_for_is(value: date | None) -> ColumnElement[bool]:
    column = AmbassadorAppointment.reminded_for
    return column.is_(None) if value is None else column == value


def _by_public_id(session: Session, public_id: str) -> AmbassadorAppointment | None:
    return session.scalar(
        select(AmbassadorAppointment).where(AmbassadorAppointment.public_id == public_id)
    )
