"""The secretariat's transitions on a case: claim it, ask the author to edit, decide it once.

Every transition is a guarded `UPDATE … WHERE status IN (…)` (bot/decided.py), so of two
clicks exactly one wins; the loser gets AlreadyDecided and nothing of theirs is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case as sql_case
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, Transition, decide_once
from bot.decided import decide as decide_transition
from bot.domain.moderation import OPEN_STATUSES, ActionForm, CaseAction, EffectResult, Outcome
from bot.services import audit
from bot.services.moderation import cases, rules
from bot.services.moderation.cases import SYSTEM_ACTOR, TARGET_TYPE
from models import AuditEntry as AuditRow
from models import CaseStatus, Member, MemberStatus, ModerationCase

_FINAL_OUTCOME = {
    CaseAction.DISMISS: CaseStatus.DISMISSED,
    CaseAction.WARN: CaseStatus.WARNED,
    CaseAction.DELETE: CaseStatus.DELETED,
    CaseAction.REMOVE: CaseStatus.REMOVED,
}


@dataclass(frozen=True)
class Decided:
    """A decision that committed: what Slack is to do about it comes next."""

    public_id: str
    action: CaseAction
    actor: str
    channel_id: str
    message_ts: str
    author_id: str
    rule: str  # cited in a DM to the author
    comment: str  # the reason the secretariat typed
    edit_deadline: datetime | None


def _already(found: ModerationCase) -> AlreadyDecided:
    return AlreadyDecided(found.status.value, found)


def claim(session: Session, *, clock: Clock, public_id: str, actor: str) -> bool:
    """Take a case on (not a decision). False when the actor had already claimed it."""
    current = cases.get(session, public_id)
    if current.status not in OPEN_STATUSES:
        raise _already(current)
    # Not decide_once: claiming again, or a case another secretary claimed, is no race lost.
    changed = session.execute(
        update(ModerationCase)
        .where(
            ModerationCase.public_id == public_id,
            ModerationCase.status.in_(OPEN_STATUSES),
            (ModerationCase.claimed_by.is_(None)) | (ModerationCase.claimed_by != actor),
        )
        .values(
            claimed_by=actor,
            status=sql_case(
                (ModerationCase.status == CaseStatus.OPEN, CaseStatus.CLAIMED),
                else_=ModerationCase.status,
            ),
            updated_at=clock.now(),
        )
        .returning(ModerationCase.id)
    ).first()
    session.refresh(current)
    if changed is None:
        if current.status not in OPEN_STATUSES:
            raise _already(current)
        return False
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="moderation.claimed",
        target_type=TARGET_TYPE,
        target_id=public_id,
    )
    return True


def action_form(
    session: Session, *, clock: Clock, public_id: str, action: CaseAction, zone: ZoneInfo
) -> ActionForm:
    """What the action's modal needs; refused when the action can no longer be taken."""
    found = cases.get(session, public_id)
    if found.status not in OPEN_STATUSES or (
        action is CaseAction.REQUEST_EDIT and found.status is CaseStatus.EDIT_REQUESTED
    ):
        raise _already(found)
    return ActionForm(
        public_id=public_id,
        action=action,
        author_id=found.author_id,
        default_rule=rules.default_rule(found.reasons or []),
        edit_deadline=rules.edit_deadline(clock.now(), zone),
        edit_days=rules.EDIT_DEADLINE_BUSINESS_DAYS,
    )


@dataclass(frozen=True)
class Choice:
    """What a secretary submitted from a case's action modal."""

    public_id: str
    action: CaseAction
    reason: str
    rule: str | None  # as picked; anything but one of RULE_KEYS is dropped


def take(session: Session, *, clock: Clock, choice: Choice, actor: str, zone: ZoneInfo) -> Decided:
    """The action submitted from the case's modal, taken once however many clicks arrive."""
    rule = rules.known_rule(choice.rule)
    if choice.action is CaseAction.REQUEST_EDIT:
        found = request_edit(
            session,
            clock=clock,
            public_id=choice.public_id,
            actor=actor,
            reason=choice.reason,
            rule=rule or "general",
            zone=zone,
        )
    else:
        found = decide(
            session,
            clock=clock,
            public_id=choice.public_id,
            actor=actor,
            action=choice.action,
            reason=choice.reason,
            rule=rule,
        )
    return Decided(
        public_id=choice.public_id,
        action=choice.action,
        actor=actor,
        channel_id=found.channel_id,
        message_ts=found.message_ts,
        author_id=found.author_id,
        rule=rule or "general",
        comment=choice.reason,
        edit_deadline=found.edit_deadline,
    )


