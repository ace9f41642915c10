"""App Home: what Kyoso knows about the member, refreshed each time the tab opens."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import members
from bot.views.home import HomeMember, home_view
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        with deps.session_factory() as session:
            member = members.find(session, user_id)
            status = member.status.value if member is not None else None
        language = deps.locales.for_user(user_id)
        view = home_view(HomeMember(user_id=user_id, status=status), language)
        deps.client.views_publish(user_id=user_id, view=view.to_dict())
