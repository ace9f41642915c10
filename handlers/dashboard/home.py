"""The Home tab: opened, or brought back by the dashboard's "refresh" and "back" buttons. Any
member's; what it shows depends on their stored role."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.services.dashboard.home import home_page
from bot.services.transfers.season_calendar import SeasonCalendar
from bot.views.dashboard.home import home_view
from handlers.access import routes_for
from handlers.deps import Deps


def publish_home(deps: Deps, user_id: str) -> None:
    """The member's page; for the secretariat, the dashboard above it."""
    language = deps.locales.for_user(user_id)
    now, zone = deps.clock.now(), deps.settings.zone
    with deps.session_factory() as session:
        page = home_page(
            session,
            user_id,
            language=language,
            now=now,
            zone=zone,
            calendar=SeasonCalendar.from_settings(deps.settings),
        )
    if page.guests is not None and page.guests.shown:  # the channels of the few guests shown
        page = replace(page, guests=deps.gateway.secretariat.guests.with_channels(page.guests))
    # Thread links for an ambassador's waiting questions (one auth.test per process at most).
    asked = page.ambassador is not None and any(p.questions for p in page.ambassador.prefectures)
    workspace_url = deps.gateway.knowledge.links.workspace_url() if asked else None
    view = home_view(page, language, now, workspace_url=workspace_url)
    deps.gateway.dashboard.publish_home(user_id, view)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        user_id = event["user"]
        deps.activity.seen(user_id, deps.clock.now())  # opening either tab is activity
        if event.get("tab") == "home":
            publish_home(deps, user_id)

    @routes.action(ids.DASHBOARD_HOME)
    def on_home(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        publish_home(deps, body["user"]["id"])
