"""The registry follows Slack's channel events, each exactly once however often Slack
delivers it; a channel the registry has not seen is looked up in Slack first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.domain.channels import SlackChannel
from bot.services.channels import registry
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.once import run_once

Change = Callable[..., object]


def _actor_of(event: dict[str, Any]) -> str:
    user = event.get("user")
    return str(user) if isinstance(user, str) and user else "slack"


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.channels.registry

    @routes.event("channel_created")
    def on_channel_created(body: dict[str, Any], event: dict[str, Any]) -> None:
        data = event.get("channel") or {}
        if not data.get("id"):
            return
        created, creator = SlackChannel.from_payload(data), str(data.get("creator") or "slack")

        def work(session: Session) -> None:
            registry.record_event(
                session,
                clock=deps.clock,
                slack_channel=created,
                actor=creator,
                event_type="created",
            )

        run_once(deps, body, work)

    def record(body: dict[str, Any], channel_id: str, change: Change, **values: Any) -> None:
        """Apply an event that names the channel by id, once; an unseen channel is looked
        up in Slack first (outside the transaction)."""
        info = slack.info_if_unknown(channel_id)

        def work(session: Session) -> None:
            change(session, clock=deps.clock, slack_channel_id=channel_id, info=info, **values)

        run_once(deps, body, work)

    @routes.event("channel_rename")
    def on_channel_rename(body: dict[str, Any], event: dict[str, Any]) -> None:
        data = event.get("channel") or {}
        channel_id, name = str(data.get("id") or ""), str(data.get("name") or "")
        if channel_id and name:
            record(body, channel_id, registry.record_rename, name=name, actor="slack")

    def on_archive_change(body: dict[str, Any], event: dict[str, Any], archived: bool) -> None:
        channel_id = event.get("channel")
        if isinstance(channel_id, str) and channel_id:
            actor = _actor_of(event)
            record(body, channel_id, registry.set_archived, archived=archived, actor=actor)

    @routes.event("channel_archive")
    def on_channel_archive(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_archive_change(body, event, True)

    @routes.event("channel_unarchive")
    def on_channel_unarchive(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_archive_change(body, event, False)
