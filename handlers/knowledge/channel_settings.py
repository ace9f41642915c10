"""A channel's knowledge choices: `/kyoso knowledge-channel`, typed in the channel, opens a
modal for its facilitators (or the secretariat) to opt the channel out (its kept entries
are removed, none are kept again) and to have past answers suggested to its questions.
The guard lets facilitators through; whether this channel is theirs is checked on each
arrival."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.i18n import t
from bot.services.channels import facilitation, registry
from bot.services.knowledge import channel_choices, entries
from bot.views.knowledge.capture import (
    OPT_OUT,
    SUGGEST,
    ChannelMetadata,
    channel_modal,
    channel_saved_text,
)
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral, field_error

NOT_FACILITATOR = "knowledge.capture.channel.not_facilitator"


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    capture = deps.gateway.knowledge.capture

    def open_settings(call: CommandCall) -> None:
        with deps.session_factory() as session:
            known = registry.find_channel(session, call.channel_id) is not None
            allowed = facilitation.can_manage(session, call.user_id, call.channel_id)
            current = channel_choices.choice(session, call.channel_id)
        if not known:  # the registry holds public channels only
            ephemeral(call.respond, t("knowledge.capture.channel.not_public", call.language))
            return
        if not allowed:
            ephemeral(call.respond, t(NOT_FACILITATOR, call.language))
            return
        view = channel_modal(
            call.language,
            metadata=ChannelMetadata(channel_id=call.channel_id),
            opted_out=current.opted_out,
            suggest=current.suggest,
        )
        deps.client.views_open(trigger_id=call.trigger_id, view=view.to_dict())

    deps.commands.add(
        "knowledge-channel",
        help_key="help.command.knowledge-channel",
        run=open_settings,
        audience=Audience.FACILITATOR,
        refusal_key=NOT_FACILITATOR,
    )

    @routes.view(ids.KNOWLEDGE_CHANNEL_MODAL, audience=Audience.FACILITATOR)
    def on_saved(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        metadata = ChannelMetadata.load(view.get("private_metadata"))
        if metadata is None:
            stale = t("knowledge.capture.error.stale", language)
            ack(**field_error(ids.KNOWLEDGE_CHANNEL_CHOICES_BLOCK, stale))
            return
        chosen = _chosen(view)
        with deps.session_factory.begin() as session:
            if not facilitation.can_manage(session, actor, metadata.channel_id):
                refusal = t(NOT_FACILITATOR, language)
                ack(**field_error(ids.KNOWLEDGE_CHANNEL_CHOICES_BLOCK, refusal))
                return
            choice = channel_choices.choose(
                session,
                clock=deps.clock,
                channel_id=metadata.channel_id,
                actor=actor,
                opted_out=OPT_OUT in chosen,
                suggest=SUGGEST in chosen,
            )
            removed = (
                entries.remove_channel(
                    session, clock=deps.clock, channel_id=metadata.channel_id, actor=actor
                )
                if choice.opted_out
                else 0
            )
        ack()
        deps.gateway.knowledge.suggest.forget_choice(metadata.channel_id)  # heeded at once
        text = channel_saved_text(
            language,
            channel_id=metadata.channel_id,
            opted_out=choice.opted_out,
            suggest=choice.suggest,
            removed=removed,
        )
        capture.tell(actor, text, channel_id=metadata.channel_id)


def _chosen(view: dict[str, Any]) -> set[str]:
    values = (view.get("state") or {}).get("values") or {}
    block = values.get(ids.KNOWLEDGE_CHANNEL_CHOICES_BLOCK)
    entered = block.get(ids.KNOWLEDGE_CHANNEL_CHOICES) if isinstance(block, dict) else None
    options = entered.get("selected_options") if isinstance(entered, dict) else None
    return {str(o.get("value")) for o in options or [] if isinstance(o, dict)}
