"""The secretariat's toolkit in Slack: announcements, member look-up, roles."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    pass
