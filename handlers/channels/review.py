"""The secretariat's review of channel requests: approve (and provision), retry what Slack
refused, return for changes or reject with a comment. Every listener here is for the
secretariat; the guard refuses anyone else before anything opens or changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.domain.channels import ProvisionResult
from bot.i18n import Language, t
from bot.services.channels import review
from bot.views.channels import review as views
from bot.views.channels.metadata import DecisionModalMetadata
from handlers.access import routes_for
from handlers.channels import payload
from handlers.deps import Deps
from handlers.replies import ephemeral, field_error

_KINDS = {
    ids.CHANNEL_RETURN: ("return", ids.CHANNEL_RETURN_MODAL),
    ids.CHANNEL_REJECT: ("reject", ids.CHANNEL_REJECT_MODAL),
}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    channels = deps.gateway.channels
    language = deps.settings.default_locale  # the secretariat reads the workspace's language

    @routes.action(ids.CHANNEL_APPROVE, audience=Audience.SECRETARIAT)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor, public_id = body["user"]["id"], str(action.get("value", ""))
        try:
            with deps.session_factory.begin() as session:
                review.approve(session, clock=deps.clock, public_id=public_id, actor=actor)
        except AlreadyDecided as exc:
            ephemeral(respond, already_text(exc, language))
            return
        channels.review.decided(public_id, "approved")
        result = channels.provisioning.provision(public_id)
        if result.status == "failed":
            ephemeral(respond, result_text(deps, result, public_id, language))

    @routes.action(ids.CHANNEL_RETRY, audience=Audience.SECRETARIAT)
    def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        public_id = str(action.get("value", ""))
        result = channels.provisioning.provision(public_id)
        if result.status != "provisioned":
            ephemeral(respond, result_text(deps, result, public_id, language))

    @routes.action(ids.CHANNEL_RETURN, audience=Audience.SECRETARIAT)
    @routes.action(ids.CHANNEL_REJECT, audience=Audience.SECRETARIAT)
    def on_decision_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        kind, callback_id = _KINDS[action["action_id"]]
        view = views.decision_modal(
            callback_id=callback_id,
            public_id=str(action.get("value", "")),
            language=language,
            kind=kind,
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.CHANNEL_RETURN_MODAL, audience=Audience.SECRETARIAT)
    @routes.view(ids.CHANNEL_REJECT_MODAL, audience=Audience.SECRETARIAT)
    def on_decision_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, kind = body["user"]["id"], decision_kind(view)
        meta = DecisionModalMetadata.load(view.get("private_metadata"))
        reason = payload.text(payload.values_of(view), ids.CHANNEL_DECISION_BLOCK).strip()
        if meta is None or not reason:
            key = "channels.modal.stale" if meta is None else "channels.modal.reason_required"
            ack(**field_error(ids.CHANNEL_DECISION_BLOCK, t(key, language)))
            return
        try:
            with deps.session_factory.begin() as session:
                decided = review.decide_with_reason(
                    session,
                    clock=deps.clock,
                    public_id=meta.public_id,
                    actor=actor,
                    kind=kind,
                    reason=reason,
                )
        except AlreadyDecided as exc:
            ack(**field_error(ids.CHANNEL_DECISION_BLOCK, already_text(exc, language)))
            return
        ack()
        channels.review.decided(meta.public_id, decided.status.value)


def decision_kind(view: dict[str, Any]) -> str:
    return "return" if view.get("callback_id") == ids.CHANNEL_RETURN_MODAL else "reject"


def already_text(exc: AlreadyDecided, language: Language) -> str:
    status = t(f"channels.status.{exc.status}", language)
    return t("channels.already_decided", language, status=status)


def result_text(deps: Deps, result: ProvisionResult, public_id: str, language: Language) -> str:
    """Why provisioning did not finish: busy, refused by Slack, or not approved (any more)."""
    if result.status == "busy":
        return t("channels.retry.busy", language)
    if result.status == "failed":
        return t("channels.retry.failed", language, error=result.error or "")
    with deps.session_factory() as session:
        status = review.status_of(session, public_id)
    return already_text(AlreadyDecided(status), language)
