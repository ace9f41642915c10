"""People move: /kyoso move and the move form, changes seen in Slack that need the
secretariat, the 異動 season's survey, leavers and their hand-over."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps
from handlers.transfers import checks, leavers, moves, season


def register(app: App, deps: Deps) -> None:
    checks.register(app, deps)
    leavers.register(app, deps)
    moves.register(app, deps)
    season.register(app, deps)
