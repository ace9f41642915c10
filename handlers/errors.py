"""One error handler: log the failure and tell the member, politely, in their language.

Bolt also calls it for failures of its middleware, so it must hold on a bad day: it only
replies to Slack's own hosts (handlers/response_urls.py), with short timeouts, off the
request thread; the member's language comes from the database only when the database
works, and a database that cannot be reached gets "temporarily unavailable" instead of the
generic apology."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.db_errors import is_database_unavailable
from bot.i18n import Language, t
from handlers.deps import Deps
from handlers.response_urls import is_allowed_response_url

log = logging.getLogger(__name__)

_INTERACTIVE = {"block_actions", "view_submission", "shortcut", "message_action"}

# Seconds for each reply: an apology that cannot be delivered quickly is not worth a thread.
REPLY_TIMEOUT_SECONDS = 3


def user_id_of(body: dict[str, Any]) -> str | None:
    if "user_id" in body:  # slash command
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict) and "id" in user:
        return str(user["id"])
    return None


def first_input_block(body: dict[str, Any]) -> str | None:
    view = body.get("view")
    for block in (view.get("blocks") if isinstance(view, dict) else None) or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


class Apology:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        # Its own client: no retry handlers that sleep through Retry-After, a short timeout.
        self._client = WebClient(
            token=deps.client.token,
            base_url=deps.client.base_url,
            timeout=REPLY_TIMEOUT_SECONDS,
        )

    def send(self, error: Exception, body: dict[str, Any], user_id: str) -> None:
        self.deliver(body, user_id, lambda: self._text(error, user_id))

    def deliver(self, body: dict[str, Any], user_id: str, text_for: Callable[[], str]) -> None:
        """Say `text_for()` to the member, where they are waiting for an answer."""
        response_url = body.get("response_url")
        if response_url and not is_allowed_response_url(
            response_url, slack_api_url=self._deps.settings.slack_api_url
        ):
            log.warning("not replying to %s: its response_url is not on Slack's host", user_id)
            return
        text = text_for()
        try:
            if response_url:
                WebhookClient(str(response_url), timeout=REPLY_TIMEOUT_SECONDS).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            elif body.get("type") in _INTERACTIVE:
                self._client.chat_postMessage(channel=user_id, text=text)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not tell %s about the failure: %s", user_id, exc)

    def answer(self, body: dict[str, Any], text: str) -> BoltResponse:
        """`text` where the member is waiting, needing nothing but Slack: in the slash
        command's own answer, under a modal's first field (the modal stays open with the
        member's typing), or as a reply sent off the request thread."""
        if "command" in body:
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        if body.get("type") == "view_submission":
            block_id = first_input_block(body)
            if block_id is not None:
                return BoltResponse(
                    status=200, body={"response_action": "errors", "errors": {block_id: text}}
                )
        user_id = user_id_of(body)
        if user_id is not None:
            threading.Thread(
                target=self.deliver,
                args=(body, user_id, lambda: text),
                name="kyoso-reply",
                daemon=True,
            ).start()
        return BoltResponse(status=200, body="")

    def _text(self, error: Exception, user_id: str) -> str:
        if is_database_unavailable(error):
            return t("error.unavailable", self._deps.settings.default_locale)
        return t("error.generic", self._language(user_id))

    def _language(self, user_id: str) -> Language:
        try:
            return self._deps.locales.for_user(user_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("member's language unknown, using the default: %s", type(exc).__name__)
            return self._deps.settings.default_locale


def register(app: App, deps: Deps) -> None:
    apology = Apology(deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s", error, exc_info=error)
        user_id = user_id_of(body) if isinstance(body, dict) else None
        if user_id is None:
            return  # an event nobody is waiting for: the log is enough
        # Off the calling thread: for a middleware failure that is the request's own thread,
        # and Slack's 3 s to answer must not wait on the apology.
        threading.Thread(
            target=apology.send, args=(error, body, user_id), name="kyoso-apology", daemon=True
        ).start()
