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
from handlers.replies import field_error

Kind = Literal["reject", "info"]
# Each kind's button, and the modal that asks for its reason (or question).
_BUTTONS: dict[str, Kind] = {ids.APPLICATION_REJECT: "reject", ids.APPLICATION_REQUEST_INFO: "info"}
_MODALS: dict[Kind, str] = {
    "reject": ids.APPLICATION_REJECT_MODAL,
    "info": ids.APPLICATION_INFO_MODAL,
}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    language = deps.settings.default_locale

    @routes.action(ids.APPLICATION_REJECT, audience=Audience.SECRETARIAT)
    @routes.action(ids.APPLICATION_REQUEST_INFO, audience=Audience.SECRETARIAT)
    def on_decision_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        kind = _BUTTONS[action["action_id"]]
        view = reason_modal(
            callback_id=_MODALS[kind],
            public_id=action["value"],
            language=language,
            kind=kind,
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @routes.view(ids.APPLICATION_REJECT_MODAL, audience=Audience.SECRETARIAT)
    @routes.view(ids.APPLICATION_INFO_MODAL, audience=Audience.SECRETARIAT)
    def on_reason_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitted = _submitted(view)
        if isinstance(submitted, str):
            ack(**field_error(ids.APPLICATION_REASON_BLOCK, t(submitted, language)))
            return
        public_id, text = submitted
        try:
            with deps.session_factory.begin() as session:
                decisions.decide_with_reason(
                    session,
                    clock=deps.clock,
                    public_id=public_id,
                    actor=body["user"]["id"],
                    kind=_kind_of(view),
                    reason=text,
                )
        except AlreadyDecided as exc:
            refusal = already_decided_text(exc.status, language)
            ack(**field_error(ids.APPLICATION_REASON_BLOCK, refusal))
            return
        ack()
        deps.gateway.applications.review.refresh(public_id)


def _submitted(view: dict[str, Any]) -> tuple[str, str] | str:
    """The application and the secretariat's text, or the catalogue key of what is wrong."""
    modal = ReasonModal.load(view.get("private_metadata"))
    if modal is None:  # not what Kyoso sent: nothing is decided
        return "applications.modal.stale"
    values = view["state"]["values"]
    text = typed_text(
        values, ids.APPLICATION_REASON_BLOCK, ids.APPLICATION_REASON_INPUT, multiline=True
    )
    return (modal.public_id, text) if text else "applications.modal.reason_required"


def _kind_of(view: dict[str, Any]) -> Kind:
    return "reject" if view.get("callback_id") == ids.APPLICATION_REJECT_MODAL else "info"
