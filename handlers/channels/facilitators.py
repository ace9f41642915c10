"""A channel's facilitators (and the secretariat) edit it: `/kyoso channel edit`, the edit
button of `/kyoso channels`, and the edit modal's submission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.channels import NotYours, RequestInvalid, UnknownChannel
from bot.i18n import Language, t
from bot.services.channels import facilitation
from bot.views.channels import facilitation as views
from bot.views.channels.metadata import EditModalMetadata
from handlers.access import routes_for
from handlers.channels import payload
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral, field_error


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    tools = deps.gateway.channels.tools

    @routes.action(ids.CHANNEL_EDIT_OPEN, audience=Audience.FACILITATOR)
    def on_edit_open(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        channel_id = str(action.get("value") or "")
        show_edit_modal(deps, body["trigger_id"], user_id, channel_id, language, respond)

    @routes.view(ids.CHANNEL_EDIT_MODAL, audience=Audience.FACILITATOR)
    def on_edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id, values = body["user"]["id"], payload.values_of(view)
        meta = EditModalMetadata.load(view.get("private_metadata"))
        if meta is None:  # not the modal Kyoso opened: nothing is stored
            ack(**payload.stale(ids.CHANNEL_PURPOSE_BLOCK, deps.locales.for_user(user_id)))
            return
        try:
            with deps.session_factory.begin() as session:
                update = facilitation.update_channel(
                    session,
                    clock=deps.clock,
                    slack_channel_id=meta.slack_channel_id,
                    actor=user_id,
                    purpose=payload.text(values, ids.CHANNEL_PURPOSE_BLOCK),
                    facilitators=payload.users(values, ids.CHANNEL_FACILITATORS_BLOCK),
                    end_date=payload.chosen_date(values, ids.CHANNEL_END_DATE_BLOCK),
                )
        except (RequestInvalid, NotYours, UnknownChannel) as exc:
            ack(**field_error(ids.CHANNEL_PURPOSE_BLOCK, edit_refusal(exc, meta.language)))
            return
        ack()
        tools.publish_purpose(update, actor=user_id, language=meta.language)


def edit_refusal(exc: Exception, language: Language) -> str:
    if isinstance(exc, RequestInvalid):
        return t(f"channels.form.error.{exc.problems[0].code}", language)
    return t("channels.edit.not_allowed", language)


def open_edit(deps: Deps, call: CommandCall, *, reference: str) -> None:
    """`/kyoso channel edit [#channel]`: the channel named, or the one it was typed in."""
    with deps.session_factory() as session:
        channel_id = facilitation.resolve_reference(session, reference, call.channel_id)
    show_edit_modal(deps, call.trigger_id, call.user_id, channel_id, call.language, call.respond)


def show_edit_modal(
    deps: Deps,
    trigger_id: str,
    user_id: str,
    channel_id: str | None,
    language: Language,
    respond: Callable[..., Any],
) -> None:
    try:
        with deps.session_factory() as session:
            target = facilitation.edit_target(session, actor=user_id, slack_channel_id=channel_id)
    except UnknownChannel:
        ephemeral(respond, t("channels.edit.unknown", language))
        return
    except NotYours:
        ephemeral(respond, t("channels.edit.not_allowed", language))
        return
    view = views.edit_modal(
        slack_channel_id=target.slack_channel_id,
        name=target.name,
        purpose=target.purpose,
        facilitators=target.facilitators,
        end_date=target.end_date,
        language=language,
    )
    deps.client.views_open(trigger_id=trigger_id, view=view.to_dict())
