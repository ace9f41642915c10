"""Who may press what: every listener is registered through `Routes` with its audience, and
privileged ones sit behind one guard (a Bolt listener middleware) that refuses before the
listener runs — before any modal opens and before anything changes.

`Routes` also keeps the list of what was registered, so that a test can press every
privileged button, open every privileged modal and submit every privileged view as an
ordinary member, and can tell when a listener was added to Bolt without going through here."""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.audience import ALLOWED_ROLES, Audience
from bot.i18n import Language, t
from bot.services import members
from bot.services.channels import facilitation
from handlers.deps import Deps
from handlers.errors import Apology, user_id_of

log = logging.getLogger(__name__)

Listener = TypeVar("Listener", bound=Callable[..., Any])
RouteKind = Literal[
    "action", "view", "global_shortcut", "message_shortcut", "event", "command", "options"
]
Key = str | re.Pattern[str]


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    key: Key
    audience: Audience
    module: str  # where the listener lives: the map in ARCHITECTURE.md is checked against it


def refusal_text(audience: Audience, language: Language) -> str:
    return t(f"access.only.{audience.value}", language)


def may(deps: Deps, user_id: str | None, audience: Audience) -> bool:
    """Checked when each payload arrives: a hidden button is no permission."""
    if audience is Audience.ANYONE:
        return True
    if not user_id:
        return False
    with deps.session_factory() as session:
        if members.has_any_role(session, user_id, ALLOWED_ROLES[audience]):
            return True
        # A channel's named facilitators need no role: they are facilitators all the same.
        return audience is Audience.FACILITATOR and facilitation.facilitates_any(session, user_id)


_ROUTES: weakref.WeakKeyDictionary[App, Routes] = weakref.WeakKeyDictionary()


def routes_for(app: App, deps: Deps) -> Routes:
    """The one `Routes` of `app`: every feature's `register` adds to the same list."""
    routes = _ROUTES.get(app)
    if routes is None:
        routes = _ROUTES[app] = Routes(app, deps)
    return routes


class Routes:
    """Registers listeners on one Bolt app and remembers what it registered."""

    def __init__(self, app: App, deps: Deps) -> None:
        self._app = app
        self._deps = deps
        self._apology = Apology(deps)
        self.declared: list[Route] = []

    def action(
        self, action_id: Key, *, audience: Audience = Audience.ANYONE
    ) -> Callable[[Listener], Listener]:
        return self._add("action", action_id, audience, self._app.action)

    def view(
        self, callback_id: Key, *, audience: Audience = Audience.ANYONE
    ) -> Callable[[Listener], Listener]:
        return self._add("view", callback_id, audience, self._app.view)

    def global_shortcut(
        self, callback_id: str, *, audience: Audience = Audience.ANYONE
    ) -> Callable[[Listener], Listener]:
        return self._add("global_shortcut", callback_id, audience, self._app.global_shortcut)

    def message_shortcut(
        self, callback_id: str, *, audience: Audience = Audience.ANYONE
    ) -> Callable[[Listener], Listener]:
        return self._add("message_shortcut", callback_id, audience, self._app.message_shortcut)

    def options(
        self, action_id: Key, *, audience: Audience = Audience.ANYONE
    ) -> Callable[[Listener], Listener]:
        return self._add("options", action_id, audience, self._app.options)

    def event(self, event_type: str) -> Callable[[Listener], Listener]:
        """Events come from Slack itself, not from a member's click: no audience."""
        return self._add("event", event_type, Audience.ANYONE, self._app.event)

    def command(self, command: str) -> Callable[[Listener], Listener]:
        """The slash command; its subcommands carry their audience in the CommandRouter."""
        return self._add("command", command, Audience.ANYONE, self._app.command)

    def _add(
        self,
        kind: RouteKind,
        key: Key,
        audience: Audience,
        register: Callable[..., Callable[[Listener], Listener]],
    ) -> Callable[[Listener], Listener]:
        middleware = [] if audience is Audience.ANYONE else [self._guard(audience)]

        def decorate(listener: Listener) -> Listener:
            self.declared.append(Route(kind, key, audience, listener.__module__))
            return register(key, middleware=middleware)(listener)

        return decorate

    def _guard(self, audience: Audience) -> Callable[..., BoltResponse | None]:
        def guard(
            req: BoltRequest, resp: BoltResponse, next: Callable[[], None]
        ) -> BoltResponse | None:
            user_id = user_id_of(req.body)
            if may(self._deps, user_id, audience):
                next()
                return resp
            log.warning("%s refused to %s: %s only", _kind(req.body), user_id, audience.value)
            return self._refuse(req.body, user_id, audience)

        return guard

    def _refuse(
        self, body: dict[str, Any], user_id: str | None, audience: Audience
    ) -> BoltResponse:
        return self._apology.answer(body, refusal_text(audience, self._language(user_id)))

    def _language(self, user_id: str | None) -> Language:
        try:
            return self._deps.locales.for_user(user_id)
        except (SQLAlchemyError, OSError):
            return self._deps.settings.default_locale


def _kind(body: dict[str, Any]) -> str:
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action {actions[0].get('action_id', '?')}"
    if body.get("type") == "view_submission":
        return f"view {(body.get('view') or {}).get('callback_id', '?')}"
    return str(body.get("callback_id") or body.get("type") or "request")
