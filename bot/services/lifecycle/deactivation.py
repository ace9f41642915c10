"""Deactivation: approved accounts are deactivated with the best power the admin token has
(SCIM, else the admin API, else by hand from a to-do list), and an account deactivated in
Slack, by Kyoso or by anyone, ends its round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import SessionFactory
from bot.domain.lifecycle import ApprovalOutcome, EndReason
from bot.services import audit
from bot.services.lifecycle.decisions import approve
from bot.services.lifecycle.rounds import drop_unsent_attempts, end_open_round
from bot.services.members import find
from models import CycleStatus, MemberStatus


@dataclass(frozen=True)
class Deactivation:
    via: EndReason | None  # None: not possible with the tokens at hand (a to-do)
    error: str | None = None  # Slack refused (also a to-do, with the reason)
    # Slack was busy or unreachable: worth asking again later (a leaver's scheduled run does).
    transient: bool = False


class Deactivates(Protocol):
    """Deactivates one Slack account (bot/slack/lifecycle/deactivator.py)."""

    def deactivate(self, slack_user_id: str) -> Deactivation: ...


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
    end_open_round(session, member, status=CycleStatus.DEACTIVATED, reason=via, now=now)
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


def approve_and_deactivate(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    deactivator: Deactivates,
    cycle_ids: list[int],
    actor: str,
) -> ApprovalOutcome:
    """Approve a batch (each round once, however many clicks), then deactivate each account
    with the admin token's best power; what cannot be done becomes the to-do list.

    The approval commits before Slack is asked, so a failing Slack call never undoes it."""
    with session_factory.begin() as session:
        approved = approve(session, clock=clock, cycle_ids=cycle_ids, actor=actor)
    outcome = ApprovalOutcome(approved=approved, deactivated={}, to_do=[], failed={})
    for decided in approved:
        result = deactivator.deactivate(decided.slack_user_id)
        if result.via is None:
            if result.error:
                outcome.failed[decided.slack_user_id] = result.error
            else:
                outcome.to_do.append(decided.slack_user_id)
            continue
        with session_factory.begin() as session:
            mark_deactivated(
                session,
                clock=clock,
                slack_user_id=decided.slack_user_id,
                actor=actor,
                via=result.via,
            )
        outcome.deactivated.setdefault(result.via, []).append(decided.slack_user_id)
    return outcome
