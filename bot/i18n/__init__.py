"""Message catalogues: Japanese first, English twin, identical keys and placeholders.

Each feature keeps its text in `ja/<feature>.json` and `en/<feature>.json`; a key may be
defined in one file only."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)


@cache
def catalogue(language: Language) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = resources.files(__name__).joinpath(language)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        data: dict[str, str] = json.loads(entry.read_text(encoding="utf-8"))
        duplicated = merged.keys() & data.keys()
        if duplicated:
            raise ValueError(f"{language}/{entry.name} redefines {sorted(duplicated)}")
        merged.update(data)
    return merged


def t(key: str, language: Language, /, **params: Any) -> str:
    """The text for `key` in `language`; a missing key is a bug and raises KeyError."""
    template = catalogue(language)[key]
    return template.format(**params) if params else template


def as_language(value: str | None, default: Language) -> Language:
    """Map a Slack locale ("ja-JP", "en-US") or a stored preference to a catalogue."""
    if value:
        prefix = value.split("-")[0].split("_")[0].lower()
        for language in LANGUAGES:
            if prefix == language:
                return language
    return default
