"""A member's channel request: the global shortcut and `/kyoso channel` open the modal, its
submission is checked field by field, and a returned request is edited and sent again."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.decided import AlreadyDecided
from bot.domain.channels import NotYours, RequestDraft, RequestInvalid
from bot.i18n import Language, t
from bot.services.channels import requests
from bot.views.channels import requests as views
from bot.views.channels.metadata import RequestModalMetadata
from handlers.access import routes_for
from handlers.channels import payload
from handlers.channels.facilitators import open_edit
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    receipts, review = deps.gateway.channels.receipts, deps.gateway.channels.review

    @routes.global_shortcut(ids.CHANNEL_REQUEST_SHORTCUT)
    def on_request_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_request_modal(deps, body["trigger_id"], deps.locales.for_user(body["user"]["id"]))

    def request_or_edit(call: CommandCall) -> None:
        first, _, rest = call.args.partition(" ")
        if first.lower() == "edit":
            open_edit(deps, call, reference=rest)
        else:
            open_request_modal(deps, call.trigger_id, call.language)

    deps.commands.add("channel", help_key="help.command.channel", run=request_or_edit)

    @routes.view(ids.CHANNEL_REQUEST_MODAL)
    def on_request_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = RequestModalMetadata.load(view.get("private_metadata"))
        if meta is None:  # not the modal Kyoso opened: nothing is stored
            ack(**payload.stale(ids.CHANNEL_NAME_BLOCK, deps.locales.for_user(user_id)))
            return
        try:
            with deps.session_factory.begin() as session:
                submitted = requests.submit(
                    session,
                    clock=deps.clock,
                    zone=deps.settings.zone,
                    requester=user_id,
                    form=payload.request_form(payload.values_of(view)),
                    public_id=meta.public_id,
                )
        except (RequestInvalid, NotYours, AlreadyDecided) as exc:
            ack(response_action="errors", errors=form_errors(exc, meta.language))
            receipts.tell_similar(user_id, exc.similar if isinstance(exc, RequestInvalid) else ())
            return
        ack()
        receipts.confirm(user_id, submitted, meta.language)
        review.show(submitted.public_id, resubmitted=submitted.resubmitted)

    @routes.action(ids.CHANNEL_RESUBMIT)
    def on_resubmit(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id, public_id = body["user"]["id"], str(action.get("value", ""))
        language = deps.locales.for_user(user_id)
        try:
            with deps.session_factory() as session:
                draft = requests.resubmit_draft(session, public_id=public_id, requester=user_id)
        except NotYours:
            ephemeral(respond, t("channels.form.error.not_yours", language))
            return
        except AlreadyDecided as exc:
            status = t(f"channels.status.{exc.status}", language)
            ephemeral(respond, t("channels.already_decided", language, status=status))
            return
        open_request_modal(deps, body["trigger_id"], language, draft=draft, public_id=public_id)


def open_request_modal(
    deps: Deps,
    trigger_id: str,
    language: Language,
    *,
    draft: RequestDraft | None = None,
    public_id: str | None = None,
) -> None:
    """The request modal, empty or (a returned request) prefilled."""
    with deps.session_factory() as session:
        choices = requests.modal_choices(session, language)
    view = views.request_modal(
        language,
        organisations=choices.organisations,
        prefectures=choices.prefectures,
        draft=draft,
        public_id=public_id,
    )
    deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())


def form_errors(exc: Exception, language: Language) -> dict[str, str]:
    """Each problem under its own field (the first one per field)."""
    if isinstance(exc, AlreadyDecided):
        status = t(f"channels.status.{exc.status}", language)
        return {
            ids.CHANNEL_NAME_BLOCK: views.form_error(
                "already_decided", {"status": status}, language
            )
        }
    if not isinstance(exc, RequestInvalid):  # someone else's request
        return {ids.CHANNEL_NAME_BLOCK: views.form_error("not_yours", {}, language)}
    errors: dict[str, str] = {}
    for problem in exc.problems:
        block = payload.FIELD_BLOCKS[problem.target]
        errors.setdefault(block, views.form_error(problem.code, problem.params, language))
    return errors
