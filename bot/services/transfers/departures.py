"""The last day: what the `transfers-departures` job records, step by step, for a departure
whose last day has ended (its end of business, see bot/domain/transfers_leavers.py).

Each step is recorded as it is done (Handover.done_at, handed_over_at, goodbye_claimed_at /
goodbye_sent_at, the final status), so a run that stops half-way is finished by the next
one and nothing is done twice. The Slack calls between the steps are the adapter's
(bot/slack/transfers/leavers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.lifecycle import EndReason
from bot.domain.transfers_leavers import END_OF_BUSINESS, HandoverLine
from bot.services import audit, members
from bot.services.ambassadors import appointments
from bot.services.channels.registry import find_channel
from bot.services.knowledge.entries import make_anonymous
from bot.services.lifecycle.deactivation import mark_deactivated
from bot.services.transfers.leavers import (
    OPEN_CASE_STATUSES,
    TARGET,
    claimed_cases,
    ending_roles,
    facilitated_channels,
    label,
    open_requests,
)
from models import (
    ChannelFacilitator,
    ChannelRequest,
    Departure,
    DepartureStatus,
    Handover,
    HandoverKind,
    KnowledgeChoice,
    Member,
    MemberStatus,
    ModerationCase,
    Role,
)
from models.moderation import CaseStatus

ACTOR = audit.SYSTEM_ACTOR
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class ChannelStep:
    handover_id: int
    slack_channel_id: str
    successor: str | None  # None: the secretariat


@dataclass(frozen=True)
class DueDeparture:
    id: int
    public_id: str
    slack_user_id: str
    last_day: date
    handed_over: bool
    goodbye_claimed: bool
    goodbye_sent: bool
    channel_steps: tuple[ChannelStep, ...]  # channels not handed on yet


def due_ids(session: Session, *, now: datetime, zone: ZoneInfo) -> list[int]:
    """Scheduled departures whose last day has ended (the end of business, local time)."""
    local = now.astimezone(zone)
    last_ended = local.date() if local.time() >= END_OF_BUSINESS else local.date() - timedelta(1)
    return list(
        session.scalars(
            select(Departure.id)
            .where(Departure.status == DepartureStatus.SCHEDULED, Departure.last_day <= last_ended)
            .order_by(Departure.last_day, Departure.id)
        )
    )


def load(session: Session, *, departure_id: int) -> DueDeparture | None:
    """The departure's state, with anything the member took on since the form (a new
    channel, a request, a case, a role) added to the hand-over, for the secretariat.
    None when it is no longer scheduled."""
    departure = session.get(Departure, departure_id)
    if departure is None or departure.status is not DepartureStatus.SCHEDULED:
        return None
    member = _member(session, departure)
    if departure.handed_over_at is None:
        _add_late_items(session, departure, member.slack_user_id)
    steps = session.scalars(
        select(Handover)
        .where(
            Handover.departure_id == departure.id,
            Handover.kind == HandoverKind.CHANNEL,
            Handover.done_at.is_(None),
        )
        .order_by(Handover.id)
    )
    return DueDeparture(
        id=departure.id,
        public_id=departure.public_id,
        slack_user_id=member.slack_user_id,
        last_day=departure.last_day,
        handed_over=departure.handed_over_at is not None,
        goodbye_claimed=departure.goodbye_claimed_at is not None,
        goodbye_sent=departure.goodbye_sent_at is not None,
        channel_steps=tuple(ChannelStep(h.id, h.target, h.successor_id) for h in steps),
    )


def move_channel(
    session: Session, *, clock: Clock, step: ChannelStep, leaver: str, invite_error: str | None
) -> None:
    """The registry's facilitator row goes from the leaver to the successor (to nobody: the
    secretariat looks after the channel)."""
    handover = session.get(Handover, step.handover_id)
    if handover is None or handover.done_at is not None:
        return
    channel = find_channel(session, step.slack_channel_id)
    if channel is not None:
        session.execute(
            delete(ChannelFacilitator).where(
                ChannelFacilitator.channel_id == channel.id,
                ChannelFacilitator.member_id.in_(
                    select(Member.id).where(Member.slack_user_id == leaver)
                ),
            )
        )
        if step.successor is not None:
            successor = members.ensure_member(session, clock=clock, slack_user_id=step.successor)
            known = session.get(ChannelFacilitator, (channel.id, successor.id))
            if known is None:
                session.add(
                    ChannelFacilitator(
                        channel_id=channel.id, member_id=successor.id, added_at=clock.now()
                    )
                )
    _done(session, clock=clock, handover=handover, invite_error=invite_error)


def hand_over_rest(session: Session, *, clock: Clock, departure_id: int) -> None:
    """Requests, cases and roles as the hand-over says; knowledge entries anonymous if the
    member chose so. Each row once (done_at)."""
    departure = session.get(Departure, departure_id)
    assert departure is not None
    leaver = _member(session, departure).slack_user_id
    pending = session.scalars(
        select(Handover).where(
            Handover.departure_id == departure.id,
            Handover.kind != HandoverKind.CHANNEL,
            Handover.done_at.is_(None),
        )
    )
    for handover in pending:
        if handover.kind is HandoverKind.REQUEST and handover.successor_id is not None:
            session.execute(
                update(ChannelRequest)
                .where(
                    ChannelRequest.public_id == handover.target,
                    ChannelRequest.requester_id == leaver,
                )
                .values(requester_id=handover.successor_id, updated_at=clock.now())
            )
        elif handover.kind is HandoverKind.CASE:
            _hand_over_case(session, handover=handover, leaver=leaver)
        elif handover.kind is HandoverKind.ROLE:
            members.revoke_role(
                session, clock=clock, slack_user_id=leaver, role=Role(handover.target), actor=ACTOR
            )
        _done(session, clock=clock, handover=handover, invite_error=None)
    # Leaving ends the member's ambassador appointments (their role went with the hand-over).
    appointments.end_all_for_member(
        session, clock=clock, member_id=departure.member_id, actor=ACTOR, reason="departure"
    )
    if departure.knowledge is KnowledgeChoice.ANONYMOUS:
        make_anonymous(session, clock=clock, user_id=leaver, actor=ACTOR)


def for_secretariat(session: Session, *, departure_id: int) -> list[HandoverLine]:
    """What came to the secretariat: things handed on to nobody by name."""
    rows = session.scalars(
        select(Handover)
        .where(
            Handover.departure_id == departure_id,
            Handover.successor_id.is_(None),
            Handover.kind != HandoverKind.ROLE,
        )
        .order_by(Handover.kind, Handover.id)
    )
    return [HandoverLine(h.kind, label(session, h), None) for h in rows]


def mark_handed_over(session: Session, *, clock: Clock, departure_id: int) -> None:
    session.execute(
        update(Departure)
        .where(Departure.id == departure_id, Departure.handed_over_at.is_(None))
        .values(handed_over_at=clock.now(), updated_at=clock.now())
    )


def claim_goodbye(session: Session, *, clock: Clock, departure_id: int) -> bool:
    """Claimed before it is posted: True for the one run that claimed it."""
    claimed = session.execute(
        update(Departure)
        .where(Departure.id == departure_id, Departure.goodbye_claimed_at.is_(None))
        .values(goodbye_claimed_at=clock.now())
        .returning(Departure.id)
    ).first()
    return claimed is not None


def release_goodbye(session: Session, *, departure_id: int) -> None:
    """Slack surely did not take it (refused before acting): the next run posts it."""
    session.execute(
        update(Departure)
        .where(Departure.id == departure_id, Departure.goodbye_sent_at.is_(None))
        .values(goodbye_claimed_at=None)
    )


def goodbye_sent(session: Session, *, clock: Clock, departure_id: int) -> None:
    session.execute(
        update(Departure)
        .where(Departure.id == departure_id, Departure.goodbye_sent_at.is_(None))
        .values(goodbye_sent_at=clock.now())
    )


def postpone(session: Session, *, clock: Clock, departure_id: int, error: str) -> None:
    """Slack was busy: still scheduled, tried again on the next run."""
    session.execute(
        update(Departure)
        .where(Departure.id == departure_id)
        .values(error=error[:MAX_ERROR_CHARS], updated_at=clock.now())
    )


def finish(session: Session, *, clock: Clock, departure_id: int, via: EndReason) -> bool:
    """Deactivated in Slack: the member is marked deactivated and the departure is done."""
    departure = session.get(Departure, departure_id)
    assert departure is not None
    if not _close(session, clock=clock, departure=departure, status=DepartureStatus.DONE, via=via):
        return False
    mark_deactivated(
        session,
        clock=clock,
        slack_user_id=_member(session, departure).slack_user_id,
        actor=ACTOR,
        via=via,
    )
    return True


def to_do(session: Session, *, clock: Clock, departure_id: int, error: str | None) -> bool:
    """No power to deactivate (or Slack refused for good): the secretariat does it by hand."""
    departure = session.get(Departure, departure_id)
    assert departure is not None
    return _close(
        session, clock=clock, departure=departure, status=DepartureStatus.TODO, error=error
    )


def settle_to_dos(session: Session, *, clock: Clock) -> int:
    """To-dos whose account Slack now shows deactivated (the secretariat did it): done."""
    gone = select(Member.id).where(
        Member.status.in_((MemberStatus.DEACTIVATED, MemberStatus.DELETED))
    )
    done = session.scalars(
        update(Departure)
        .where(Departure.status == DepartureStatus.TODO, Departure.member_id.in_(gone))
        .values(status=DepartureStatus.DONE, deactivation_via="in_slack", updated_at=clock.now())
        .returning(Departure.public_id)
    ).all()
    for public_id in done:
        audit.record(
            session,
            clock=clock,
            actor=ACTOR,
            action="transfers.departure_done",
            target_type=TARGET,
            target_id=public_id,
            details={"via": "in_slack"},
        )
    return len(done)


def _close(
    session: Session,
    *,
    clock: Clock,
    departure: Departure,
    status: DepartureStatus,
    via: EndReason | None = None,
    error: str | None = None,
) -> bool:
    now = clock.now()
    closed = session.execute(
        update(Departure)
        .where(Departure.id == departure.id, Departure.status == DepartureStatus.SCHEDULED)
        .values(
            status=status,
            deactivated_at=now if via is not None else None,
            deactivation_via=via.value if via is not None else None,
            error=error[:MAX_ERROR_CHARS] if error else None,
            updated_at=now,
        )
        .returning(Departure.id)
    ).first()
    if closed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=ACTOR,
        action=f"transfers.departure_{status.value}",
        target_type=TARGET,
        target_id=departure.public_id,
        details={"via": via.value if via else None, "error": error},
    )
    return True


def _hand_over_case(session: Session, *, handover: Handover, leaver: str) -> None:
    case = session.scalar(select(ModerationCase).where(ModerationCase.public_id == handover.target))
    if case is None or case.claimed_by != leaver or case.status not in OPEN_CASE_STATUSES:
        return
    case.claimed_by = handover.successor_id
    if handover.successor_id is None and case.status is CaseStatus.CLAIMED:
        case.status = CaseStatus.OPEN  # back in the secretariat's queue


def _done(session: Session, *, clock: Clock, handover: Handover, invite_error: str | None) -> None:
    handover.done_at = clock.now()
    departure = session.get(Departure, handover.departure_id)
    assert departure is not None
    audit.record(
        session,
        clock=clock,
        actor=ACTOR,
        action="transfers.handed_over",
        target_type=TARGET,
        target_id=departure.public_id,
        details={
            "kind": handover.kind.value,
            "target": handover.target,
            "successor": handover.successor_id,
            "invite_error": invite_error,
        },
    )
    session.flush()


def _add_late_items(session: Session, departure: Departure, leaver: str) -> None:
    known = {
        (kind, target)
        for kind, target in session.execute(
            select(Handover.kind, Handover.target).where(Handover.departure_id == departure.id)
        )
    }
    now_held = [
        *(
            (HandoverKind.CHANNEL, c.slack_channel_id)
            for c in facilitated_channels(session, leaver)
        ),
        *((HandoverKind.REQUEST, r.public_id) for r in open_requests(session, leaver)),
        *((HandoverKind.CASE, c.public_id) for c in claimed_cases(session, leaver)),
        *((HandoverKind.ROLE, r.value) for r in ending_roles(session, leaver)),
    ]
    for kind, target in now_held:
        if (kind, target) not in known:
            session.add(Handover(departure_id=departure.id, kind=kind, target=target))
    session.flush()


def _member(session: Session, departure: Departure) -> Member:
    member = session.get(Member, departure.member_id)
    assert member is not None
    return member
