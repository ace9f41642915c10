"""Knowledge in Slack, one module per flow. Edits, deletions and ✅ reactions of kept threads
arrive through the one `message` and `reaction_added` listeners (handlers/activity.py)."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.knowledge import capture, channel_settings, faq, gaps, removal, search, synonyms


def register(app: App, deps: Deps) -> None:
    for flow in (search, synonyms, gaps, capture, removal, channel_settings, faq):
        flow.register(app, deps)
