"""Which Slack statuses say a member is away (holiday, travel, sick leave): Kyoso's own DMs
wait for them (bot/slack/kind_hours.py). Configurable: KYOSO_AWAY_STATUS_WORDS and
KYOSO_AWAY_STATUS_EMOJI."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_AWAY_STATUS_EMOJI = (
    ":palm_tree:",
    ":airplane:",
    ":face_with_thermometer:",
    ":desert_island:",
    ":beach_with_umbrella:",
)
DEFAULT_AWAY_STATUS_WORDS = ("休暇", "不在", "出張", "休み", "vacation", "holiday", "out of office")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _emoji(name: str) -> str:
    return f":{name.strip().strip(':')}:"


@dataclass(frozen=True)
class AwayStatus:
    words: tuple[str, ...]
    emoji: tuple[str, ...]

    @classmethod
    def of(cls, words: Iterable[str], emoji: Iterable[str]) -> AwayStatus:
        return cls(
            words=tuple(_folded(w) for w in words if w.strip()),
            emoji=tuple(_emoji(e) for e in emoji if e.strip(" :")),
        )

    def says_away(self, profile: Mapping[str, Any]) -> bool:
        text = _folded(str(profile.get("status_text") or ""))
        emoji = str(profile.get("status_emoji") or "")
        return emoji in self.emoji or any(word in text for word in self.words)

    @staticmethod
    def expires_at(profile: Mapping[str, Any], *, now: datetime) -> datetime | None:
        """When the status clears on its own (`status_expiration`), if it does after `now`."""
        expires = float(profile.get("status_expiration") or 0)
        return datetime.fromtimestamp(expires, UTC) if expires > now.timestamp() else None
