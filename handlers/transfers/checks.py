"""The secretariat's buttons on an affiliation check's card (所属確認が必要): ask the member,
keep, start deactivation. Each decides the check once; the card is edited in place after the
commit, and a late or second click is told the check was already handled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.transfer_checks import CheckAction
from bot.i18n import t
from bot.services.transfers.checks import decide_check
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.replies import ephemeral

_BUTTONS = (
    (ids.TRANSFER_CHECK_ASK, CheckAction.ASK),
    (ids.TRANSFER_CHECK_KEEP, CheckAction.KEEP),
    (ids.TRANSFER_CHECK_DEACTIVATE, CheckAction.DEACTIVATE),
)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    cards = deps.gateway.transfers.checks

    def button(kind: CheckAction) -> Callable[..., None]:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            actor = body["user"]["id"]
            with deps.session_factory.begin() as session:
                decision = decide_check(
                    session,
                    clock=deps.clock,
                    public_id=str(action.get("value") or ""),
                    action=kind,
                    actor=actor,
                )
            if decision.slack_user_id is None:
                return ephemeral(
                    respond, t("transfers.check.unknown", deps.locales.for_user(actor))
                )
            if decision.decided_before:
                ephemeral(respond, t("transfers.check.already", deps.locales.for_user(actor)))
            cards.decided(decision)

        return on_click

    for action_id, kind in _BUTTONS:
        routes.action(action_id, audience=Audience.SECRETARIAT)(button(kind))
