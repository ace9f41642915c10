"""Onboarding in Slack, one module per flow: a member joins (joins), accepts the usage rules
(rules), joins suggested channels (channel_suggestions), introduces themselves
(introduction), and asks what Kyoso holds about them (whoami). Every listener here is for
any member."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.onboarding import channel_suggestions, introduction, joins, rules, whoami


def register(app: App, deps: Deps) -> None:
    for flow in (joins, rules, channel_suggestions, introduction, whoami):
        flow.register(app, deps)
