"""The secretariat's side of an affiliation check (所属確認が必要): what its card shows, the
checks whose card never reached the review channel, and the three decisions (ask the member,
keep, start deactivation), each taken once.

Starting deactivation deactivates nobody: the member goes onto the account lifecycle's flag
list (a flagged round, bot/services/lifecycle), where the secretariat's existing approval
decides. The round has no `last_seen_at_start`, so the member's activity does not end it: an
unverified affiliation is not answered by posting a message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.transfer_checks import CheckAction, CheckCard, CheckDecision
from bot.services.applications.organisations import label_of
from bot.services.lifecycle.rounds import drop_unsent_attempts
from bot.services.transfers.slack_changes import domain_of
from bot.text import normalise_email
from models import (
    OPEN_CHECK_STATUSES,
    OPEN_CYCLE_STATUSES,
    AffiliationCheck,
    CheckStatus,
    CycleStatus,
    InactivityCycle,
    Member,
    MemberStatus,
)

_TO: dict[CheckAction, tuple[CheckStatus, tuple[CheckStatus, ...]]] = {
    CheckAction.ASK: (CheckStatus.ASKED, (CheckStatus.OPEN,)),
    CheckAction.KEEP: (CheckStatus.KEPT, OPEN_CHECK_STATUSES),
    CheckAction.DEACTIVATE: (CheckStatus.DEACTIVATING, OPEN_CHECK_STATUSES),
}


def _by_public_id(session: Session, public_id: str) -> AffiliationCheck | None:
    return session.scalar(select(AffiliationCheck).where(AffiliationCheck.public_id == public_id))


def check_card(session: Session, public_id: str) -> CheckCard | None:
    check = _by_public_id(session, public_id)
    if check is None:
        return None
    member = session.get(Member, check.member_id)
    assert member is not None
    return CheckCard(
        public_id=check.public_id,
        slack_user_id=member.slack_user_id,
        member_name=member.real_name or member.display_name,
        organisation=label_of(session, check.organisation_id),
        old_domain=domain_of(normalise_email(check.old_email or "")),
        new_domain=domain_of(normalise_email(check.new_email or "")),
        outcome=check.outcome,
        reasons=tuple(check.reasons or ()),
        status=check.status,
        decided_by=check.decided_by,
        decided_at=check.decided_at,
    )


def unposted_checks(session: Session) -> list[str]:
    """Open checks whose card never reached the review channel (Slack failed, no channel)."""
    return list(
        session.scalars(
            select(AffiliationCheck.public_id)
            .where(
                AffiliationCheck.status.in_(OPEN_CHECK_STATUSES),
                AffiliationCheck.review_message_ts.is_(None),
            )
            .order_by(AffiliationCheck.id)
        )
    )


def decide_check(
    session: Session, *, clock: Clock, public_id: str, action: CheckAction, actor: str
) -> CheckDecision:
    """One of the secretariat's buttons, decided once: a second click (or a second
    secretary) changes nothing and is told so."""
    check = _by_public_id(session, public_id)
    if check is None:
        return CheckDecision(public_id, None, None)
    member = session.get(Member, check.member_id)
    assert member is not None
    to, allowed_from = _TO[action]
    now = clock.now()
    try:
        decide_once(
            session,
            row=check,
            status=AffiliationCheck.status,
            allowed_from=allowed_from,
            values={"status": to, "decided_by": actor, "decided_at": now, "updated_at": now},
            audit_entry=AuditEntry(
                actor=actor,
                action=f"transfers.check_{action.value}",
                target_type="affiliation_check",
                target_id=check.public_id,
                details={"member": member.slack_user_id},
            ),
            clock=clock,
        )
    except AlreadyDecided:
        return CheckDecision(public_id, member.slack_user_id, check.status, decided_before=True)
    if action is CheckAction.DEACTIVATE:
        _flag_for_approval(session, clock=clock, member=member)
    return CheckDecision(public_id, member.slack_user_id, check.status)


def _flag_for_approval(session: Session, *, clock: Clock, member: Member) -> None:
    """The member onto the lifecycle flag list, where the secretariat approves (or restores)."""
    now = clock.now()
    cycle = session.scalar(
        select(InactivityCycle).where(
            InactivityCycle.member_id == member.id,
            InactivityCycle.status.in_(OPEN_CYCLE_STATUSES),
        )
    )
    if cycle is None:
        session.add(
            InactivityCycle(
                member_id=member.id,
                status=CycleStatus.FLAGGED,
                last_seen_at_start=None,
                started_at=now,
                flagged_at=now,
            )
        )
    elif cycle.status is CycleStatus.CONTACTING:  # no more contacts: the secretariat decides
        cycle.status = CycleStatus.FLAGGED
        cycle.flagged_at = now
        cycle.last_seen_at_start = None
    if member.status in (MemberStatus.ACTIVE, MemberStatus.INACTIVE):
        member.status = MemberStatus.FLAGGED
        member.updated_at = now
    session.flush()
    drop_unsent_attempts(session)
