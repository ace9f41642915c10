"""The member's "keep my account" button in the contact DM: the round ends, once."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.services.lifecycle.answers import answer_keep
from bot.views.blocks import to_dicts
from bot.views.lifecycle import kept_blocks, kept_text
from handlers.access import routes_for
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    # Anyone may press it; only the member whose round it names changes anything.
    @routes.action(ids.LIFECYCLE_KEEP, audience=Audience.ANYONE)
    def on_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        with deps.session_factory.begin() as session:
            answer = answer_keep(
                session, clock=deps.clock, value=str(action.get("value", "")), slack_user_id=user_id
            )
        language = deps.locales.for_user(user_id)
        respond(
            blocks=to_dicts(kept_blocks(answer, language)),
            text=kept_text(answer, language),
            replace_original=True,
        )
