"""A queue's list on the Home tab, and its paging: the secretariat's."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.domain.dashboard import QueueKind
from bot.services.dashboard.queues import queue_page
from bot.text import parse_int
from bot.views.dashboard.queues import queue_list_view
from handlers.access import routes_for
from handlers.dashboard.home import publish_home
from handlers.deps import Deps

_PAGE_ACTIONS = re.compile("^(" + "|".join(map(re.escape, ids.DASHBOARD_PAGES)) + ")$")


def publish_list(deps: Deps, user_id: str, kind_value: str, page: int) -> None:
    try:
        kind = QueueKind(kind_value)
    except ValueError:  # not a queue (a forged value): the dashboard instead
        publish_home(deps, user_id)
        return
    language = deps.locales.for_user(user_id)
    now, zone = deps.clock.now(), deps.settings.zone
    with deps.session_factory() as session:
        queue = queue_page(session, kind, page=page, now=now, zone=zone, language=language)
    deps.gateway.dashboard.publish_home(user_id, queue_list_view(queue, language, now))


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.DASHBOARD_OPEN_LIST, audience=Audience.SECRETARIAT)
    def on_open_list(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        publish_list(deps, body["user"]["id"], str(action.get("value", "")), 1)

    @routes.action(_PAGE_ACTIONS, audience=Audience.SECRETARIAT)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        kind, _, page = str(action.get("value", "")).partition(":")
        publish_list(deps, body["user"]["id"], kind, parse_int(page, low=1) or 1)
