"""App Home (a member's page, the secretariat's dashboard), `/kyoso stats` and exports.

The Home tab is rebuilt from the database each time it opens. Whether someone sees the
dashboard, a queue's list or an export is decided from their stored role when each payload
arrives: a member who presses a dashboard button (an old Home, a forged payload) gets their
own member page back and nothing else.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import ids
from bot.i18n import Language, t
from bot.services import dashboard, exports, members, statistics
from bot.services.dashboard import QueueKind
from bot.services.exports import Export, ExportKind
from bot.text import nfkc, parse_int
from bot.views.dashboard import (
    member_home_view,
    queue_list_view,
    secretariat_home_view,
    statistics_blocks,
    statistics_text,
)
from bot.views.help import notice_blocks
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply
from models import Role

log = logging.getLogger(__name__)

_PAGE_ACTIONS = re.compile("^(" + "|".join(map(re.escape, ids.DASHBOARD_PAGES)) + ")$")
_EXPORT_ACTIONS = re.compile("^(" + "|".join(map(re.escape, ids.DASHBOARD_EXPORTS.values())) + ")$")


def publish_home(deps: Deps, user_id: str) -> None:
    """The member's page; for the secretariat, the dashboard above it."""
    language = deps.locales.for_user(user_id)
    now, zone = deps.clock.now(), deps.settings.zone
    with deps.session_factory() as session:
        home = dashboard.member_home(session, user_id, language)
        if home.is_secretariat:
            queues = dashboard.queues(session, now=now, zone=zone)
            stats = statistics.compute(session, now=now, zone=zone)
            view = secretariat_home_view(home, queues, stats, language, now)
        else:
            view = member_home_view(home, language)
    deps.client.views_publish(user_id=user_id, view=view.to_dict())


def publish_list(deps: Deps, user_id: str, kind_value: str, page: int) -> None:
    try:
        kind = QueueKind(kind_value)
    except ValueError:
        publish_home(deps, user_id)
        return
    language = deps.locales.for_user(user_id)
    now, zone = deps.clock.now(), deps.settings.zone
    with deps.session_factory() as session:
        queue = (
            dashboard.queue_page(session, kind, page=page, now=now, zone=zone, language=language)
            if members.has_role(session, user_id, Role.SECRETARIAT)
            else None
        )
    if queue is None:
        log.warning("dashboard list %s refused to %s: not secretariat", kind.value, user_id)
        publish_home(deps, user_id)
        return
    deps.client.views_publish(user_id=user_id, view=queue_list_view(queue, language, now).to_dict())


def send_export(deps: Deps, user_id: str, kind: ExportKind, language: Language) -> Export:
    """Build the CSV (recorded in the audit log) and send it to the member's DM as a file."""
    with deps.session_factory.begin() as session:
        export = exports.build(
            session,
            kind,
            clock=deps.clock,
            zone=deps.settings.zone,
            language=language,
            actor=user_id,
        )
    channel = deps.client.conversations_open(users=user_id)["channel"]["id"]
    title = t(f"dashboard.export.name.{kind.value}", language)
    deps.client.files_upload_v2(
        channel=channel,
        file=export.content,
        filename=export.filename,
        title=export.filename,
        initial_comment=t("dashboard.export.sent", language, title=title, rows=f"{export.rows:,}"),
    )
    return export


def parse_export_kind(args: str) -> ExportKind | None:
    word = nfkc(args).lower().split(" ")[0] if args.strip() else ""
    try:
        return ExportKind(word)
    except ValueError:
        return None


def register(app: App, deps: Deps) -> None:
    router = deps.commands

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        user_id = event["user"]
        deps.activity.seen(user_id, deps.clock.now())  # opening either tab is activity
        if event.get("tab") != "home":
            return
        publish_home(deps, user_id)

    @app.action(ids.DASHBOARD_HOME)
    def on_home(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        publish_home(deps, body["user"]["id"])

    @app.action(ids.DASHBOARD_OPEN_LIST)
    def on_open_list(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        publish_list(deps, body["user"]["id"], str(action.get("value", "")), 1)

    @app.action(_PAGE_ACTIONS)
    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        kind, _, page = str(action.get("value", "")).partition(":")
        publish_list(deps, body["user"]["id"], kind, parse_int(page, low=1) or 1)

    @app.action(_EXPORT_ACTIONS)
    def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        if not deps.is_secretariat(user_id):
            log.warning("export refused to %s: not secretariat", user_id)
            publish_home(deps, user_id)
            return
        kind = parse_export_kind(str(action.get("value", "")))
        if kind is None:
            return
        language = deps.locales.for_user(user_id)
        try:
            send_export(deps, user_id, kind, language)
        except (SlackApiError, SlackClientError) as exc:
            log.warning("export %s for %s not delivered: %s", kind.value, user_id, exc)
            text = t("dashboard.export.failed", language, error=_slack_error(exc))
            deps.client.chat_postMessage(channel=user_id, text=text)

    def show_stats(call: CommandCall) -> None:
        now, zone = deps.clock.now(), deps.settings.zone
        with deps.session_factory() as session:
            full = members.has_role(session, call.user_id, Role.SECRETARIAT)
            stats = statistics.compute(session, now=now, zone=zone)
        reply(
            call.respond,
            statistics_blocks(stats, call.language, full=full),
            statistics_text(stats, call.language),
        )

    def export(call: CommandCall) -> None:
        if not deps.is_secretariat(call.user_id):
            text = t("dashboard.not_secretariat", call.language)
            reply(call.respond, notice_blocks(text), text)
            return
        kind = parse_export_kind(call.args)
        if kind is None:
            text = t("dashboard.export.usage", call.language)
            reply(call.respond, notice_blocks(text), text)
            return
        text = t("dashboard.export.preparing", call.language)
        reply(call.respond, notice_blocks(text), text)
        try:
            send_export(deps, call.user_id, kind, call.language)
        except (SlackApiError, SlackClientError) as exc:
            log.warning("export %s for %s not delivered: %s", kind.value, call.user_id, exc)
            text = t("dashboard.export.failed", call.language, error=_slack_error(exc))
            reply(call.respond, notice_blocks(text), text)

    router.add("stats", help_key="help.command.stats", run=show_stats)
    router.add("export", help_key="help.command.export", run=export)


def _slack_error(exc: SlackApiError | SlackClientError) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown"))
    return type(exc).__name__
