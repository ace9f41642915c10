"""Ambassadors: the secretariat's appointments (`/kyoso ambassadors`), the greeting cards in
the ambassadors' channel, and the ambassador's own view of their prefectures."""

from __future__ import annotations

from slack_bolt import App

from handlers.ambassadors import appointments, greetings
from handlers.ambassadors import home as ambassador_home
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    appointments.register(app, deps)
    greetings.register(app, deps)
    ambassador_home.register(app, deps)
