"""The secretariat's review of channel requests: approve, return for changes, reject (each
decided once), and what the review message shows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import Transition, decide
from bot.domain.channels import HistoryLine, RequestItem, Similar, Step
from bot.services import audit
from bot.services.channels.provisioning import failed_step
from bot.services.channels.requests import get_request, similar_to
from models import ChannelRequest, ChannelRequestStatus, Organisation

# What the review message shows of the history, from the audit log.
DECISION_ACTIONS = {
    "channel_request.resubmitted": "resubmitted",
    "channel_request.approved": "approved",
    "channel_request.returned": "returned",
    "channel_request.rejected": "rejected",
    "channel_request.provisioned": "provisioned",
}
_APPROVE = Transition(
    ChannelRequestStatus.APPROVED, (ChannelRequestStatus.PENDING,), "channel_request.approved"
)
# The secretariat's decisions that take a comment, and what each does.
_WITH_REASON = {
    "return": Transition(
        ChannelRequestStatus.RETURNED,
        (ChannelRequestStatus.PENDING,),
        "channel_request.returned",
    ),
    "reject": Transition(
        ChannelRequestStatus.REJECTED,
        (ChannelRequestStatus.PENDING, ChannelRequestStatus.RETURNED),
        "channel_request.rejected",
    ),
}


def _transition(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    transition: Transition,
    reason: str | None,
) -> ChannelRequest:
    request = get_request(session, public_id)
    return decide(
        session,
        clock=clock,
        row=request,
        status=ChannelRequest.status,
        transition=transition,
        actor=actor,
        reason=reason,
        target_type="channel_request",
        target_id=public_id,
        details={"name": request.name},
    )


def approve(session: Session, *, clock: Clock, public_id: str, actor: str) -> ChannelRequest:
    return _transition(
        session, clock=clock, public_id=public_id, actor=actor, transition=_APPROVE, reason=None
    )


def decide_with_reason(
    session: Session, *, clock: Clock, public_id: str, actor: str, kind: str, reason: str
) -> ChannelRequest:
    """ "return" (a comment for the requester) or "reject" (the reason)."""
    return _transition(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        transition=_WITH_REASON[kind],
        reason=reason,
    )


def status_of(session: Session, public_id: str) -> str:
    return get_request(session, public_id).status.value


def history_of(session: Session, public_id: str) -> tuple[HistoryLine, ...]:
    entries = audit.entries_of(
        session, target_type="channel_request", target_id=public_id, actions=DECISION_ACTIONS
    )
    return tuple(
        HistoryLine(DECISION_ACTIONS[e.action], e.actor, e.occurred_at, e.reason) for e in entries
    )


def unposted_requests(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(ChannelRequest.public_id)
            .where(
                ChannelRequest.status == ChannelRequestStatus.PENDING,
                ChannelRequest.review_message_ts.is_(None),
            )
            .order_by(ChannelRequest.created_at)
        )
    )


def request_item(session: Session, public_id: str, *, announce: bool) -> RequestItem:
    """The request as its review message shows it; `announce`: an announcements channel is
    configured (its step is shown as not applicable otherwise)."""
    request = get_request(session, public_id)
    organisation = (
        session.get(Organisation, request.facilitating_organisation_id)
        if request.facilitating_organisation_id
        else None
    )
    done = {
        step
        for step, at in (
            (Step.CREATE, request.slack_channel_id),
            (Step.PURPOSE, request.purpose_set_at),
            (Step.INVITE, request.invited_at),
            (Step.WELCOME, request.welcomed_at),
            (Step.ANNOUNCE, request.announced_at),
        )
        if at is not None
    }
    similar: tuple[Similar, ...] = ()
    if request.status in (ChannelRequestStatus.PENDING, ChannelRequestStatus.RETURNED):
        similar = tuple(similar_to(session, request.name, exclude_request=request.public_id))
    return RequestItem(
        public_id=request.public_id,
        requester=request.requester_id,
        name=request.name,
        category=request.category,
        purpose=request.purpose,
        reason=request.reason,
        prefecture=request.prefecture,
        organisation=organisation.name if organisation is not None else None,
        facilitators=tuple(request.facilitator_ids or ()),
        end_date=request.end_date,
        created_at=request.created_at,
        status=request.status.value,
        slack_channel_id=request.slack_channel_id,
        done=frozenset(done),
        failure=failed_step(request),
        announce=announce,
        similar=similar,
    )
