"""Bolt listeners, thin: parse the payload, call bot/, render a view, ack fast."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    activity,
    ambassadors,
    applications,
    channels,
    dashboard,
    errors,
    knowledge,
    kyoso_command,
    lifecycle,
    moderation,
    onboarding,
    secretariat,
    transfers,
)
from handlers.deps import Deps

# Bolt tries listeners in registration order: the busiest event (message) goes first.
FEATURES = (
    activity,
    kyoso_command,
    dashboard,
    onboarding,
    applications,
    moderation,
    channels,
    lifecycle,
    knowledge,
    transfers,
    ambassadors,
    secretariat,
    errors,
)


def register_all(app: App, deps: Deps) -> None:
    for feature in FEATURES:
        feature.register(app, deps)
