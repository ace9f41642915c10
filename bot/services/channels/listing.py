"""`/kyoso channels`: the active channels by kind, searched by a folded word, a page at a
time, with the viewer's own channels to edit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channel_names import fold
from bot.domain.channels import KIND_ORDER, LIST_PAGE_SIZE, Listed, ListingPage
from models import Channel, ChannelCategory, ChannelFacilitator, ChannelStatus, Member


def _listed(channel: Channel) -> Listed:
    return Listed(
        channel.slack_channel_id,
        channel.name,
        channel.category,
        channel.purpose,
        channel.prefecture,
    )


def _matches(channel: Channel, wanted: str) -> bool:
    if not wanted:
        return True
    haystacks = (channel.name, channel.purpose or "", channel.prefecture or "")
    return any(wanted in fold(text) for text in haystacks)


def list_channels(session: Session, *, word: str = "", exclude: Iterable[str] = ()) -> list[Listed]:
    """Active public channels, by kind then name, matching `word` (folded) if given."""
    wanted = fold(word)
    skipped = set(exclude)
    rows = session.scalars(
        select(Channel).where(Channel.status == ChannelStatus.ACTIVE).order_by(Channel.name)
    )
    found = [_listed(c) for c in rows if c.slack_channel_id not in skipped and _matches(c, wanted)]
    found.sort(key=lambda c: (KIND_ORDER.index(c.category), c.name))
    return found


def managed_by(session: Session, actor: str) -> list[Listed]:
    """Active channels `actor` facilitates."""
    rows = session.scalars(
        select(Channel)
        .join(ChannelFacilitator, ChannelFacilitator.channel_id == Channel.id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == actor, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.name)
    )
    return [_listed(c) for c in rows]


def listing_page(session: Session, *, viewer: str, word: str, offset: int) -> ListingPage:
    """One page of matches; the viewer's own channels (edit buttons) on the first page."""
    found = list_channels(session, word=word)
    offset = min(offset, max(0, len(found) - 1))
    counts: dict[ChannelCategory, int] = {}
    for listed in found:
        counts[listed.category] = counts.get(listed.category, 0) + 1
    return ListingPage(
        word=word,
        offset=offset,
        total=len(found),
        channels=found[offset : offset + LIST_PAGE_SIZE],
        counts=counts,
        managed=managed_by(session, viewer) if offset == 0 else (),
    )
