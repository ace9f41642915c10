"""Members' last activity from what the bot sees: messages, reactions, channel joins and
profile changes (App Home opens: handlers/dashboard). One listener per event type.

Knowledge (bot/slack/knowledge) also hears messages and ✅ reactions here.

The `message` listener also runs moderation's detectors (bot/slack/moderation/detection.py):
Bolt runs only the first listener that matches an event, and this one is registered first
because messages are the busiest event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import App

from bot.domain.lifecycle import EndReason
from bot.services import audit, members
from bot.services.activity import slack_ts_to_datetime
from bot.services.lifecycle.deactivation import mark_deactivated
from bot.services.transfers.slack_changes import address_seen
from handlers.access import routes_for
from handlers.deps import Deps

# Subtypes that are a member's own doing; edits, joins and bot posts are not "activity".
_MEMBER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    detectors = deps.gateway.moderation.detectors
    knowledge = deps.gateway.knowledge

    @routes.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user")
        if user and not event.get("bot_id") and event.get("subtype") in _MEMBER_SUBTYPES:
            deps.activity.seen(user, slack_ts_to_datetime(event["ts"]), event.get("channel"))
        # Then the detectors (Bolt acked the event before this listener ran): they touch the
        # database only when they find something, or for an edit of a message with a case.
        detectors.on_message(body, event)
        # Knowledge: a kept question or answer edited or deleted; a question to suggest for.
        knowledge.capture.on_message(body, event)
        knowledge.suggest.on_message(body, event)
        # Ambassadors: a question in a prefecture's デジ_re_ channel, or its answer.
        deps.gateway.ambassadors.home.on_message(event)

    def seen_at(event: dict[str, Any]) -> datetime:
        ts = event.get("event_ts")
        return slack_ts_to_datetime(ts) if ts else deps.clock.now()

    @routes.event("reaction_added")
    def on_reaction(event: dict[str, Any]) -> None:
        if event.get("user"):
            deps.activity.seen(event["user"], seen_at(event))
        knowledge.capture.on_reaction(event, added=True)

    @routes.event("reaction_removed")
    def on_reaction_removed(event: dict[str, Any]) -> None:
        knowledge.capture.on_reaction(event, added=False)

    @routes.event("member_joined_channel")
    def on_channel_join(event: dict[str, Any]) -> None:
        if event.get("user"):
            deps.activity.seen(event["user"], seen_at(event))

    @routes.event("user_change")
    def on_user_change(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        if not user.get("id") or user.get("is_bot"):
            return
        # Guests and Slack Connect users: bot/services/members.py guest_kind_of
        guest_kind = members.guest_kind_of(user, home_team=body.get("team_id"))
        with deps.session_factory.begin() as session:
            members.set_guest_kind(
                session, clock=deps.clock, slack_user_id=user["id"], kind=guest_kind
            )
        if user.get("deleted"):  # deactivated in Slack: not activity, the end of the account
            with deps.session_factory.begin() as session:
                mark_deactivated(
                    session,
                    clock=deps.clock,
                    slack_user_id=user["id"],
                    actor=audit.SYSTEM_ACTOR,
                    via=EndReason.DEACTIVATED_IN_SLACK,
                )
            return
        deps.activity.seen(user["id"], seen_at(event))  # a profile change is activity
        # An address (users:read.email) may mean a move: bot/services/transfers/slack_changes.py
        email = (user.get("profile") or {}).get("email")
        if email:
            with deps.session_factory.begin() as session:
                member = members.find(session, user["id"])
                change = (
                    address_seen(session, clock=deps.clock, member=member, email=str(email))
                    if member is not None
                    else None
                )
            if change is not None:
                deps.gateway.transfers.checks.follow_up([change])
