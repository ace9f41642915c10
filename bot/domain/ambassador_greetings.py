"""What a newcomer's greeting card shows, as plain data for the views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import GreetingStatus


@dataclass(frozen=True)
class GreetingCard:
    greeting_id: int
    newcomer: str  # the newcomer's Slack id
    organisation: str | None
    prefecture: str | None
    ambassadors: tuple[str, ...]  # Slack ids mentioned; none: the secretariat steps in
    # The self-introduction: Kyoso keeps only when it was posted, not its text.
    introduced_at: datetime | None
    intro_channel: str | None
    status: GreetingStatus
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class Introduction:
    """The DM that introduces the ambassador who claimed the card to the newcomer."""

    greeting_id: int
    newcomer: str
    ambassador: str
    prefecture: str | None


@dataclass(frozen=True)
class Nudge:
    """A reminder in the card's thread, or the secretariat told nobody claimed it."""

    greeting_id: int
    newcomer: str
    prefecture: str | None
    ambassadors: tuple[str, ...]
    channel_id: str
    message_ts: str
