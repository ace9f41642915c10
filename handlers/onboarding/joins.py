"""`team_join`: the join is recorded once, then the Slack side follows after the commit."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.services import members
from bot.services.onboarding.joins import JoinOutcome, handle_join
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from handlers.access import routes_for
from handlers.deps import Deps
from handlers.once import run_once

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.event("team_join")
    def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
        slack_user = members.SlackUser.from_payload(event["user"], home_team=body.get("team_id"))
        # users.info's answer has no envelope to tell a Slack Connect user by: keep the kind.
        user = replace(
            deps.gateway.onboarding.dms.with_email(slack_user), guest_kind=slack_user.guest_kind
        )
        outcomes: list[JoinOutcome] = []

        def work(session: Session) -> None:
            # Records the join, completes the application and claims the welcome DM.
            outcomes.append(handle_join(session, clock=deps.clock, user=user))

        if run_once(deps, body, work):
            complete_join(deps, outcomes[0])


def complete_join(deps: Deps, outcome: JoinOutcome) -> None:
    """The Slack side of a join, after its transaction committed: each step at most once."""
    onboarding = deps.gateway.onboarding
    if outcome.welcome:
        # Marked sent only when Slack accepts it; otherwise the onboarding-welcomes job retries.
        onboarding.welcome.deliver(outcome.slack_user_id)
    if outcome.matched_application:
        try:
            deps.gateway.applications.review.refresh(outcome.matched_application)
        except SLACK_CALL_ERRORS as exc:
            log.warning(
                "review message of %s not updated: %s", outcome.matched_application, error_code(exc)
            )
    if outcome.unmatched is not None:
        onboarding.notices.unmatched_join(outcome.unmatched)
