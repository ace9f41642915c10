"""The secretariat's flagged list: `/kyoso inactive`, and the refresh button under every
copy of it (the weekly summary, an earlier answer, the App Home). Also how the list's other
buttons (approval, restore) answer: in place, or by DM from the App Home."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.services.lifecycle.overview import first_batch
from bot.views.blocks import to_dicts
from bot.views.lifecycle import flagged_list_text, listing_blocks
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps

Reply = Callable[..., Any]


def reply_to(deps: Deps, body: dict[str, Any], respond: Respond) -> Reply:
    """Messages carry a response_url; a button on the App Home (a view) does not, so the
    answer then goes to the clicker by DM."""
    if body.get("response_url"):
        return respond
    user_id = body["user"]["id"]
    return lambda **message: deps.gateway.lifecycle.messages.dm(user_id, **message)


def show_list(deps: Deps, reply: Reply, notes: Sequence[str] = (), **extra: Any) -> None:
    """The current first batch, with `notes` (what the last click did) on top."""
    with deps.session_factory() as session:
        listing = first_batch(session)
    language = deps.settings.default_locale
    terms = deps.gateway.lifecycle.policy.list_terms
    reply(
        blocks=to_dicts(listing_blocks(listing, language, terms=terms, notes=notes)),
        text=flagged_list_text(listing.overview, language),
        **({"replace_original": True} | extra),
    )


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    def list_command(call: CommandCall) -> None:
        show_list(deps, call.respond, response_type="ephemeral", replace_original=False)

    deps.commands.add(
        "inactive",
        help_key="help.command.inactive",
        run=list_command,
        audience=Audience.SECRETARIAT,
    )

    @routes.action(ids.LIFECYCLE_SHOW_FLAGGED, audience=Audience.SECRETARIAT)
    def on_refresh(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        show_list(deps, reply_to(deps, body, respond))
