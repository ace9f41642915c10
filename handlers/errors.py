"""One error handler: log the failure and tell the member, politely, in their language."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.i18n import t
from handlers.deps import Deps

log = logging.getLogger(__name__)

_INTERACTIVE = {"block_actions", "view_submission", "shortcut", "message_action"}


def _user_id(body: dict[str, Any]) -> str | None:
    if "user_id" in body:  # slash command
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict) and "id" in user:
        return str(user["id"])
    return None


def register(app: App, deps: Deps) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s", error, exc_info=error)
        user_id = _user_id(body)
        if user_id is None:
            return  # an event nobody is waiting for: the log is enough
        text = t("error.generic", deps.locales.for_user(user_id))
        try:
            if body.get("response_url"):
                WebhookClient(body["response_url"]).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            elif body.get("type") in _INTERACTIVE:
                deps.client.chat_postMessage(channel=user_id, text=text)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not tell %s about the failure: %s", user_id, exc)
