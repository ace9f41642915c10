"""CSV exports, from the dashboard's buttons or `/kyoso export <what>`: the secretariat's.
Each export is built (and recorded in the audit log), then sent to the member's DM as a file."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import ids
from bot.audience import Audience
from bot.i18n import Language, t
from bot.services.dashboard.exports import ExportKind, build
from bot.slack_errors import error_code
from bot.text import nfkc
from bot.views.help import notice_blocks
from handlers.access import routes_for
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply

log = logging.getLogger(__name__)

_EXPORT_ACTIONS = re.compile("^(" + "|".join(map(re.escape, ids.DASHBOARD_EXPORTS.values())) + ")$")


def parse_export_kind(args: str) -> ExportKind | None:
    word = nfkc(args).lower().split(" ")[0] if args.strip() else ""
    try:
        return ExportKind(word)
    except ValueError:
        return None


def send_export(deps: Deps, user_id: str, kind: ExportKind, language: Language) -> str | None:
    """Build the CSV and send it to the member's DM; Slack's error code when it was not sent."""
    with deps.session_factory.begin() as session:
        export = build(
            session,
            kind,
            clock=deps.clock,
            zone=deps.settings.zone,
            language=language,
            actor=user_id,
        )
    try:
        deps.gateway.dashboard.send_export(user_id, export, language)
    except (SlackApiError, SlackClientError) as exc:
        log.warning("export %s for %s not delivered: %s", kind.value, user_id, exc)
        return error_code(exc)
    return None


def register(app: App, deps: Deps) -> None:
    routes = routes_for(app, deps)

    @routes.action(_EXPORT_ACTIONS, audience=Audience.SECRETARIAT)
    def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        kind = parse_export_kind(str(action.get("value", "")))
        if kind is None:
            return
        language = deps.locales.for_user(user_id)
        error = send_export(deps, user_id, kind, language)
        if error is not None:
            deps.gateway.dashboard.tell(
                user_id, t("dashboard.export.failed", language, error=error)
            )

    def export(call: CommandCall) -> None:
        kind = parse_export_kind(call.args)
        if kind is None:
            text = t("dashboard.export.usage", call.language)
            reply(call.respond, notice_blocks(text), text)
            return
        text = t("dashboard.export.preparing", call.language)
        reply(call.respond, notice_blocks(text), text)
        error = send_export(deps, call.user_id, kind, call.language)
        if error is not None:
            text = t("dashboard.export.failed", call.language, error=error)
            reply(call.respond, notice_blocks(text), text)

    deps.commands.add(
        "export", help_key="help.command.export", run=export, audience=Audience.SECRETARIAT
    )
