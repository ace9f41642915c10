"""Reject an application, or ask its applicant about their affiliation: the secretariat
types the reason (or the question) in a modal, and the applicant gets it by email."""

from __future__ import annotations

from typing import Any, Literal

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.i18n import t
from bot.services.applications import decisions
from bot.views.applications import ReasonModal, already_decided_text, reason_modal
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.modal_values import typed_text

Kind = Literal["reject", "info"]
_MODALS: dict[Kind, str] = {
    "reject": ids.APPLICATION_REJECT_MODAL,
    "info": ids.APPLICATION_INFO_MODAL,
}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    language = deps.settings.default_locale

    def open_modal(body: dict[str, Any], action: dict[str, Any], kind: Kind) -> None:
        view = reason_modal(
            callback_id=_MODALS[kind],
            public_id=action["value"],
            language=language,
            title_key=f"applications.modal.{kind}.title",
            label_key=f"applications.modal.{kind}.label",
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], kind: Kind) -> None:
        def error(text: str) -> None:
            ack(response_action="errors", errors={ids.APPLICATION_REASON_BLOCK: text})

        modal = ReasonModal.load(view.get("private_metadata"))
        values = view["state"]["values"]
        text = typed_text(
            values, ids.APPLICATION_REASON_BLOCK, ids.APPLICATION_REASON_INPUT, multiline=True
        )
        if modal is None:
            error(t("applications.modal.stale", language))
        elif not text:
            error(t("applications.modal.reason_required", language))
        else:
            try:
                decide(modal.public_id, body["user"]["id"], text, kind)
            except AlreadyDecided as exc:
                error(already_decided_text(exc.status, language))
                return
            ack()
            deps.gateway.applications.review.refresh(modal.public_id)

    def decide(public_id: str, actor: str, text: str, kind: Kind) -> None:
        with deps.session_factory.begin() as session:
            if kind == "reject":
                decisions.reject(
                    session, clock=deps.clock, public_id=public_id, actor=actor, reason=text
                )
            else:
                decisions.request_info(
                    session, clock=deps.clock, public_id=public_id, actor=actor, message=text
                )

    @routes.action(ids.APPLICATION_REJECT, audience=Audience.SECRETARIAT)
    def on_reject(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_modal(body, action, "reject")

    @routes.action(ids.APPLICATION_REQUEST_INFO, audience=Audience.SECRETARIAT)
    def on_request_info(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_modal(body, action, "info")

    @routes.view(ids.APPLICATION_REJECT_MODAL, audience=Audience.SECRETARIAT)
    def on_reject_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitted(ack, body, view, "reject")

    @routes.view(ids.APPLICATION_INFO_MODAL, audience=Audience.SECRETARIAT)
    def on_info_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitted(ack, body, view, "info")
