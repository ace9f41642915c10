"""App Home (a member's page, the secretariat's dashboard), queue lists, `/kyoso stats` and
exports: one module per flow.

The Home tab is rebuilt from the database each time it opens. Queue lists, paging and exports
are the secretariat's: the guard (handlers/access.py) refuses anyone else before a listener
runs, checked from the stored role when each payload arrives (an old Home, a forged payload)."""

from __future__ import annotations

from slack_bolt import App

from handlers.dashboard import exports, home, queues, stats
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    # In this order: `/kyoso help` lists stats before export.
    for flow in (home, queues, stats, exports):
        flow.register(app, deps)
