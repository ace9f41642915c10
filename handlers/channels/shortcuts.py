"""Facilitators' message shortcuts in their channel: record a message as the channel's
summary (pinned), or point it to a better channel in its thread. The guard lets facilitators
and the secretariat through; whether this channel is theirs is the use case's check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.channels import NotYours, UnknownChannel
from bot.i18n import Language, t
from bot.services.channels import facilitation, listing
from bot.views.channels import facilitation as views
from bot.views.channels.metadata import PointModalMetadata
from handlers.access import routes_for
from handlers.channels import payload
from handlers.deps import Deps
from handlers.replies import ephemeral, field_error


@dataclass(frozen=True)
class ShortcutCall:
    """Who used a message shortcut, on which message."""

    actor: str
    channel_id: str
    ts: str
    thread_ts: str  # the thread's first message (the message itself outside a thread)
    author: str
    language: Language


def _call(deps: Deps, body: dict[str, Any]) -> ShortcutCall:
    actor, message = body["user"]["id"], body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    return ShortcutCall(
        actor=actor,
        channel_id=str((body.get("channel") or {}).get("id") or ""),
        ts=ts,
        thread_ts=str(message.get("thread_ts") or ts),
        author=str(message.get("user") or ""),
        language=deps.locales.for_user(actor),
    )


def _refused(deps: Deps, call: ShortcutCall, respond: Respond) -> bool:
    """Not one of this channel's facilitators (nor the secretariat): told so."""
    with deps.session_factory() as session:
        allowed = facilitation.can_manage(session, call.actor, call.channel_id)
    if not allowed:
        ephemeral(respond, t("channels.not_facilitator", call.language))
    return not allowed


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    tools = deps.gateway.channels.tools

    @routes.message_shortcut(ids.CHANNEL_SUMMARY_SHORTCUT, audience=Audience.FACILITATOR)
    def on_summary(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        call = _call(deps, body)
        if _refused(deps, call, respond):
            return
        recorded, error = tools.record_summary(
            channel_id=call.channel_id, message_ts=call.ts, author=call.author, actor=call.actor
        )
        if error is not None:
            ephemeral(respond, t("channels.summary.failed", call.language, error=error))
        else:
            key = "channels.summary.done" if recorded else "channels.summary.already"
            ephemeral(respond, t(key, call.language))

    @routes.message_shortcut(ids.CHANNEL_POINT_SHORTCUT, audience=Audience.FACILITATOR)
    def on_point(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        call = _call(deps, body)
        if _refused(deps, call, respond):
            return
        view = views.point_modal(
            channel_id=call.channel_id,
            message_ts=call.thread_ts,
            author=call.author,
            language=call.language,
        )
        deps.client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    # Any member may search the registry (as `/kyoso channels` does); only the submission acts.
    @routes.options(ids.CHANNEL_POINT_TARGET)
    def on_point_options(ack: Ack, body: dict[str, Any]) -> None:
        meta = PointModalMetadata.load((body.get("view") or {}).get("private_metadata"))
        language = meta.language if meta is not None else deps.settings.default_locale
        exclude = [meta.slack_channel_id] if meta is not None else []
        with deps.session_factory() as session:
            found = listing.list_channels(
                session, word=str(body.get("value") or ""), exclude=exclude
            )
        ack(options=views.point_options(found, language))

    @routes.view(ids.CHANNEL_POINT_MODAL, audience=Audience.FACILITATOR)
    def on_point_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, values = body["user"]["id"], payload.values_of(view)
        meta = PointModalMetadata.load(view.get("private_metadata"))
        if meta is None:  # not the modal Kyoso opened: nothing is posted
            ack(**payload.stale(ids.CHANNEL_POINT_TARGET_BLOCK, deps.locales.for_user(actor)))
            return
        target = payload.point_target(values)
        try:
            with deps.session_factory() as session:
                facilitation.check_pointer(
                    session, actor=actor, channel_id=meta.slack_channel_id, target=target
                )
        except (NotYours, UnknownChannel) as exc:
            refusal = pointer_refusal(exc, meta.language)
            ack(**field_error(ids.CHANNEL_POINT_TARGET_BLOCK, refusal))
            return
        ack()
        note = payload.text(values, ids.CHANNEL_POINT_NOTE_BLOCK)
        tools.point(meta, target=target, note=note, actor=actor)


def pointer_refusal(exc: Exception, language: Language) -> str:
    key = "channels.not_facilitator" if isinstance(exc, NotYours) else "channels.point.unknown"
    return t(key, language)
