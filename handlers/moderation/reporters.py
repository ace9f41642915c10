"""Who reported a case: shown to the secretariat only, and each look is audited."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.i18n import t
from bot.services.moderation import reports
from bot.views.moderation.lists import reporters_blocks
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.moderation.refusals import CASE_REFUSED, refusal
from handlers.replies import ephemeral, reply


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.MODERATION_SHOW_REPORTERS, audience=Audience.SECRETARIAT)
    def on_show_reporters(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        language = deps.locales.for_user(actor)
        try:
            with deps.session_factory.begin() as session:
                shown = reports.reporters(
                    session, clock=deps.clock, public_id=public_id, actor=actor
                )
        except CASE_REFUSED as exc:
            return ephemeral(respond, refusal(exc, language))
        blocks = reporters_blocks(public_id, shown, language)
        reply(respond, blocks, t("moderation.reporters.title", language, id=public_id))
