"""Where a confirmed move's address stands in Slack: changed through SCIM, asked of the
member (then seen in Slack, or a to-do for the secretariat once the grace has passed). Each
step is a guarded UPDATE from one state to the next, so two runs never both take it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import audit
from bot.services.transfers.moves import TARGET
from models import AffiliationMove, Member, MoveStatus, SlackEmailState


def _slack_email(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    from_: SlackEmailState,
    to: SlackEmailState,
    action: str | None,
) -> bool:
    """A guarded step of the Slack address's state; False when another run took it."""
    changed = session.execute(
        update(AffiliationMove)
        .where(
            AffiliationMove.public_id == public_id,
            AffiliationMove.slack_email_state == from_,
        )
        .values(slack_email_state=to, updated_at=clock.now())
        .returning(AffiliationMove.id)
    ).first()
    if changed is not None and action is not None:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action=f"transfers.move_slack_email_{action}",
            target_type=TARGET,
            target_id=public_id,
        )
    return changed is not None


def mark_scim_changed(session: Session, *, clock: Clock, public_id: str) -> bool:
    return _slack_email(
        session,
        clock=clock,
        public_id=public_id,
        from_=SlackEmailState.INSTRUCTED,
        to=SlackEmailState.SCIM_CHANGED,
        action="scim_changed",
    )


def mark_seen(session: Session, *, clock: Clock, public_id: str) -> bool:
    return _slack_email(
        session,
        clock=clock,
        public_id=public_id,
        from_=SlackEmailState.INSTRUCTED,
        to=SlackEmailState.SEEN,
        action="seen",
    )


def claim_todo(session: Session, *, clock: Clock, public_id: str) -> bool:
    """Claimed before the to-do is posted: a second run finds nothing to post."""
    return _slack_email(
        session,
        clock=clock,
        public_id=public_id,
        from_=SlackEmailState.INSTRUCTED,
        to=SlackEmailState.TODO,
        action="todo",
    )


def release_todo(session: Session, *, clock: Clock, public_id: str) -> bool:
    """The to-do could not be posted: the next run tries again."""
    return _slack_email(
        session,
        clock=clock,
        public_id=public_id,
        from_=SlackEmailState.TODO,
        to=SlackEmailState.INSTRUCTED,
        action=None,
    )


@dataclass(frozen=True)
class DueCheck:
    public_id: str
    slack_user_id: str
    new_email_normalized: str


def instructed_past_due(session: Session, *, now: datetime) -> list[DueCheck]:
    """Confirmed moves whose member was asked to change their Slack address and whose
    grace has passed."""
    rows = session.execute(
        select(
            AffiliationMove.public_id, Member.slack_user_id, AffiliationMove.new_email_normalized
        )
        .join(Member, Member.id == AffiliationMove.member_id)
        .where(
            AffiliationMove.status == MoveStatus.CONFIRMED,
            AffiliationMove.slack_email_state == SlackEmailState.INSTRUCTED,
            AffiliationMove.slack_email_due_at <= now,
        )
        .order_by(AffiliationMove.slack_email_due_at)
    ).all()
    return [DueCheck(r[0], r[1], r[2] or "") for r in rows]
