"""`/kyoso <subcommand>`: features add their subcommands; one Bolt listener dispatches."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.audience import Audience
from bot.i18n import Language
from bot.text import clean_line, nfkc


@dataclass(frozen=True)
class CommandCall:
    user_id: str
    channel_id: str
    args: str
    language: Language
    trigger_id: str
    respond: Callable[..., Any]


@dataclass(frozen=True)
class Subcommand:
    name: str
    help_key: str
    run: Callable[[CommandCall], None]
    audience: Audience = Audience.ANYONE
    # What a member outside the audience is told, when the generic refusal is not enough.
    refusal_key: str | None = None


class CommandRouter:
    def __init__(self) -> None:
        self._subcommands: dict[str, Subcommand] = {}

    def add(
        self,
        name: str,
        *,
        help_key: str,
        run: Callable[[CommandCall], None],
        audience: Audience = Audience.ANYONE,
        refusal_key: str | None = None,
    ) -> None:
        if name in self._subcommands:
            raise ValueError(f"subcommand {name!r} registered twice")
        self._subcommands[name] = Subcommand(
            name=name, help_key=help_key, run=run, audience=audience, refusal_key=refusal_key
        )

    def all(self) -> list[Subcommand]:
        return list(self._subcommands.values())

    def find(self, name: str) -> Subcommand | None:
        return self._subcommands.get(name)

    def help_keys(self) -> list[str]:
        return [s.help_key for s in self._subcommands.values()]

    def closest(self, name: str) -> str | None:
        matches = difflib.get_close_matches(name, list(self._subcommands), n=1, cutoff=0.6)
        return matches[0] if matches else None


def split_subcommand(text: str) -> tuple[str, str]:
    """NFKC first: members type full-width letters and the ideographic space; the input
    hygiene drops control and bidi characters (a line break separates like a space)."""
    name, _, rest = clean_line(nfkc(text)).partition(" ")
    return name.lower(), rest.strip()
