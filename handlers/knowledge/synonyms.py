"""The secretariat's synonym list: `/kyoso synonyms` opens it in a modal (one group per line,
terms separated by commas); saving replaces the list (audited) and the next search uses it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.audience import Audience
from bot.i18n import t
from bot.services.knowledge import vocabulary
from bot.views.knowledge.search import SYNONYMS_MAX, synonyms_modal, synonyms_saved_modal
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.replies import ephemeral, field_error


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    def open_editor(call: CommandCall) -> None:
        with deps.session_factory() as session:
            text = vocabulary.as_text(session)
        if len(text) > SYNONYMS_MAX:  # not through this editor, whose field holds 3,000
            ephemeral(
                call.respond,
                t("knowledge.synonyms.cannot_edit", call.language, count=f"{len(text):,}"),
            )
            return
        deps.client.views_open(
            trigger_id=call.trigger_id, view=synonyms_modal(text, call.language).to_dict()
        )

    deps.commands.add(
        "synonyms",
        help_key="help.command.synonyms",
        run=open_editor,
        audience=Audience.SECRETARIAT,
    )

    @routes.view(ids.KNOWLEDGE_SYNONYMS_MODAL, audience=Audience.SECRETARIAT)
    def on_saved(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        text = typed_text(
            view["state"]["values"],
            ids.KNOWLEDGE_SYNONYMS_BLOCK,
            ids.KNOWLEDGE_SYNONYMS_INPUT,
            multiline=True,
        )

        def refuse(key: str, count: int, limit: int) -> None:
            problem = t(key, language, count=f"{count:,}", limit=f"{limit:,}")
            ack(**field_error(ids.KNOWLEDGE_SYNONYMS_BLOCK, problem))

        if len(text) > SYNONYMS_MAX:
            refuse("knowledge.synonyms.too_long", len(text), SYNONYMS_MAX)
            return
        try:
            with deps.session_factory.begin() as session:
                vocabulary.replace(session, clock=deps.clock, actor=user_id, text=text)
                groups = len(vocabulary.groups(session))
        except vocabulary.TooManyGroups as exc:
            refuse("knowledge.synonyms.too_many", exc.args[0], vocabulary.MAX_GROUPS)
            return
        ack(response_action="update", view=synonyms_saved_modal(groups, language).to_dict())
