"""Moderation in Slack, one module per flow: members report messages (reports), the
secretariat decides each case once from its alert (case_actions), may see who reported
(reporters), and lists cases with `/kyoso cases` (cases_command).

The detectors run inside the one `message` listener (handlers/activity.py). The secretariat's
listeners declare their audience: the guard (handlers/access.py) refuses anyone else before a
listener runs, checked from the stored role when each payload arrives."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.moderation import case_actions, cases_command, reporters, reports


def register(app: App, deps: Deps) -> None:
    for flow in (reports, case_actions, reporters, cases_command):
        flow.register(app, deps)
