"""The secretariat's buttons on a case's alert: claim it, or open an action's modal (dismiss,
ask to edit, warn, delete, remove) whose submission decides the case once; Slack's side of
the decision follows after the commit, and the alert shows how it went."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.moderation import CaseAction
from bot.i18n import t
from bot.services.moderation import decisions
from bot.views.moderation.actions import CaseActionMetadata, action_modal
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import selected_value, typed_text
from handlers.moderation.refusals import CASE_REFUSED, refusal
from handlers.replies import ephemeral, field_error

log = logging.getLogger(__name__)

_OPENERS = (
    (ids.MODERATION_DISMISS, CaseAction.DISMISS),
    (ids.MODERATION_REQUEST_EDIT, CaseAction.REQUEST_EDIT),
    (ids.MODERATION_WARN, CaseAction.WARN),
    (ids.MODERATION_DELETE, CaseAction.DELETE),
    (ids.MODERATION_REMOVE, CaseAction.REMOVE),
)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    alerts, effects = deps.gateway.moderation.alerts, deps.gateway.moderation.effects
    zone = deps.settings.zone

    @routes.action(ids.MODERATION_CLAIM, audience=Audience.SECRETARIAT)
    def on_claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor, public_id = body["user"]["id"], action["value"]
        try:
            with deps.session_factory.begin() as session:
                changed = decisions.claim(
                    session, clock=deps.clock, public_id=public_id, actor=actor
                )
        except CASE_REFUSED as exc:
            return ephemeral(respond, refusal(exc, deps.locales.for_user(actor)))
        if changed:
            alerts.refresh(public_id)

    def opener(kind: CaseAction) -> Callable[..., None]:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            actor = body["user"]["id"]
            language = deps.locales.for_user(actor)
            try:
                with deps.session_factory() as session:
                    form = decisions.action_form(
                        session, clock=deps.clock, public_id=action["value"], action=kind, zone=zone
                    )
            except CASE_REFUSED as exc:
                return ephemeral(respond, refusal(exc, language))
            modal = action_modal(form, language=language, powers=effects.powers, zone=zone)
            deps.client.views_open(trigger_id=body["trigger_id"], view=modal.to_dict())

        return on_click

    for action_id, kind in _OPENERS:
        routes.action(action_id, audience=Audience.SECRETARIAT)(opener(kind))

    @routes.view(ids.MODERATION_ACTION_MODAL, audience=Audience.SECRETARIAT)
    def on_action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        choice = _submitted(view)
        if isinstance(choice, str):
            ack(**field_error(ids.MODERATION_REASON_BLOCK, t(choice, language)))
            return
        try:
            with deps.session_factory.begin() as session:
                decided = decisions.take(
                    session, clock=deps.clock, choice=choice, actor=actor, zone=zone
                )
        except CASE_REFUSED as exc:
            ack(**field_error(ids.MODERATION_REASON_BLOCK, refusal(exc, language)))
            return
        ack()
        log.info("case %s: %s by %s", decided.public_id, decided.action.value, actor)
        effects.carry_out(decided)


def _submitted(view: dict[str, Any]) -> decisions.Choice | str:
    """The secretary's choice, or the catalogue key of what is wrong with it."""
    values = view["state"]["values"]
    reason = typed_text(values, ids.MODERATION_REASON_BLOCK, ids.MODERATION_INPUT, multiline=True)
    if not reason:
        return "moderation.modal.reason_required"
    metadata = CaseActionMetadata.load(view.get("private_metadata"))
    if metadata is None:  # not what Kyoso sent: nothing is decided
        return "moderation.unknown_case"
    rule = selected_value(values, ids.MODERATION_RULE_BLOCK, ids.MODERATION_INPUT)
    return decisions.Choice(metadata.case, metadata.action, reason, rule)
