"""The Slack app manifest, read as the contract for scopes, commands, shortcuts and events."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Manifest:
    bot_scopes: frozenset[str]
    commands: frozenset[str]
    shortcuts: frozenset[tuple[str, str]]  # (type "global" | "message", callback_id)
    bot_events: frozenset[str]


def parse_manifest(text: str) -> Manifest:
    data: dict[str, Any] = yaml.safe_load(text)
    features = data.get("features", {})
    settings = data.get("settings", {})
    return Manifest(
        bot_scopes=frozenset(data.get("oauth_config", {}).get("scopes", {}).get("bot", [])),
        commands=frozenset(c["command"] for c in features.get("slash_commands", [])),
        shortcuts=frozenset((s["type"], s["callback_id"]) for s in features.get("shortcuts", [])),
        bot_events=frozenset(settings.get("event_subscriptions", {}).get("bot_events", [])),
    )


def load_manifest() -> Manifest:
    return parse_manifest(resources.files("bot").joinpath("manifest.yml").read_text("utf-8"))
