"""Removing kept knowledge: `/kyoso forget` lists a member's own entries (recorded, asked or
answered), each with a 「削除」 button; the same `knowledge_remove` button serves the
secretariat's 「削除（事務局）」 wherever an entry is shown. Its guard is the entry's: its
owners and the secretariat may remove it, anyone else is told so and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.domain.knowledge import EntrySummary
from bot.i18n import Language, t
from bot.services import members
from bot.services.knowledge import entries
from bot.text import parse_int
from bot.views.blocks import to_dicts
from bot.views.knowledge.capture import FORGET_LIMIT, forget_blocks, forget_text, removed_text
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral
from models import Role

OWN_REQUEST = "own_request"
BY_SECRETARIAT = "secretariat"


def own_list(deps: Deps, user_id: str) -> list[EntrySummary]:
    with deps.session_factory() as session:
        return entries.own_entries(session, user_id, limit=FORGET_LIMIT)


def show_list(
    deps: Deps, respond: Callable[..., Any], user_id: str, language: Language, **extra: Any
) -> None:
    listed = own_list(deps, user_id)
    note = extra.pop("note", None)
    respond(
        blocks=to_dicts(forget_blocks(language, listed, note=note)),
        text=note or forget_text(language, listed),
        **extra,
    )


def remove(deps: Deps, *, entry_id: int, actor: str) -> EntrySummary:
    """As an owner first; the secretariat may remove any entry. Raises entries.NotFound or
    entries.NotYours (nothing changed)."""
    with deps.session_factory.begin() as session:
        remove_entry = partial(
            entries.remove, session, clock=deps.clock, entry_id=entry_id, actor=actor
        )
        try:
            return remove_entry(by_secretariat=False, reason=OWN_REQUEST)
        except entries.NotYours:
            if not members.has_role(session, actor, Role.SECRETARIAT):
                raise
            return remove_entry(by_secretariat=True, reason=BY_SECRETARIAT)


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    capture = deps.gateway.knowledge.capture

    def forget_command(call: CommandCall) -> None:
        show_list(
            deps,
            call.respond,
            call.user_id,
            call.language,
            response_type="ephemeral",
            replace_original=False,
        )

    deps.commands.add("forget", help_key="help.command.forget", run=forget_command)

    @routes.action(ids.KNOWLEDGE_REMOVE)
    def on_remove(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        action = (body.get("actions") or [{}])[0]
        entry_id = parse_int(str(action.get("value") or ""), low=1)
        if entry_id is None:
            note = t("knowledge.capture.remove.invalid", language)
        else:
            try:
                removed = remove(deps, entry_id=entry_id, actor=user_id)
            except entries.NotFound:
                note = t("knowledge.capture.remove.gone", language)
            except entries.NotYours:
                note = t("knowledge.capture.remove.not_yours", language)
            else:
                note = removed_text(language, removed.title)
        from_list = str(action.get("block_id") or "").startswith(ids.KNOWLEDGE_FORGET_BLOCK)
        if from_list and body.get("response_url"):
            # The clicker's own list again, the answer on top.
            show_list(deps, respond, user_id, language, note=note, replace_original=True)
        elif body.get("response_url"):
            ephemeral(respond, note)
        else:  # a modal or the App Home: no response_url
            capture.tell(user_id, note)
