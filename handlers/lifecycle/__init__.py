"""Account lifecycle in Slack, one module per flow: the member's "keep my account" button
(keep); the secretariat's flagged list, from `/kyoso inactive` or the weekly summary
(inactive_list), its batch approval (approval) and its one-click restore (restore)."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.lifecycle import approval, inactive_list, keep, restore


def register(app: App, deps: Deps) -> None:
    for flow in (keep, inactive_list, approval, restore):
        flow.register(app, deps)
