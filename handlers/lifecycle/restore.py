"""The secretariat takes one member off the flag list with a click (also after approval,
until the account is deactivated)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.services.lifecycle.decisions import restore_pressed
from bot.views.lifecycle import restore_notes
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.lifecycle.inactive_list import reply_to, show_list


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.LIFECYCLE_RESTORE, audience=Audience.SECRETARIAT)
    def on_restore(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        with deps.session_factory.begin() as session:
            outcome = restore_pressed(
                session, clock=deps.clock, value=str(action.get("value", "")), actor=actor
            )
        language = deps.settings.default_locale
        notes = restore_notes(outcome, language, actor=actor, at=deps.clock.now())
        show_list(deps, reply_to(deps, body, respond), notes)
