"""`/kyoso member 名前 | メール | @メンバー | 組織名` for the secretariat: a page of matches or one
member's card, and the card's buttons (roles, inactivity exemption, restore), each answered
by the card redrawn in place with what the click did on top."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.secretariat_members import PAGE_SIZE
from bot.i18n import Language
from bot.services.lifecycle import answers
from bot.services.lifecycle.decisions import restore_pressed
from bot.services.members import UnknownMember
from bot.services.secretariat import member_lookup, roles
from bot.text import parse_int
from bot.views.blocks import to_dicts
from bot.views.secretariat import members as views
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral, reply

_ROLE_OF_ACTION = {action_id: role for role, action_id in ids.SECRETARIAT_MEMBER_ROLE.items()}


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)
    secretariat = Audience.SECRETARIAT

    def show_page(
        respond: Respond, query: str, offset: int, language: Language, **how: Any
    ) -> None:
        with deps.session_factory() as session:
            page = member_lookup.find_members(session, query=query, offset=offset, limit=PAGE_SIZE)
        respond(
            text=views.page_text(page, language),
            blocks=to_dicts(views.page_blocks(page, language)),
            response_type="ephemeral",
            **how,
        )

    def show_card(
        respond: Callable[..., Any],
        user_id: str,
        language: Language,
        notes: Sequence[str] = (),
        **how: Any,
    ) -> None:
        with deps.session_factory() as session:
            card = member_lookup.member_card(session, slack_user_id=user_id)
        if card is None:
            ephemeral(respond, views.note_text("unknown", language))
            return
        respond(
            text=views.card_text(card, language),
            blocks=to_dicts(views.card_blocks(card, language, notes)),
            response_type="ephemeral",
            **how,
        )

    def look_up(call: CommandCall) -> None:
        if not call.args:
            ephemeral(call.respond, views.usage_text(call.language))
            return
        with deps.session_factory() as session:
            page = member_lookup.find_members(session, query=call.args, offset=0, limit=PAGE_SIZE)
        if page.total == 1:
            show_card(
                call.respond, page.lines[0].slack_user_id, call.language, replace_original=False
            )
            return
        reply(
            call.respond,
            views.page_blocks(page, call.language),
            views.page_text(page, call.language),
        )

    deps.commands.add("member", help_key="help.command.member", run=look_up, audience=secretariat)

    @routes.action(ids.SECRETARIAT_MEMBER_PAGE_PREVIOUS, audience=secretariat)
    @routes.action(ids.SECRETARIAT_MEMBER_PAGE_NEXT, audience=secretariat)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        offset, _, query = str(action.get("value") or "").partition("|")
        language = deps.locales.for_user(body["user"]["id"])
        show_page(respond, query, parse_int(offset) or 0, language, replace_original=True)

    @routes.action(ids.SECRETARIAT_MEMBER_CARD, audience=secretariat)
    def on_card(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        language = deps.locales.for_user(body["user"]["id"])
        show_card(respond, str(action.get("value") or ""), language, replace_original=False)

    def on_role(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        change_text, _, user_id = str(action.get("value") or "").partition("|")
        change = roles.parse_change(change_text)
        role = roles.parse_role(_ROLE_OF_ACTION.get(str(action.get("action_id"))))
        if change is None or role is None or not user_id:
            ephemeral(respond, views.note_text("unknown", language))
            return
        name = views.role_name(role.value, language)
        try:
            with deps.session_factory.begin() as session:
                changed = roles.change_role(
                    session,
                    clock=deps.clock,
                    actor=actor,
                    slack_user_id=user_id,
                    role=role,
                    change=change,
                )
            note = views.role_note(change.value, changed, role.value, language)
        except roles.LastSecretariat:
            note = views.note_text("last_secretariat", language, role=name)
        show_card(respond, user_id, language, [note], replace_original=True)

    for action_id in ids.SECRETARIAT_MEMBER_ROLE.values():
        routes.action(action_id, audience=secretariat)(on_role)

    @routes.action(ids.SECRETARIAT_MEMBER_EXEMPT, audience=secretariat)
    def on_exempt(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        wanted, _, user_id = str(action.get("value") or "").partition("|")
        if wanted not in ("exempt", "unexempt") or not user_id:
            ephemeral(respond, views.note_text("unknown", language))
            return
        try:
            with deps.session_factory.begin() as session:
                changed = answers.set_exempt(
                    session,
                    clock=deps.clock,
                    slack_user_id=user_id,
                    exempt=wanted == "exempt",
                    actor=actor,
                )
        except UnknownMember:
            ephemeral(respond, views.note_text("unknown", language))
            return
        note = views.note_text(f"{wanted}ed" if changed else f"{wanted}_already", language)
        show_card(respond, user_id, language, [note], replace_original=True)

    @routes.action(ids.SECRETARIAT_MEMBER_RESTORE, audience=secretariat)
    def on_restore(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        language = deps.locales.for_user(actor)
        cycle, _, user_id = str(action.get("value") or "").partition("|")
        with deps.session_factory.begin() as session:
            outcome = restore_pressed(session, clock=deps.clock, value=cycle, actor=actor)
        if outcome.restored is not None:
            key = "restored"
        elif outcome.decided_before is not None:
            key = "restore_already"
        else:
            key = "unknown"
        show_card(
            respond, user_id, language, [views.note_text(key, language)], replace_original=True
        )
