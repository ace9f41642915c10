"""The join buttons of the welcome DM's channel suggestions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.services.onboarding.suggestions import joinable_channel
from bot.views.onboarding.welcome import join_result_text
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.replies import ephemeral


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    # Never the secretariat's review channel, whatever a crafted payload names.
    excluded = tuple(c for c in (deps.settings.review_channel,) if c)

    @routes.action(ids.ONBOARDING_JOIN_CHANNEL, audience=Audience.ANYONE)
    def on_join_channel(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id, channel_id = body["user"]["id"], str(action.get("value", ""))
        language = deps.locales.for_user(user_id)
        with deps.session_factory() as session:
            # Authorised on arrival: only channels Kyoso suggests.
            channel = joinable_channel(session, channel_id, excluded=excluded)
        if channel is None:
            key = "refused"
        else:
            channel_id = channel.slack_channel_id
            key = deps.gateway.onboarding.replies.invite(channel_id=channel_id, user_id=user_id)
        ephemeral(respond, join_result_text(key, channel_id, language))
