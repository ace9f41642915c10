"""What provisioning records: each step once Slack confirmed it, the last failure, the
request's completion, and the short lease that keeps two runs of one request apart.

The Slack calls themselves are in bot/slack/channels/provisioning.py; these functions take a
session and never commit, so each mark is its caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.channels import CLEARED_BY_A_PERSON, SlackChannel, Step
from bot.services import audit
from bot.services.channels.facilitation import replace_facilitators
from bot.services.channels.registry import channel_by_name, upsert_channel
from models import Channel, ChannelRequest, ChannelRequestStatus, Organisation, SchedulerLease

PROVISION_LEASE = timedelta(minutes=5)
# A channel made this long before the approval was not made by this request's run.
ADOPTION_SLACK = timedelta(minutes=5)
# Slack errors a retry will not cure: a person has to act first (the review message says how;
# a token problem is the operators' to fix).
NEEDS_A_PERSON = CLEARED_BY_A_PERSON | {"not_authed", "invalid_auth", "account_inactive"}

_STEP_COLUMNS = {
    Step.PURPOSE: ChannelRequest.purpose_set_at,
    Step.INVITE: ChannelRequest.invited_at,
    Step.WELCOME: ChannelRequest.welcomed_at,
    Step.ANNOUNCE: ChannelRequest.announced_at,
}


def organisation_name(session: Session, request: ChannelRequest) -> str | None:
    if not request.facilitating_organisation_id:
        return None
    organisation = session.get(Organisation, request.facilitating_organisation_id)
    return organisation.name if organisation is not None else None


def mark_created(
    session: Session, *, clock: Clock, request: ChannelRequest, slack_channel: SlackChannel
) -> Channel:
    """The channel exists: remember it on the request and enter it in the registry."""
    now = clock.now()
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.id == request.id, ChannelRequest.slack_channel_id.is_(None))
        .values(slack_channel_id=slack_channel.id, updated_at=now)
    )
    channel = upsert_channel(session, clock=clock, slack_channel=slack_channel)
    channel.category = request.category
    channel.prefecture = request.prefecture
    channel.facilitating_organisation_id = request.facilitating_organisation_id
    channel.end_date = request.end_date
    channel.purpose = request.purpose
    channel.updated_at = now
    replace_facilitators(
        session, clock=clock, channel=channel, slack_user_ids=request.facilitator_ids
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.channel_created",
        target_type="channel_request",
        target_id=request.public_id,
        details={"channel": slack_channel.id, "name": slack_channel.name},
    )
    session.refresh(request)
    return channel


def mark_step(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    step: Step,
    details: dict[str, Any] | None = None,
) -> None:
    column = _STEP_COLUMNS[step]
    now = clock.now()
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id, column.is_(None))
        .values({column.key: now, "updated_at": now})
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=f"channel_request.{step.value}_done",
        target_type="channel_request",
        target_id=public_id,
        details=details,
    )


def mark_failed(session: Session, *, clock: Clock, public_id: str, step: Step, error: str) -> None:
    session.execute(
        update(ChannelRequest)
        .where(ChannelRequest.public_id == public_id)
        .values(last_error=f"{step.value}:{error}", updated_at=clock.now())
    )
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.provisioning_failed",
        target_type="channel_request",
        target_id=public_id,
        reason=error,
        details={"step": step.value},
    )


def mark_provisioned(session: Session, *, clock: Clock, public_id: str) -> bool:
    """APPROVED → PROVISIONED once every step is done; False if someone else finished."""
    now = clock.now()
    changed = session.execute(
        update(ChannelRequest)
        .where(
            ChannelRequest.public_id == public_id,
            ChannelRequest.status == ChannelRequestStatus.APPROVED,
            ChannelRequest.slack_channel_id.is_not(None),
        )
        .values(status=ChannelRequestStatus.PROVISIONED, last_error=None, updated_at=now)
        .returning(ChannelRequest.slack_channel_id)
    ).first()
    if changed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel_request.provisioned",
        target_type="channel_request",
        target_id=public_id,
        details={"channel": changed[0]},
    )
    return True


def failed_step(request: ChannelRequest) -> tuple[str, str] | None:
    """(step, Slack error) of the last failure, if the request is not complete."""
    if not request.last_error or request.status is not ChannelRequestStatus.APPROVED:
        return None
    step, _, error = request.last_error.partition(":")
    return step, error


def retry_candidates(session: Session, *, limit: int) -> list[str]:
    """Approved requests that stopped on a passing error, or whose run died; those waiting
    for a person (name_taken, …) are left for the review message's retry button."""
    approved = session.scalars(
        select(ChannelRequest)
        .where(ChannelRequest.status == ChannelRequestStatus.APPROVED)
        .order_by(ChannelRequest.decided_at, ChannelRequest.id)
    )
    return [r.public_id for r in approved if (failed_step(r) or ("", ""))[1] not in NEEDS_A_PERSON][
        :limit
    ]


# --- adopting the channel an interrupted run made ------------------------------------------------


def unclaimed_channel_named(session: Session, name: str) -> str | None:
    """The registry's channel of that name, if no request has claimed it."""
    existing = channel_by_name(session, name)
    if existing is None:
        return None
    claimed = session.scalar(
        select(ChannelRequest.id).where(
            ChannelRequest.slack_channel_id == existing.slack_channel_id
        )
    )
    return existing.slack_channel_id if claimed is None else None


def made_by_this_run(info: dict[str, Any], *, request: ChannelRequest, bot_user_id: str) -> bool:
    """A channel holding the requested name is this request's own when the bot created it
    after the approval and nobody archived it."""
    created = info.get("created")
    decided = request.decided_at or request.created_at
    made_after = created is not None and datetime.fromtimestamp(int(created), UTC) >= (
        decided - ADOPTION_SLACK
    )
    return info.get("creator") == bot_user_id and made_after and not info.get("is_archived")


# --- one run per request -------------------------------------------------------------------------


def lease_name(public_id: str) -> str:
    return f"channel-request:{public_id}"


def acquire_lease(session: Session, *, clock: Clock, name: str, holder: str) -> bool:
    """Take the request's lease if it is free or expired."""
    now = clock.now()
    taken = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.expires_at < now)
        .values(holder=holder, acquired_at=now, expires_at=now + PROVISION_LEASE)
        .returning(SchedulerLease.name)
    ).first()
    if taken is not None:
        return True
    inserted = session.execute(
        insert_for(session)(SchedulerLease)
        .values(name=name, holder=holder, acquired_at=now, expires_at=now + PROVISION_LEASE)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(SchedulerLease.name)
    ).first()
    return inserted is not None


def release_lease(session: Session, *, name: str, holder: str) -> None:
    session.execute(
        delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
    )
