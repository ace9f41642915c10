"""Workspace membership events."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.services import members, onboarding
from handlers import onboarding as onboarding_handlers
from handlers.deps import Deps
from handlers.once import run_once


def register(app: App, deps: Deps) -> None:
    @app.event("team_join")
    def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = onboarding_handlers.with_email(deps, members.SlackUser.from_payload(event["user"]))
        outcomes: list[onboarding.JoinOutcome] = []

        def work(session: Session) -> None:
            # Records the join, completes the application and claims the welcome DM.
            outcomes.append(onboarding.handle_join(session, clock=deps.clock, user=user))

        if run_once(deps, body, work):
            # After the commit: the DM and the secretariat's messages, each at most once.
            onboarding_handlers.complete_join(deps, outcomes[0])
