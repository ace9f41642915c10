"""Finding knowledge: `/kyoso search 言葉` (an ephemeral page of results, then maybe a generated
answer), the App Home's search modal, and the buttons under results in both: 「さらに表示」
and 「前の5件」 (the same message or modal, another page), 「役に立った」 (once per member;
the page is shown again with the count and a word of thanks) and 「スレッドを開く」 (a link,
only acknowledged). Any member's."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.domain.knowledge import SearchPage
from bot.i18n import Language, t
from bot.services.knowledge import feedback, lookup
from bot.services.knowledge.entries import NotFound
from bot.text import escape_mrkdwn
from bot.views.blocks import cut, to_dicts
from bot.views.knowledge.search import (
    PAGE_SIZE,
    QUERY_MAX,
    SearchValue,
    parse_search_value,
    result_blocks,
    result_text,
    search_modal,
    usage_text,
)
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.modal_values import typed_text
from handlers.replies import ephemeral, field_error

log = logging.getLogger(__name__)


def _team_domain(body: dict[str, Any]) -> object:
    team = body.get("team")
    return team.get("domain") if isinstance(team, dict) else None


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    knowledge = deps.gateway.knowledge
    links = knowledge.links
    answers = knowledge.answers

    def find(user_id: str, query: str, offset: int, *, fresh: bool) -> SearchPage:
        with deps.session_factory.begin() as session:  # a fresh search may keep a gap
            return lookup.look_up(
                session,
                engine=knowledge.engine,
                clock=deps.clock,
                user_id=user_id,
                query=query[:QUERY_MAX],
                offset=offset,
                limit=PAGE_SIZE,
                fresh=fresh,
            )

    def search_command(call: CommandCall) -> None:
        if not call.args:
            ephemeral(call.respond, usage_text(call.language))
            return
        page = find(call.user_id, call.args, 0, fresh=True)
        workspace_url = links.workspace_url()
        call.respond(
            text=result_text(page, call.language),
            blocks=to_dicts(result_blocks(page, call.language, workspace_url=workspace_url)),
            response_type="ephemeral",
            replace_original=False,
        )
        answers.offer(
            question=page.query,
            hits=page.hits,
            language=call.language,
            workspace_url=workspace_url,
            post=call.respond,
        )

    deps.commands.add("search", help_key="help.command.search", run=search_command)

    def show_again(
        body: dict[str, Any], respond: Respond, value: SearchValue, notice: str | None = None
    ) -> None:
        """The page the member is on, again (turned, or with a click's effect): in place, in
        the message (its response_url) or the modal (views.update)."""
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        page = find(user_id, value.q, value.o, fresh=False)
        workspace_url = links.workspace_url(_team_domain(body))
        view = body.get("view")
        if isinstance(view, dict) and view.get("id"):
            modal = search_modal(language, page=page, workspace_url=workspace_url, notice=notice)
            deps.client.views_update(view_id=view["id"], view=modal.to_dict())
            return
        respond(
            text=result_text(page, language),
            blocks=to_dicts(
                result_blocks(page, language, workspace_url=workspace_url, notice=notice)
            ),
            response_type="ephemeral",
            replace_original=True,
        )

    def stale(body: dict[str, Any], respond: Respond) -> None:
        language = deps.locales.for_user(body["user"]["id"])
        if body.get("response_url"):
            ephemeral(respond, t("knowledge.search.stale", language))
        else:
            log.info("search button with a value Kyoso did not send; ignored")

    @routes.action(ids.KNOWLEDGE_SEARCH_NEXT)
    @routes.action(ids.KNOWLEDGE_SEARCH_PREVIOUS)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        value = parse_search_value(action.get("value"))
        if value is None:
            stale(body, respond)
            return
        show_again(body, respond, value)

    @routes.action(ids.KNOWLEDGE_SEARCH_HELPFUL)
    def on_helpful(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        value = parse_search_value(action.get("value"))
        if value is None or value.e is None:
            stale(body, respond)
            return
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        try:
            with deps.session_factory.begin() as session:
                first = feedback.mark_helpful(
                    session, clock=deps.clock, entry_id=value.e, user_id=user_id
                )
                title = lookup.entry_title(session, value.e)
        except NotFound:
            notice = t("knowledge.search.helpful_gone", language)
        else:
            key = "helpful_thanks" if first else "helpful_again"
            shown = escape_mrkdwn(cut(" ".join(title.split()), 80))
            notice = t(f"knowledge.search.{key}", language, title=shown)
        show_again(body, respond, value, notice=notice)

    @routes.action(ids.KNOWLEDGE_SEARCH_OPEN_THREAD)
    def on_open_thread(ack: Ack) -> None:
        ack()  # a link button: Slack opens it; the click still wants its acknowledgement

    @routes.action(ids.KNOWLEDGE_SEARCH_HOME)
    def on_home_search(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        deps.client.views_open(trigger_id=body["trigger_id"], view=search_modal(language).to_dict())

    @routes.view(ids.KNOWLEDGE_SEARCH_MODAL)
    def on_modal_search(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        language: Language = deps.locales.for_user(user_id)
        query = typed_text(
            view["state"]["values"], ids.KNOWLEDGE_SEARCH_QUERY_BLOCK, ids.KNOWLEDGE_SEARCH_INPUT
        )
        if not query:
            message = t("knowledge.search.modal.empty", language)
            ack(**field_error(ids.KNOWLEDGE_SEARCH_QUERY_BLOCK, message))
            return
        page = find(user_id, query, 0, fresh=True)
        workspace_url = links.workspace_url(_team_domain(body))
        modal = search_modal(language, page=page, workspace_url=workspace_url)
        ack(response_action="update", view=modal.to_dict())