def request_edit(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    reason: str,
    rule: str,
    zone: ZoneInfo,
) -> ModerationCase:
    """Ask the author to edit by a deadline; a final action may follow."""
    now = clock.now()
    deadline = rules.edit_deadline(now, zone)
    return decide_once(
        session,
        row=cases.get(session, public_id),
        status=ModerationCase.status,
        allowed_from=(CaseStatus.OPEN, CaseStatus.CLAIMED),
        values={
            "status": CaseStatus.EDIT_REQUESTED,
            "edit_deadline": deadline,
            "followed_up_at": None,
            "claimed_by": func.coalesce(ModerationCase.claimed_by, actor),
            "updated_at": now,
        },
        audit_entry=AuditEntry(
            actor=actor,
            action="moderation.edit_requested",
            target_type=TARGET_TYPE,
            target_id=public_id,
            reason=reason,
            details={"rule": rule, "deadline": deadline.isoformat()},
        ),
        clock=clock,
    )


def decide(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    action: CaseAction,
    reason: str,
    rule: str | None = None,
) -> ModerationCase:
    """A final decision, taken once however many clicks arrive."""
    if action is CaseAction.REQUEST_EDIT:
        raise ValueError("request_edit is not final: use request_edit()")
    status = _FINAL_OUTCOME[action]
    return decide_transition(
        session,
        clock=clock,
        row=cases.get(session, public_id),
        status=ModerationCase.status,
        transition=Transition(status, OPEN_STATUSES, f"moderation.{status.value}"),
        actor=actor,
        reason=reason,
        target_type=TARGET_TYPE,
        target_id=public_id,
        details={"rule": rule} if rule else None,
    )


def record_effect(
    session: Session, *, clock: Clock, decided: Decided, effect: EffectResult
) -> None:
    """What Slack did (or could not do) after a decision: shown on the alert, kept in the log.
    A removed member is deactivated here too: Kyoso stops writing to them."""
    audit.record(
        session,
        clock=clock,
        actor=decided.actor,
        action="moderation.effect",
        target_type=TARGET_TYPE,
        target_id=decided.public_id,
        details=effect.details(),
    )
    if decided.action is CaseAction.REMOVE and effect.outcome is Outcome.DONE:
        session.execute(
            update(Member)
            .where(Member.slack_user_id == decided.author_id)
            .values(status=MemberStatus.DEACTIVATED, updated_at=clock.now())
        )


# --------------------------------------------------------------------------------------
# Edit requests past their deadline


def take_overdue_edit_requests(session: Session, *, clock: Clock) -> list[str]:
    """Edit requests past their deadline, each taken once (marked before anyone is told)."""
    now = clock.now()
    taken = list(
        session.scalars(
            update(ModerationCase)
            .where(
                ModerationCase.status == CaseStatus.EDIT_REQUESTED,
                ModerationCase.edit_deadline <= now,
                ModerationCase.followed_up_at.is_(None),
            )
            .values(followed_up_at=now, updated_at=now)
            .returning(ModerationCase.public_id)
        )
    )
    for public_id in taken:
        audit.record(
            session,
            clock=clock,
            actor=SYSTEM_ACTOR,
            action="moderation.edit_overdue",
            target_type=TARGET_TYPE,
            target_id=public_id,
        )
    return sorted(taken)


def author_changes_since_edit_request(session: Session, public_id: str) -> list[str]:
    """ "edited" / "deleted": what the author did to the message since the last edit request."""
    requested_at = session.scalar(
        select(func.max(AuditRow.occurred_at)).where(
            AuditRow.target_type == TARGET_TYPE,
            AuditRow.target_id == public_id,
            AuditRow.action == "moderation.edit_requested",
        )
    )
    if requested_at is None:
        return []
    actions = session.scalars(
        select(AuditRow.action)
        .where(
            AuditRow.target_type == TARGET_TYPE,
            AuditRow.target_id == public_id,
            AuditRow.action.in_(("moderation.message_edited", "moderation.message_deleted")),
            AuditRow.occurred_at >= requested_at,
        )
        .order_by(AuditRow.occurred_at, AuditRow.id)
    )
    return [a.removeprefix("moderation.message_") for a in actions]


def overdue_edit_requests(session: Session, *, clock: Clock) -> dict[str, list[str]]:
    """Each edit request past its deadline, taken once, with what its author did since."""
    return {
        public_id: author_changes_since_edit_request(session, public_id)
        for public_id in take_overdue_edit_requests(session, clock=clock)
    }
