"""The usage rules: "I agree" in the welcome DM, a re-ask or `/kyoso rules`, and the command
(`/kyoso rules publish` opens the secretariat's form to publish a new version)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.audience import Audience
from bot.domain.onboarding import AcceptedState, Rules
from bot.i18n import Language, t
from bot.services import rules
from bot.services.ambassadors import greetings
from bot.views.blocks import to_dicts
from bot.views.help import notice_blocks
from bot.views.onboarding.rules import (
    already_accepted_text,
    outdated_text,
    rules_blocks,
    rules_title,
)
from bot.views.secretariat import rules as publishing_views
from handlers.access import may, routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import ephemeral, reply


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(ids.ONBOARDING_ACCEPT_RULES, audience=Audience.ANYONE)
    def on_accept_rules(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        language = deps.locales.for_user(user_id)
        with deps.session_factory.begin() as session:
            result = rules.accept(
                session, clock=deps.clock, slack_user_id=user_id, version=action.get("value", "")
            )
            # Recorded with the acceptance, posted after it: a crash or Slack failing loses no
            # card (the greetings job posts it) and never fails the acceptance.
            greeting_id = (
                greetings.open_greeting(
                    session, clock=deps.clock, zone=deps.settings.zone, slack_user_id=user_id
                )
                if result.outcome is rules.AcceptOutcome.ACCEPTED
                else None
            )
        answer_acceptance(deps, body, respond, result, language)
        if greeting_id is not None:
            deps.gateway.ambassadors.greetings.post(greeting_id)

    def show_rules(call: CommandCall) -> None:
        if call.args.split(" ")[0].lower() == "publish":
            open_publishing(deps, call)
            return
        with deps.session_factory() as session:
            current, accepted = rules.for_member(session, call.user_id)
        blocks = rules_blocks(current, call.language, accepted=accepted)
        reply(call.respond, blocks, rules_title(current, call.language))

    deps.commands.add(
        "rules", help_key="help.command.rules", run=show_rules, audience=Audience.ANYONE
    )


def open_publishing(deps: Deps, call: CommandCall) -> None:
    """`/kyoso rules publish`: the secretariat's form (handlers/secretariat/rules.py takes it
    from there); `/kyoso rules` itself is for anyone, so the role is checked here."""
    if not may(deps, call.user_id, Audience.SECRETARIAT):
        ephemeral(call.respond, t("secretariat.rules.refused", call.language))
        return
    deps.client.views_open(
        trigger_id=call.trigger_id, view=publishing_views.form_modal(call.language).to_dict()
    )


def answer_acceptance(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    result: rules.Acceptance,
    language: Language,
) -> None:
    if result.outcome is rules.AcceptOutcome.OUTDATED:
        text = outdated_text(result.rules, language)
        blocks = rules_blocks(result.rules, language, accepted=result.accepted)
        reply(respond, [*notice_blocks(text), *blocks], text)
        return
    assert result.accepted is not None
    if result.outcome is rules.AcceptOutcome.ALREADY:
        ephemeral(respond, already_accepted_text(result.accepted, language))
        return
    show_acceptance(deps, body, respond, result.rules, result.accepted, language)


def show_acceptance(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    current: Rules,
    accepted: AcceptedState,
    language: Language,
) -> None:
    """Where the button was pressed, the button becomes the record of acceptance."""
    clicked = _clicked_message(body)
    if clicked is not None:  # the welcome DM or a re-ask
        channel_id, ts, message = clicked
        deps.gateway.onboarding.replies.record_acceptance(
            channel_id=channel_id,
            ts=ts,
            blocks=message.get("blocks") or [],
            text=message.get("text") or t("onboarding.rules.accept_button", language),
            accepted=accepted,
            language=language,
        )
        return
    # An ephemeral answer to `/kyoso rules`: only its response_url can change it.
    blocks = to_dicts(rules_blocks(current, language, accepted=accepted))
    title = rules_title(current, language)
    respond(text=title, blocks=blocks, response_type="ephemeral", replace_original=True)


def _clicked_message(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """The channel, ts and content of the (not ephemeral) message the button was in."""
    container = body.get("container") or {}
    message = body.get("message")
    if message and not container.get("is_ephemeral") and container.get("channel_id"):
        return str(container["channel_id"]), str(container["message_ts"]), message
    return None
