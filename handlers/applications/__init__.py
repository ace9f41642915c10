"""The secretariat's review of applications in the review channel: one module per flow."""

from __future__ import annotations

from slack_bolt import App

from handlers.applications import approval, reasons
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    approval.register(app, deps)
    reasons.register(app, deps)
