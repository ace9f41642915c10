"""`/kyoso cases [page | @member]`: the open cases a page at a time, or a member's history,
each linked to its alert. For the secretariat; anyone else gets a pointer to reporting."""

from __future__ import annotations

from slack_bolt import App

from bot.audience import Audience
from bot.i18n import t
from bot.services.moderation import listing
from bot.views.help import notice_blocks
from bot.views.moderation.lists import cases_blocks, cases_title
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply


def register(app: App, deps: Deps) -> None:
    def show_cases(call: CommandCall) -> None:
        try:
            with deps.session_factory() as session:
                page, refs = listing.cases_page(session, argument=call.args)
        except listing.NotUnderstood:
            return _notice(call, t("moderation.cases.usage", call.language))
        except listing.NoSuchPage as exc:
            pages = str(exc.pages)
            text = t("moderation.cases.no_such_page", call.language, page=exc.asked, pages=pages)
            return _notice(call, text)
        page = deps.gateway.moderation.alerts.linked(page, refs)
        reply(call.respond, cases_blocks(page, call.language), cases_title(page, call.language))

    deps.commands.add(
        "cases",
        help_key="help.command.cases",
        run=show_cases,
        audience=Audience.SECRETARIAT,
        refusal_key="moderation.cases.not_secretariat",
    )


def _notice(call: CommandCall, text: str) -> None:
    reply(call.respond, notice_blocks(text), text)
