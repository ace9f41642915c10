"""Facilitators and what they may do: edit their channel (purpose, facilitators, end date),
record a summary, point a message to a better channel. The secretariat may do all of it;
which channel a facilitator may touch is checked here, on every arrival."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.channels import (
    PURPOSE_MAX,
    ChannelUpdate,
    EditTarget,
    FormField,
    FormProblem,
    NotYours,
    RequestInvalid,
    UnknownChannel,
)
from bot.services import audit, members
from bot.services.channels.registry import channel_by_name, find_channel, get_channel
from models import (
    Channel,
    ChannelFacilitator,
    ChannelStatus,
    ChannelSummary,
    Member,
    MemberStatus,
    Role,
)

GONE_MEMBER_STATUSES = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)
# `<#C0123|name>` or `<#C0123>`, as Slack writes a channel mention.
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


def facilitators_of(session: Session, channel: Channel) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(ChannelFacilitator, ChannelFacilitator.member_id == Member.id)
            .where(ChannelFacilitator.channel_id == channel.id)
            .order_by(ChannelFacilitator.added_at, Member.id)
        )
    )


def facilitator_ids(session: Session, channel: Channel) -> list[str]:
    return [m.slack_user_id for m in facilitators_of(session, channel)]


def facilitates_any(session: Session, slack_user_id: str) -> bool:
    """Named facilitator of at least one channel (the role is not needed for that)."""
    found = session.scalar(
        select(ChannelFacilitator.channel_id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == slack_user_id)
        .limit(1)
    )
    return found is not None


def replace_facilitators(
    session: Session, *, clock: Clock, channel: Channel, slack_user_ids: Iterable[str]
) -> tuple[list[str], list[str]]:
    wanted = list(dict.fromkeys(slack_user_ids))
    current = facilitator_ids(session, channel)
    added = [u for u in wanted if u not in current]
    removed = [u for u in current if u not in wanted]
    now = clock.now()
    for user_id in added:
        member = members.ensure_member(session, clock=clock, slack_user_id=user_id)
        session.add(ChannelFacilitator(channel_id=channel.id, member_id=member.id, added_at=now))
    if removed:
        gone = select(Member.id).where(Member.slack_user_id.in_(removed))
        session.execute(
            delete(ChannelFacilitator).where(
                ChannelFacilitator.channel_id == channel.id,
                ChannelFacilitator.member_id.in_(gone),
            )
        )
    session.flush()
    return added, removed


def can_manage(session: Session, actor: str, slack_channel_id: str) -> bool:
    """The secretariat, or one of the channel's facilitators. Checked on every arrival."""
    if members.has_role(session, actor, Role.SECRETARIAT):
        return True
    channel = find_channel(session, slack_channel_id)
    return channel is not None and actor in facilitator_ids(session, channel)


def ensure_manages(session: Session, actor: str, slack_channel_id: str) -> None:
    if not can_manage(session, actor, slack_channel_id):
        raise NotYours(slack_channel_id)


# --- editing a channel ---------------------------------------------------------------------------


def resolve_reference(session: Session, reference: str, here: str) -> str | None:
    """The channel `/kyoso channel edit` names: `<#C0123|name>`, `#name`, or (nothing) the
    channel the command was typed in, if the registry knows it."""
    reference = reference.strip()
    if not reference:
        return here if find_channel(session, here) is not None else None
    matched = _CHANNEL_REF.match(reference)
    if matched:
        return matched.group(1)
    channel = channel_by_name(session, reference)
    return channel.slack_channel_id if channel is not None else None


def edit_target(session: Session, *, actor: str, slack_channel_id: str | None) -> EditTarget:
    channel = find_channel(session, slack_channel_id) if slack_channel_id else None
    if channel is None:
        raise UnknownChannel(slack_channel_id or "")
    ensure_manages(session, actor, channel.slack_channel_id)
    return EditTarget(
        slack_channel_id=channel.slack_channel_id,
        name=channel.name,
        purpose=channel.purpose,
        facilitators=tuple(facilitator_ids(session, channel)),
        end_date=channel.end_date,
    )


def update_channel(
    session: Session,
    *,
    clock: Clock,
    slack_channel_id: str,
    actor: str,
    purpose: str,
    facilitators: Sequence[str],
    end_date: date | None,
) -> ChannelUpdate:
    """The edit modal's submission; a channel keeps a purpose."""
    purpose = purpose.strip()[:PURPOSE_MAX]
    if not purpose:
        raise RequestInvalid([FormProblem(FormField.PURPOSE, "purpose_required")])
    ensure_manages(session, actor, slack_channel_id)
    channel = get_channel(session, slack_channel_id)
    purpose_changed = (channel.purpose or "") != purpose
    channel.purpose = purpose or None
    ended = channel.end_date != end_date
    channel.end_date = end_date
    added, removed = replace_facilitators(
        session, clock=clock, channel=channel, slack_user_ids=facilitators
    )
    channel.updated_at = clock.now()
    if purpose_changed or added or removed or ended:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="channel.updated",
            target_type="channel",
            target_id=slack_channel_id,
            details={
                "purpose_changed": purpose_changed,
                "facilitators_added": added,
                "facilitators_removed": removed,
                "end_date": end_date.isoformat() if end_date else None,
            },
        )
    return ChannelUpdate(
        slack_channel_id, purpose_changed, tuple(added), tuple(removed), purpose=purpose
    )


# --- summaries and pointers ----------------------------------------------------------------------


def record_summary(
    session: Session,
    *,
    clock: Clock,
    channel_id: str,
    message_ts: str,
    author_id: str,
    recorded_by: str,
    permalink: str | None,
) -> bool:
    """Record a pinned message as the channel's summary; False if it already was."""
    inserted = session.execute(
        insert_for(session)(ChannelSummary)
        .values(
            channel_id=channel_id,
            message_ts=message_ts,
            author_id=author_id,
            recorded_by=recorded_by,
            permalink=permalink,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(ChannelSummary.id)
    ).first()
    if inserted is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=recorded_by,
        action="channel.summary_recorded",
        target_type="channel",
        target_id=channel_id,
        details={"message_ts": message_ts, "author": author_id},
    )
    return True


def check_pointer(session: Session, *, actor: str, channel_id: str, target: str) -> None:
    """A facilitator of `channel_id` may point to another active registry channel."""
    ensure_manages(session, actor, channel_id)
    channel = find_channel(session, target) if target != channel_id else None
    if channel is None or channel.status is not ChannelStatus.ACTIVE:
        raise UnknownChannel(target)


def record_pointer(
    session: Session, *, clock: Clock, channel_id: str, message_ts: str, target: str, actor: str
) -> None:
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.pointed",
        target_type="channel",
        target_id=channel_id,
        details={"message_ts": message_ts, "to": target},
    )
