"""Approve an application (Slack then invites, when an admin token allows it), and mark by
hand that an approved applicant was invited."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from bot import ids
from bot.audience import Audience
from bot.decided import AlreadyDecided
from bot.services.applications import decisions
from bot.views.applications import already_decided_text
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.replies import ephemeral


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    slack = deps.gateway.applications
    language = deps.settings.default_locale

    def decided(respond: Respond, decide: Callable[[Session], object]) -> bool:
        """One decision in its own transaction; False, and the clicker told, when someone
        decided first."""
        try:
            with deps.session_factory.begin() as session:
                decide(session)
        except AlreadyDecided as exc:
            ephemeral(respond, already_decided_text(exc.status, language))
            return False
        return True

    @routes.action(ids.APPLICATION_APPROVE, audience=Audience.SECRETARIAT)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        public_id = action["value"]
        approve = partial(
            decisions.approve,
            clock=deps.clock,
            public_id=public_id,
            actor=body["user"]["id"],
            tell_applicant=slack.inviter is None,
        )
        if decided(respond, approve):
            slack.approved(public_id)

    @routes.action(ids.APPLICATION_MARK_INVITED, audience=Audience.SECRETARIAT)
    def on_mark_invited(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        public_id = action["value"]
        mark = partial(
            decisions.mark_invited, clock=deps.clock, public_id=public_id, actor=body["user"]["id"]
        )
        if decided(respond, mark):
            slack.review.refresh(public_id)
