"""`/kyoso channels [word]`: the active channels by kind, a page at a time, for any member."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.i18n import Language, t
from bot.services.channels import listing
from bot.views.blocks import to_dicts
from bot.views.channels import listing as views
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    def page(user_id: str, word: str, offset: int, language: Language) -> dict[str, Any]:
        with deps.session_factory() as session:
            shown = listing.listing_page(session, viewer=user_id, word=word, offset=offset)
        blocks = to_dicts(views.listing_blocks(shown, language))
        return {"text": t("channels.list.title", language), "blocks": blocks}

    def list_channels(call: CommandCall) -> None:
        shown = page(call.user_id, call.args, 0, call.language)
        call.respond(**shown, response_type="ephemeral", replace_original=False)

    deps.commands.add("channels", help_key="help.command.channels", run=list_channels)

    @routes.action(ids.CHANNELS_PAGE_PREVIOUS)
    @routes.action(ids.CHANNELS_PAGE_NEXT)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        word, offset = views.parse_page_value(action.get("value"))
        shown = page(user_id, word, offset, deps.locales.for_user(user_id))
        respond(**shown, response_type="ephemeral", replace_original=True)
