"""People move: /kyoso move and the move form, changes seen in Slack that need the
secretariat, the 異動 season's survey, leavers and their hand-over."""

from __future__ import annotations

from slack_bolt import App

from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    # One line per flow module: each registers its listeners and subcommands.
    pass
