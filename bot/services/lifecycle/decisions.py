"""The secretariat's decisions on flagged rounds: approve deactivation (a batch) and restore
(one click). Each round is decided once, however many secretaries click (bot/decided.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.lifecycle import DecidedRound, EndReason, RestoreOutcome
from bot.services.lifecycle.rounds import UnknownCycle, end_member_round
from bot.text import parse_int
from models import OPEN_CYCLE_STATUSES, CycleStatus, InactivityCycle, Member


def _decide(
    session: Session,
    *,
    clock: Clock,
    cycle: InactivityCycle,
    actor: str,
    allowed_from: Sequence[CycleStatus],
    to: CycleStatus,
    action: str,
    end_reason: EndReason | None = None,
) -> DecidedRound:
    """Raises AlreadyDecided when another click decided the round first."""
    now = clock.now()
    member = session.get(Member, cycle.member_id)
    assert member is not None
    values: dict[str, Any] = {"status": to, "decided_by": actor, "decided_at": now}
    if end_reason is not None:
        values |= {"ended_at": now, "end_reason": end_reason.value}
    decide_once(
        session,
        row=cycle,
        status=InactivityCycle.status,
        allowed_from=allowed_from,
        values=values,
        audit_entry=AuditEntry(
            actor=actor,
            action=action,
            target_type="member",
            target_id=member.slack_user_id,
            details={"cycle": cycle.id},
        ),
        clock=clock,
    )
    if end_reason is not None:
        end_member_round(session, member, now)
    return DecidedRound(cycle.id, member.slack_user_id, member.real_name)


def approve(
    session: Session, *, clock: Clock, cycle_ids: Sequence[int], actor: str
) -> list[DecidedRound]:
    """The secretariat approves deactivating flagged members (a batch; each decided once).
    Rounds someone else decided first are left out."""
    decided = []
    for cycle_id in dict.fromkeys(cycle_ids):
        cycle = session.get(InactivityCycle, cycle_id)
        if cycle is None:
            continue
        try:
            decided.append(
                _decide(
                    session,
                    clock=clock,
                    cycle=cycle,
                    actor=actor,
                    allowed_from=(CycleStatus.FLAGGED,),
                    to=CycleStatus.APPROVED,
                    action="lifecycle.approved",
                )
            )
        except AlreadyDecided:
            continue
    return decided


def restore(session: Session, *, clock: Clock, cycle_id: int, actor: str) -> DecidedRound:
    """One click takes a member off the flag list (also after approval, until deactivated).
    Raises UnknownCycle, or AlreadyDecided with the round's status now."""
    cycle = session.get(InactivityCycle, cycle_id)
    if cycle is None:
        raise UnknownCycle(cycle_id)
    return _decide(
        session,
        clock=clock,
        cycle=cycle,
        actor=actor,
        allowed_from=(CycleStatus.FLAGGED, CycleStatus.APPROVED),
        to=CycleStatus.RESTORED,
        action="lifecycle.restored",
        end_reason=EndReason.RESTORED,
    )


def restore_pressed(session: Session, *, clock: Clock, value: str, actor: str) -> RestoreOutcome:
    """The restore button as pressed: its value is the round's id."""
    cycle_id = parse_int(value, low=1)
    if cycle_id is None:
        return RestoreOutcome()  # names no round
    try:
        return RestoreOutcome(
            restored=restore(session, clock=clock, cycle_id=cycle_id, actor=actor)
        )
    except AlreadyDecided as exc:
        return RestoreOutcome(decided_before=exc.status)
    except UnknownCycle:
        return RestoreOutcome()


def batch_of(value: str, *, limit: int) -> list[int]:
    """The round ids the approve button's value lists (at most `limit`; junk is dropped)."""
    parsed = (parse_int(part, low=1) for part in value.split(","))
    return [cycle_id for cycle_id in parsed if cycle_id is not None][:limit]


def open_cycle_of(session: Session, slack_user_id: str) -> InactivityCycle | None:
    return session.scalar(
        select(InactivityCycle)
        .join(Member, Member.id == InactivityCycle.member_id)
        .where(
            Member.slack_user_id == slack_user_id,
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
        )
    )
