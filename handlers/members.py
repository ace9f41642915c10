"""Workspace membership events."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.services import members
from handlers.deps import Deps
from handlers.once import run_once


def register(app: App, deps: Deps) -> None:
    @app.event("team_join")
    def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = members.SlackUser.from_payload(event["user"])

        def work(session: Session) -> None:
            members.record_join(session, clock=deps.clock, user=user)

        run_once(deps, body, work)
