"""The secretariat's toolkit in Slack: announcements, member look-up, roles."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.secretariat import announcements, members, roles
from handlers.secretariat import rules as rules_publishing


def register(app: App, deps: Deps) -> None:
    announcements.register(app, deps)
    members.register(app, deps)
    roles.register(app, deps)
    rules_publishing.register(app, deps)
