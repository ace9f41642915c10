"""Leavers: a member (or the secretariat for them) sets a last day and the hand-over
(事務引継); the departure can be changed or cancelled until the last day ends.

One scheduled departure per member (a partial unique index): a second submission changes
the first, an identical one writes nothing. Its hand-over is a Handover row per thing handed
on, carried out on the last day by `departures.py`."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AuditEntry, decide_once
from bot.domain.transfers_leavers import (
    LAST_DAY_HORIZON,
    CurrentPlan,
    DepartureInvalid,
    DeparturePlan,
    DepartureSummary,
    FacilitatedChannel,
    HandoverLine,
    LeavingForm,
    NotYours,
    TooLate,
    UnknownDeparture,
    ends_at,
)
from bot.services import audit, members
from bot.services.channels.requests import OPEN_REQUEST_STATUSES
from bot.services.knowledge.entries import count_owned
from bot.text import nfkc
from models import (
    Channel,
    ChannelFacilitator,
    ChannelRequest,
    Departure,
    DepartureStatus,
    Handover,
    HandoverKind,
    Member,
    MemberStatus,
    ModerationCase,
    Role,
)
from models.moderation import CaseStatus

TARGET = "departure"
# Roles that end with the departure (the secretariat's own role is the secretariat's call).
ENDING_ROLES = (Role.AMBASSADOR, Role.FACILITATOR)
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.EDIT_REQUESTED)
GONE = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)


# --- what the member hands on ---------------------------------------------------------------


def facilitated_channels(session: Session, slack_user_id: str) -> list[FacilitatedChannel]:
    rows = session.execute(
        select(Channel.slack_channel_id, Channel.name)
        .join(ChannelFacilitator, ChannelFacilitator.channel_id == Channel.id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == slack_user_id)
        .order_by(Channel.name, Channel.id)
    )
    return [FacilitatedChannel(str(cid), str(name)) for cid, name in rows]


def open_requests(session: Session, slack_user_id: str) -> list[ChannelRequest]:
    return list(
        session.scalars(
            select(ChannelRequest)
            .where(
                ChannelRequest.requester_id == slack_user_id,
                ChannelRequest.status.in_(OPEN_REQUEST_STATUSES),
            )
            .order_by(ChannelRequest.created_at, ChannelRequest.id)
        )
    )


def claimed_cases(session: Session, slack_user_id: str) -> list[ModerationCase]:
    return list(
        session.scalars(
            select(ModerationCase)
            .where(
                ModerationCase.claimed_by == slack_user_id,
                ModerationCase.status.in_(OPEN_CASE_STATUSES),
            )
            .order_by(ModerationCase.created_at, ModerationCase.id)
        )
    )


def ending_roles(session: Session, slack_user_id: str) -> list[Role]:
    return [role for role in ENDING_ROLES if members.has_role(session, slack_user_id, role)]


def scheduled_of(session: Session, slack_user_id: str) -> Departure | None:
    return session.scalar(
        select(Departure)
        .join(Member, Member.id == Departure.member_id)
        .where(Member.slack_user_id == slack_user_id, Departure.status == DepartureStatus.SCHEDULED)
    )


def leaving_form(session: Session, *, slack_user_id: str) -> LeavingForm:
    current = scheduled_of(session, slack_user_id)
    plan = None
    if current is not None:
        plan = CurrentPlan(
            public_id=current.public_id,
            last_day=current.last_day,
            knowledge=current.knowledge,
            successors={(h.kind, h.target): h.successor_id for h in _handovers(session, current)},
        )
    return LeavingForm(
        slack_user_id=slack_user_id,
        channels=tuple(facilitated_channels(session, slack_user_id)),
        requests=tuple(r.name for r in open_requests(session, slack_user_id)),
        cases=tuple(c.public_id for c in claimed_cases(session, slack_user_id)),
        roles=tuple(r.value for r in ending_roles(session, slack_user_id)),
        knowledge_entries=count_owned(session, slack_user_id),
        current=plan,
    )


# --- scheduling, changing, cancelling ---------------------------------------------------------


def schedule(
    session: Session,
    *,
    clock: Clock,
    zone: ZoneInfo,
    slack_user_id: str,
    actor: str,
    plan: DeparturePlan,
) -> DepartureSummary:
    """Record (or change) the member's departure and its hand-over. The member themself, or
    the secretariat for them (their approval). Raises NotYours, DepartureInvalid, TooLate."""
    if actor != slack_user_id and not members.has_role(session, actor, Role.SECRETARIAT):
        raise NotYours(slack_user_id)
    now = clock.now()
    _check(session, now=now, zone=zone, slack_user_id=slack_user_id, plan=plan)
    assert plan.last_day is not None  # _check refuses a missing day
    member = members.ensure_member(session, clock=clock, slack_user_id=slack_user_id)
    wanted = _wanted_handovers(session, slack_user_id, plan)
    departure = scheduled_of(session, slack_user_id)
    if departure is None:
        departure = _insert(session, member=member, now=now, plan=plan, actor=actor)
        created = departure is not None
        if departure is None:  # a concurrent submission inserted first: change that one
            departure = scheduled_of(session, slack_user_id)
            if departure is None:
                raise UnknownDeparture(slack_user_id)
    else:
        created = False
    if not created:
        if ends_at(departure.last_day, zone) <= now:
            raise TooLate(departure.public_id)
        if _same(session, departure, plan, wanted):
            return summary(session, departure, zone=zone, unchanged=True)
        departure.last_day = plan.last_day
        departure.knowledge = plan.knowledge
        departure.requested_by = actor
        departure.updated_at = now
        session.execute(delete(Handover).where(Handover.departure_id == departure.id))
    for line in wanted:
        session.add(
            Handover(
                departure_id=departure.id,
                kind=line.kind,
                target=line.label,
                successor_id=line.successor,
            )
        )
    session.flush()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="transfers.departure_scheduled" if created else "transfers.departure_changed",
        target_type=TARGET,
        target_id=departure.public_id,
        details={
            "member": slack_user_id,
            "last_day": plan.last_day.isoformat(),
            "knowledge": plan.knowledge.value,
            "handovers": [[h.kind.value, h.label, h.successor] for h in wanted],
        },
    )
    return summary(session, departure, zone=zone, changed=not created)


def cancel(
    session: Session, *, clock: Clock, zone: ZoneInfo, public_id: str, actor: str
) -> DepartureSummary:
    """The member (or the secretariat) cancels before the last day ends. Raises
    UnknownDeparture, NotYours, AlreadyDecided (a double click), TooLate."""
    departure = session.scalar(select(Departure).where(Departure.public_id == public_id))
    if departure is None:
        raise UnknownDeparture(public_id)
    member = session.get(Member, departure.member_id)
    assert member is not None
    if actor != member.slack_user_id and not members.has_role(session, actor, Role.SECRETARIAT):
        raise NotYours(public_id)
    now = clock.now()
    if departure.status is DepartureStatus.SCHEDULED and ends_at(departure.last_day, zone) <= now:
        raise TooLate(public_id)
    decide_once(
        session,
        row=departure,
        status=Departure.status,
        allowed_from=(DepartureStatus.SCHEDULED,),
        values={"status": DepartureStatus.CANCELLED, "updated_at": now},
        audit_entry=AuditEntry(
            actor=actor,
            action="transfers.departure_cancelled",
            target_type=TARGET,
            target_id=public_id,
            details={"member": member.slack_user_id},
        ),
        clock=clock,
    )
    return summary(session, departure, zone=zone)


def summary(
    session: Session,
    departure: Departure,
    *,
    zone: ZoneInfo,
    changed: bool = False,
    unchanged: bool = False,
) -> DepartureSummary:
    member = session.get(Member, departure.member_id)
    assert member is not None
    return DepartureSummary(
        public_id=departure.public_id,
        slack_user_id=member.slack_user_id,
        last_day=departure.last_day,
        ends_at=ends_at(departure.last_day, zone),
        knowledge=departure.knowledge,
        knowledge_entries=count_owned(session, member.slack_user_id),
        handovers=tuple(
            HandoverLine(h.kind, label(session, h), h.successor_id)
            for h in _handovers(session, departure)
        ),
        requested_by=departure.requested_by,
        status=departure.status.value,
        changed=changed,
        unchanged=unchanged,
    )


def label(session: Session, handover: Handover) -> str:
    """What a person reads for a handed-on thing: a request by its name, the rest by id."""
    if handover.kind is HandoverKind.REQUEST:
        name = session.scalar(
            select(ChannelRequest.name).where(ChannelRequest.public_id == handover.target)
        )
        return name or handover.target
    return handover.target


def _handovers(session: Session, departure: Departure) -> list[Handover]:
    return list(
        session.scalars(
            select(Handover)
            .where(Handover.departure_id == departure.id)
            .order_by(Handover.kind, Handover.id)
        )
    )


def _insert(
    session: Session, *, member: Member, now: datetime, plan: DeparturePlan, actor: str
) -> Departure | None:
    """The new departure, or None when another submission's insert won the race."""
    assert plan.last_day is not None
    departure = Departure(
        public_id=secrets.token_hex(8),
        member_id=member.id,
        status=DepartureStatus.SCHEDULED,
        last_day=plan.last_day,
        knowledge=plan.knowledge,
        requested_by=actor,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(departure)
            session.flush()
    except IntegrityError:
        return None
    return departure


def _wanted_handovers(
    session: Session, slack_user_id: str, plan: DeparturePlan
) -> list[HandoverLine]:
    lines = [
        HandoverLine(
            HandoverKind.CHANNEL,
            channel.slack_channel_id,
            plan.channel_successors.get(channel.slack_channel_id, plan.other_channels_successor),
        )
        for channel in facilitated_channels(session, slack_user_id)
    ]
    lines += [
        HandoverLine(HandoverKind.REQUEST, r.public_id, plan.requests_successor)
        for r in open_requests(session, slack_user_id)
    ]
    lines += [
        HandoverLine(HandoverKind.CASE, c.public_id, plan.cases_successor)
        for c in claimed_cases(session, slack_user_id)
    ]
    lines += [
        HandoverLine(HandoverKind.ROLE, role.value, None)
        for role in ending_roles(session, slack_user_id)
    ]
    return lines


def _same(
    session: Session, departure: Departure, plan: DeparturePlan, wanted: list[HandoverLine]
) -> bool:
    stored = {(h.kind, h.target, h.successor_id) for h in _handovers(session, departure)}
    return (
        departure.last_day == plan.last_day
        and departure.knowledge is plan.knowledge
        and stored == {(h.kind, h.label, h.successor) for h in wanted}
    )


def _check(
    session: Session, *, now: datetime, zone: ZoneInfo, slack_user_id: str, plan: DeparturePlan
) -> None:
    problems: dict[str, str] = {}
    today = now.astimezone(zone).date()
    if plan.last_day is None:
        problems["last_day"] = "missing"
    elif plan.last_day < today:
        problems["last_day"] = "past"
    elif plan.last_day > today + LAST_DAY_HORIZON:
        problems["last_day"] = "too_far"
    fields: dict[str, str | None] = {
        f"channel:{cid}": successor for cid, successor in plan.channel_successors.items()
    }
    fields |= {
        "other_channels": plan.other_channels_successor,
        "requests": plan.requests_successor,
    }
    for name, successor in fields.items():
        problem = _successor_problem(session, slack_user_id, successor)
        if problem:
            problems[name] = problem
    cases = plan.cases_successor
    problem = _successor_problem(session, slack_user_id, cases)
    if problem is None and cases and not members.has_role(session, cases, Role.SECRETARIAT):
        problem = "not_secretariat"  # cases are the secretariat's work
    if problem:
        problems["cases"] = problem
    if problems:
        raise DepartureInvalid(problems)


def _successor_problem(session: Session, leaver: str, successor: str | None) -> str | None:
    if successor is None:
        return None
    if successor == leaver:
        return "self"
    member = members.find(session, successor)
    if member is not None and (member.is_bot or member.status in GONE):
        return "unavailable"
    if scheduled_of(session, successor) is not None:
        return "leaving"
    return None


def member_by_handle(session: Session, handle: str) -> str | None:
    """The member a secretary typed as `@name` (the slash command receives plain text): by
    display name, else full name; only when exactly one member matches."""
    wanted = nfkc(handle.removeprefix("@")).strip()
    if not wanted:
        return None
    for column in (Member.display_name, Member.real_name):
        found = session.scalars(
            select(Member.slack_user_id)
            .where(column == wanted, Member.status.not_in(GONE))
            .limit(2)
        ).all()
        if len(found) == 1:
            return found[0]
    return None
