"""The registry: every public channel Slack has, kept current by its events and by the
nightly sync, each change audited once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channel_names import kind_of
from bot.clock import Clock
from bot.db import insert_for
from bot.domain.channels import Change, SlackChannel, UnknownChannel
from bot.services import audit
from models import Channel, ChannelStatus, DormancyOutcome, DormancyReview

# Dormancy rounds still waiting for an answer or an archive.
OPEN_OUTCOMES = (DormancyOutcome.ASKED, DormancyOutcome.ARCHIVE, DormancyOutcome.LISTED)


def find_channel(session: Session, slack_channel_id: str) -> Channel | None:
    return session.scalar(select(Channel).where(Channel.slack_channel_id == slack_channel_id))


def get_channel(session: Session, slack_channel_id: str) -> Channel:
    channel = find_channel(session, slack_channel_id)
    if channel is None:
        raise UnknownChannel(slack_channel_id)
    return channel


def is_known(session: Session, slack_channel_id: str) -> bool:
    return find_channel(session, slack_channel_id) is not None


def channel_by_name(session: Session, name: str) -> Channel | None:
    wanted = name.strip().lstrip("#").strip()
    return session.scalar(select(Channel).where(Channel.name == wanted))


def upsert_channel(session: Session, *, clock: Clock, slack_channel: SlackChannel) -> Channel:
    """Insert or refresh a registry row; concurrent event and sync both land safely."""
    now = clock.now()
    session.execute(
        insert_for(session)(Channel)
        .values(
            slack_channel_id=slack_channel.id,
            name=slack_channel.name[:80],
            category=kind_of(slack_channel.name),
            purpose=slack_channel.purpose or None,
            status=ChannelStatus.ARCHIVED if slack_channel.is_archived else ChannelStatus.ACTIVE,
            is_general=slack_channel.is_general,
            slack_created_at=slack_channel.created,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slack_channel_id"])
    )
    channel = get_channel(session, slack_channel.id)
    session.refresh(channel)
    return channel


def apply_slack_channel(
    session: Session, *, clock: Clock, slack_channel: SlackChannel
) -> tuple[Channel, set[Change]]:
    """Make the registry row match what Slack says; returns what changed."""
    existing = find_channel(session, slack_channel.id)
    channel = upsert_channel(session, clock=clock, slack_channel=slack_channel)
    if existing is None:
        return channel, {Change.NEW}
    changes: set[Change] = set()
    if slack_channel.name and channel.name != slack_channel.name:
        channel.name = slack_channel.name[:80]
        channel.category = kind_of(slack_channel.name)
        changes.add(Change.RENAMED)
    status = ChannelStatus.ARCHIVED if slack_channel.is_archived else ChannelStatus.ACTIVE
    if channel.status is not status:
        channel.status = status
        changes.add(Change.ARCHIVED if slack_channel.is_archived else Change.UNARCHIVED)
    if slack_channel.purpose is not None and (channel.purpose or "") != slack_channel.purpose:
        channel.purpose = slack_channel.purpose or None
        changes.add(Change.PURPOSE)
    channel.is_general = slack_channel.is_general
    if slack_channel.created is not None:
        channel.slack_created_at = slack_channel.created
    if changes:
        channel.updated_at = clock.now()
    if Change.ARCHIVED in changes:
        close_reviews_of_archived(session, clock=clock, channel=channel, actor=audit.SYSTEM_ACTOR)
    return channel, changes


def record_event(
    session: Session,
    *,
    clock: Clock,
    slack_channel: SlackChannel,
    actor: str,
    event_type: str,
) -> tuple[Channel, set[Change]]:
    channel, changes = apply_slack_channel(session, clock=clock, slack_channel=slack_channel)
    if changes:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action=f"channel.{event_type}",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"name": channel.name, "changes": sorted(c.value for c in changes)},
        )
    return channel, changes


def _register_first(session: Session, *, clock: Clock, info: SlackChannel | None) -> None:
    """An event about a channel the registry had not seen: enter it from what Slack said."""
    if info is not None:
        record_event(session, clock=clock, slack_channel=info, actor="slack", event_type="created")


def record_rename(
    session: Session,
    *,
    clock: Clock,
    slack_channel_id: str,
    name: str,
    actor: str,
    info: SlackChannel | None = None,
) -> Channel | None:
    """From channel_rename (id and name only): the new name and the kind its prefix says."""
    _register_first(session, clock=clock, info=info)
    channel = find_channel(session, slack_channel_id)
    if channel is None or channel.name == name:
        return channel
    previous = channel.name
    channel.name = name[:80]
    channel.category = kind_of(name)
    channel.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.renamed",
        target_type="channel",
        target_id=slack_channel_id,
        details={"name": channel.name, "previous": previous},
    )
    return channel


def set_archived(
    session: Session,
    *,
    clock: Clock,
    slack_channel_id: str,
    archived: bool,
    actor: str,
    info: SlackChannel | None = None,
) -> Channel | None:
    """From channel_archive / channel_unarchive (the event carries only the id)."""
    _register_first(session, clock=clock, info=info)
    channel = find_channel(session, slack_channel_id)
    if channel is None:
        return None
    status = ChannelStatus.ARCHIVED if archived else ChannelStatus.ACTIVE
    if channel.status is status:
        return channel
    channel.status = status
    channel.updated_at = clock.now()
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.archived" if archived else "channel.unarchived",
        target_type="channel",
        target_id=slack_channel_id,
        details={"name": channel.name, "source": "event"},
    )
    if archived:
        close_reviews_of_archived(session, clock=clock, channel=channel, actor=actor)
    return channel


def close_reviews_of_archived(
    session: Session, *, clock: Clock, channel: Channel, actor: str
) -> None:
    """Someone archived the channel in Slack: its open dormancy round is over."""
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.channel_id == channel.id, DormancyReview.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=DormancyOutcome.ARCHIVED, decided_by=actor, decided_at=clock.now())
    )


def mark_missing(session: Session, *, clock: Clock, seen: set[str]) -> list[str]:
    """Active channels a complete listing no longer shows (deleted in Slack) → archived."""
    missing = [
        c
        for c in session.scalars(select(Channel).where(Channel.status == ChannelStatus.ACTIVE))
        if c.slack_channel_id not in seen
    ]
    for channel in missing:
        channel.status = ChannelStatus.ARCHIVED
        channel.updated_at = clock.now()
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="channel.missing",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"name": channel.name},
        )
    return [c.slack_channel_id for c in missing]


def finish_sync(
    session: Session, *, clock: Clock, seen: set[str], pages: int, changes: Mapping[str, int]
) -> dict[str, Any]:
    """After the last page: channels Slack no longer lists are archived; the run is audited."""
    missing = mark_missing(session, clock=clock, seen=seen)
    result = {"pages": pages, "channels": len(seen), "missing": len(missing), **changes}
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channels.synced",
        target_type="channel",
        target_id="*",
        details=dict(result),
    )
    return result
