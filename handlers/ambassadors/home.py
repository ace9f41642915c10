"""The ambassador's Home section's button: the municipalities with no member in their
prefectures, as a CSV in their DM. Ambassadors' and the secretariat's (the guard refuses
anyone else); someone holding the role with no prefecture today is told so."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import ids
from bot.audience import Audience
from bot.i18n import t
from bot.services.ambassadors.outreach import NoPrefectures, uncovered_csv
from bot.slack_errors import error_code
from handlers.access import routes_for
from handlers.deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.ambassadors.home

    @routes.action(ids.AMBASSADORS_EXPORT_UNCOVERED, audience=Audience.AMBASSADOR)
    def on_export(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        try:
            with deps.session_factory.begin() as session:
                export = uncovered_csv(
                    session,
                    clock=deps.clock,
                    zone=deps.settings.zone,
                    language=language,
                    user_id=user_id,
                )
        except NoPrefectures:
            slack.tell(user_id, t("ambassadors.home.export_none", language))
            return
        try:
            slack.send_csv(user_id, export, language)
        except (SlackApiError, SlackClientError) as exc:
            log.warning("outreach CSV for %s not delivered: %s", user_id, error_code(exc))
            slack.tell(
                user_id, t("ambassadors.home.export_failed", language, error=error_code(exc))
            )
