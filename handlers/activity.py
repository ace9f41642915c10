"""Members' last activity from the messages the bot sees."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services.activity import slack_ts_to_datetime
from handlers.deps import Deps

# Subtypes that are a member's own doing; edits, joins and bot posts are not "activity".
_MEMBER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


def register(app: App, deps: Deps) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        user = event.get("user")
        if not user or event.get("bot_id") or event.get("subtype") not in _MEMBER_SUBTYPES:
            return
        deps.activity.seen(user, slack_ts_to_datetime(event["ts"]), event.get("channel"))
