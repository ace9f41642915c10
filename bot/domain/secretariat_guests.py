"""Guests and Slack Connect users in the workspace, as the secretariat's App Home lists them."""

from __future__ import annotations

from dataclasses import dataclass

from models.member import GuestKind


@dataclass(frozen=True)
class Guest:
    slack_user_id: str
    kind: GuestKind
    # Channel names; None when not looked up (only the first few guests' are).
    channels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class GuestList:
    total: int
    shown: tuple[Guest, ...]
