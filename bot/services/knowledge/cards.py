"""Channel cards: each active channel of the registry as an entry, so a search for a topic also
finds the channel where it is discussed (名前, 目的, its kind and prefecture).

The sync is idempotent and quiet: a card whose channel did not change is not written again (no
index churn, no audit line), an archived channel's card, or that of a channel whose
facilitators opted out of knowledge, is removed, and an unarchived channel's card comes back.
It runs nightly after the registry sync (scheduler/knowledge_jobs.py) and from
`kyoso knowledge cards`; a channel created, renamed or archived during the day is reflected the
next night."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import LANGUAGES, t
from bot.services import audit
from bot.services.knowledge import entries
from bot.services.knowledge.privacy import Refused, gate_all
from models import (
    Channel,
    ChannelStatus,
    EntryKind,
    EntryStatus,
    KnowledgeChannelSetting,
    KnowledgeEntry,
)

CARD_PREFIX = "channel:"


def card_key(slack_channel_id: str) -> str:
    return f"{CARD_PREFIX}{slack_channel_id}"


@dataclass(frozen=True)
class Card:
    """What a channel's entry says, before the privacy gate."""

    channel_id: str
    title: str
    question: str  # the channel's purpose
    answer: str  # what kind of channel it is, in Japanese then English
    tags: tuple[str, ...]
    prefecture: str | None
    answered_at: datetime


@dataclass(frozen=True)
class CardCounts:
    created: int = 0  # new cards, and cards of unarchived channels brought back
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # archived, opted out, or gone from the registry
    refused: int = 0  # a handling label in the name or purpose

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "refused": self.refused,
        }


def card_of(channel: Channel) -> Card:
    kind = channel.category.value
    lines = []
    for language in LANGUAGES:
        description = t(f"knowledge.card.kind.{kind}", language)
        if channel.prefecture:
            description = t(
                "knowledge.card.with_prefecture",
                language,
                kind=description,
                prefecture=channel.prefecture,
            )
        lines.append(description)
    labels = [t(f"channels.kind.{kind}", language) for language in LANGUAGES]
    return Card(
        channel_id=channel.slack_channel_id,
        title=channel.name,
        question=channel.purpose or "",
        answer="\n".join(lines),
        tags=entries.clean_tags([*labels, channel.prefecture or ""]),
        prefecture=channel.prefecture,
        answered_at=channel.slack_created_at or channel.created_at,
    )


def save_channel_card(
    session: Session, *, clock: Clock, card: Card, actor: str = audit.SYSTEM_ACTOR
) -> entries.Saved:
    """Keep (or refresh) a channel's card through the privacy gate; Refused on a label."""
    # entries' own path for every kind: the gate, the index and the audit line stay in one place.
    return entries._save(
        session,
        clock=clock,
        actor=actor,
        key=card_key(card.channel_id),
        kind=EntryKind.CHANNEL,
        title=card.title,
        question=card.question,
        answer=card.answer,
        tags=card.tags,
        answered_at=card.answered_at,
        fields={
            "channel_id": card.channel_id,
            "thread_ts": None,
            "answer_ts": None,
            "asker_id": None,
            "answerer_id": None,
            "recorder_id": None,
            "prefecture": card.prefecture,
        },
    )


def _unchanged(entry: KnowledgeEntry, card: Card) -> bool:
    """Whether saving the card would store what the entry holds (compared after the gate,
    the way entries._save trims and masks)."""
    if entry.status is not EntryStatus.ACTIVE:
        return False
    try:
        (title, question, answer, *tags), _ = gate_all(
            " ".join(card.title.split())[: entries.TITLE_LIMIT],
            card.question.strip()[: entries.TEXT_LIMIT],
            card.answer.strip()[: entries.TEXT_LIMIT],
            *entries.clean_tags(card.tags),
        )
    except Refused:
        return False
    stored = (entry.title, entry.question, entry.answer, list(entry.tags), entry.prefecture)
    return stored == (title, question, answer, tags, card.prefecture) and (
        entry.channel_id,
        entry.answered_at,
    ) == (card.channel_id, card.answered_at)


def sync_channel_cards(session: Session, *, clock: Clock) -> CardCounts:
    """One card per active registry channel that has not opted out; others' cards removed."""
    channels = {
        c.slack_channel_id: c
        for c in session.scalars(select(Channel).order_by(Channel.slack_channel_id))
    }
    opted_out = set(
        session.scalars(
            select(KnowledgeChannelSetting.slack_channel_id).where(
                KnowledgeChannelSetting.opted_out.is_(True)
            )
        )
    )
    cards = {
        e.source_key: e
        for e in session.scalars(
            select(KnowledgeEntry).where(KnowledgeEntry.kind == EntryKind.CHANNEL)
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "removed": 0, "refused": 0}
    for slack_id, channel in channels.items():
        if channel.status is not ChannelStatus.ACTIVE or slack_id in opted_out:
            continue
        card = card_of(channel)
        entry = cards.pop(card_key(slack_id), None)
        if entry is not None and _unchanged(entry, card):
            counts["unchanged"] += 1
            continue
        active = entry is not None and entry.status is EntryStatus.ACTIVE
        try:
            save_channel_card(session, clock=clock, card=card)
        except Refused:
            counts["refused"] += 1
            if entry is not None and active:
                _remove(session, clock=clock, entry=entry, reason="label_added")
            continue
        counts["updated" if active else "created"] += 1
    for key, entry in cards.items():  # cards of channels that are no longer wanted
        if entry.status is not EntryStatus.ACTIVE:
            continue
        channel_id = key.removeprefix(CARD_PREFIX)
        known = channels.get(channel_id)
        if channel_id in opted_out:
            reason = "channel_opted_out"
        elif known is not None:
            reason = "channel_archived"
        else:
            reason = "channel_gone"
        _remove(session, clock=clock, entry=entry, reason=reason)
        counts["removed"] += 1
    return CardCounts(**counts)


def _remove(session: Session, *, clock: Clock, entry: KnowledgeEntry, reason: str) -> None:
    entries.remove(
        session,
        clock=clock,
        entry_id=entry.id,
        actor=audit.SYSTEM_ACTOR,
        by_secretariat=True,
        reason=reason,
    )
