"""`/kyoso stats`: the figures for any member; the secretariat also sees members by status,
moderation and applications."""

from __future__ import annotations

from slack_bolt import App

from bot.services import members
from bot.services.statistics.figures import compute
from bot.views.dashboard.statistics import statistics_blocks, statistics_text
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply
from models import Role


def register(app: App, deps: Deps) -> None:
    def show_stats(call: CommandCall) -> None:
        now, zone = deps.clock.now(), deps.settings.zone
        with deps.session_factory() as session:
            full = members.has_role(session, call.user_id, Role.SECRETARIAT)
            stats = compute(session, now=now, zone=zone)
        reply(
            call.respond,
            statistics_blocks(stats, call.language, full=full),
            statistics_text(stats, call.language),
        )

    deps.commands.add("stats", help_key="help.command.stats", run=show_stats)
