"""Channels in Slack, one module per flow: a member's request (requests), the secretariat's
review and provisioning (review), the registry's events (registry_events), `/kyoso channels`
(listing), editing a channel (facilitators), dormant-channel answers (dormancy) and the
facilitators' message shortcuts (shortcuts)."""

from __future__ import annotations

from slack_bolt import App

from handlers.channels import (
    dormancy,
    facilitators,
    listing,
    registry_events,
    requests,
    review,
    shortcuts,
)
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    # `channel` before `channels`: the order `/kyoso help` lists them in.
    for flow in (requests, review, registry_events, listing, facilitators, dormancy, shortcuts):
        flow.register(app, deps)
