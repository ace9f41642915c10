"""The `/kyoso` slash command, and the subcommands every member has: help and lang."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.i18n import LANGUAGES, as_language, t
from bot.services import members
from bot.text import escape_mrkdwn
from bot.views.help import help_blocks, notice_blocks
from handlers.access import may, refusal_text, routes_for
from handlers.command_router import CommandCall, CommandRouter, Subcommand, split_subcommand
from handlers.deps import Deps
from handlers.replies import reply


def register(app: App, deps: Deps) -> None:
    router = deps.commands

    def show_help(call: CommandCall) -> None:
        reply(
            call.respond,
            help_blocks(call.language, router.help_keys()),
            t("help.title", call.language),
        )

    def set_language(call: CommandCall) -> None:
        choice = call.args.lower()
        if choice not in LANGUAGES:
            text = t("lang.invalid", call.language)
            reply(call.respond, notice_blocks(text), text)
            return
        language = as_language(choice, call.language)
        with deps.session_factory.begin() as session:
            members.set_language(
                session, clock=deps.clock, slack_user_id=call.user_id, language=language
            )
        deps.locales.forget(call.user_id)
        text = t("lang.set", language, language=t(f"lang.name.{language}", language))
        reply(call.respond, notice_blocks(text), text)

    router.add("help", help_key="help.command.help", run=show_help)
    router.add("lang", help_key="help.command.lang", run=set_language)

    @routes_for(app, deps).command(ids.SLASH_COMMAND)
    def on_kyoso(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        # Ack at once; the answer goes through response_url (valid for 30 minutes).
        ack()
        name, args = split_subcommand(command.get("text", ""))
        call = CommandCall(
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            args=args,
            language=deps.locales.for_user(command["user_id"]),
            trigger_id=command.get("trigger_id", ""),
            respond=respond,
        )
        subcommand = router.find(name or "help")
        if subcommand is None:
            answer_unknown(router, name, call)
        else:
            run_guarded(deps, subcommand, call)


def answer_unknown(router: CommandRouter, name: str, call: CommandCall) -> None:
    """A typo gets the closest subcommand and the help, never silence."""
    text = t("command.unknown", call.language, subcommand=escape_mrkdwn(name[:40]))
    suggestion = router.closest(name)
    if suggestion:
        text += "\n" + t("command.unknown_suggestion", call.language, suggestion=suggestion)
    reply(
        call.respond,
        [*notice_blocks(text), *help_blocks(call.language, router.help_keys())],
        text,
    )


def run_guarded(deps: Deps, subcommand: Subcommand, call: CommandCall) -> None:
    """The same guard as buttons and modals: refused before the subcommand runs."""
    if not may(deps, call.user_id, subcommand.audience):
        key = subcommand.refusal_key
        text = t(key, call.language) if key else refusal_text(subcommand.audience, call.language)
        reply(call.respond, notice_blocks(text), text)
        return
    subcommand.run(call)
