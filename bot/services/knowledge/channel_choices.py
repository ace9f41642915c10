"""A channel's knowledge choices, made by its facilitators or the secretariat: opting out (no
entry is kept from it, and those kept are removed) and suggesting past answers to questions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import audit
from models import KnowledgeChannelSetting


@dataclass(frozen=True)
class Choice:
    opted_out: bool = False
    suggest: bool = False


def choice(session: Session, channel_id: str) -> Choice:
    row = session.get(KnowledgeChannelSetting, channel_id)
    return Choice(row.opted_out, row.suggest) if row else Choice()


def choose(
    session: Session,
    *,
    clock: Clock,
    channel_id: str,
    actor: str,
    opted_out: bool | None = None,
    suggest: bool | None = None,
) -> Choice:
    row = session.get(KnowledgeChannelSetting, channel_id)
    before = Choice(row.opted_out, row.suggest) if row else Choice()
    if row is None:
        row = KnowledgeChannelSetting(slack_channel_id=channel_id, opted_out=False, suggest=False)
        session.add(row)
    if opted_out is not None:
        row.opted_out = opted_out
    if suggest is not None:
        row.suggest = suggest
    row.updated_by, row.updated_at = actor, clock.now()
    after = Choice(row.opted_out, row.suggest)
    if after != before:
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="knowledge.channel_choice",
            target_type="channel",
            target_id=channel_id,
            details={"opted_out": after.opted_out, "suggest": after.suggest},
        )
    return after
