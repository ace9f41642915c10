"""The member's own way out of a round ("keep my account") and the exempt list the
secretariat keeps (`kyoso members exempt`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.lifecycle import EndReason, KeepAnswer
from bot.services import audit
from bot.services.lifecycle.policy import cycle_id_of
from bot.services.lifecycle.rounds import UnknownCycle, end_member_round, end_open_round
from bot.services.members import UnknownMember, find
from bot.text import MAX_DB_INTEGER
from models import OPEN_CYCLE_STATUSES, CycleStatus, InactivityCycle


@dataclass(frozen=True)
class Kept:
    ended: bool  # False: the round had ended already (a double click, or activity first)
    status: CycleStatus  # the round's status now


def keep(session: Session, *, clock: Clock, cycle_id: int, slack_user_id: str) -> Kept:
    """The member pressed "keep my account": the round ends and the click counts as activity."""
    now = clock.now()
    member = find(session, slack_user_id)
    cycle = session.get(InactivityCycle, cycle_id)
    if member is None or cycle is None or cycle.member_id != member.id:
        raise UnknownCycle(cycle_id)
    try:
        decide_once(
            session,
            row=cycle,
            status=InactivityCycle.status,
            allowed_from=OPEN_CYCLE_STATUSES,
            values={
                "status": CycleStatus.ANSWERED,
                "ended_at": now,
                "end_reason": EndReason.KEEP.value,
            },
            audit_entry=AuditEntry(
                actor=slack_user_id,
                action="lifecycle.kept",
                target_type="member",
                target_id=slack_user_id,
                details={"cycle": cycle_id},
            ),
            clock=clock,
        )
        ended = True
    except AlreadyDecided:
        ended = False
    if member.last_seen_at is None or member.last_seen_at < now:
        member.last_seen_at = now
    if ended:
        end_member_round(session, member, now)
    return Kept(ended=ended, status=cycle.status)


def answer_keep(session: Session, *, clock: Clock, value: str, slack_user_id: str) -> KeepAnswer:
    """The keep button as pressed: its value names the round (`<cycle id>:<number>`)."""
    try:
        cycle_id = cycle_id_of(value)
        if cycle_id > MAX_DB_INTEGER:
            raise UnknownCycle(cycle_id)  # beyond any id: names nothing
        kept = keep(session, clock=clock, cycle_id=cycle_id, slack_user_id=slack_user_id)
    except (ValueError, UnknownCycle):
        return KeepAnswer.CLOSED
    if kept.ended:
        return KeepAnswer.KEPT
    return KeepAnswer.CLOSED if kept.status is CycleStatus.DEACTIVATED else KeepAnswer.ALREADY


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
        end_open_round(
            session, member, status=CycleStatus.RESTORED, reason=EndReason.EXEMPT, now=now
        )
        end_member_round(session, member, now)
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
