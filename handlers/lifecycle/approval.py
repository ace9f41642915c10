"""The secretariat approves the listed batch: each round decided once, then each account
deactivated with the admin token's best power, or put on the to-do list."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.lifecycle import BATCH_SIZE
from bot.services.lifecycle.deactivation import approve_and_deactivate
from bot.services.lifecycle.decisions import batch_of
from bot.views.lifecycle import approval_notes
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.lifecycle.inactive_list import reply_to, show_list


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.LIFECYCLE_APPROVE_BATCH, audience=Audience.SECRETARIAT)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        outcome = approve_and_deactivate(
            session_factory=deps.session_factory,
            clock=deps.clock,
            deactivator=deps.gateway.lifecycle.deactivators.start(),
            cycle_ids=batch_of(str(action.get("value", "")), limit=BATCH_SIZE),
            actor=actor,
        )
        language = deps.settings.default_locale
        notes = approval_notes(outcome, language, actor=actor, at=deps.clock.now())
        show_list(deps, reply_to(deps, body, respond), notes)
