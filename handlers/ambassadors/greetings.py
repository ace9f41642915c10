"""「担当します」 on a newcomer's greeting card: the first click claims it, later clickers are
told who did."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.i18n import t
from bot.services.ambassadors import greetings
from bot.views.ambassadors.greetings import taken_text
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.replies import ephemeral


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.AMBASSADOR_GREETING_CLAIM, audience=Audience.AMBASSADOR)
    def on_claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        greeting_id = _greeting_id(action.get("value"))
        if greeting_id is None:
            ephemeral(respond, t("ambassadors.greetings.claim.unknown", language))
            return
        with deps.session_factory.begin() as session:
            claim = greetings.claim(
                session, clock=deps.clock, greeting_id=greeting_id, slack_user_id=user_id
            )
        cards = deps.gateway.ambassadors.greetings
        if claim.outcome is greetings.ClaimOutcome.CLAIMED:
            cards.claimed(greeting_id)
        elif claim.outcome is greetings.ClaimOutcome.UNKNOWN:
            ephemeral(respond, t("ambassadors.greetings.claim.unknown", language))
        else:
            if claim.outcome is greetings.ClaimOutcome.CLOSED:
                cards.refresh(greeting_id)
            ephemeral(respond, taken_text(claim.claimed_by, language))


def _greeting_id(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None
