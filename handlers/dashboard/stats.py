"""`/kyoso stats`: the figures for any member; the secretariat also sees members by status,
moderation and applications."""

from __future__ import annotations

from slack_bolt import App

from bot.audience import Audience
from bot.services.statistics.figures import compute
from bot.views.dashboard.statistics import statistics_blocks, statistics_text
from handlers.access import may
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply


def register(app: App, deps: Deps) -> None:
    def show_stats(call: CommandCall) -> None:
        now, zone = deps.clock.now(), deps.settings.zone
        full = may(deps, call.user_id, Audience.SECRETARIAT)  # the secretariat sees all figures
        with deps.session_factory() as session:
            stats = compute(session, now=now, zone=zone)
        reply(
            call.respond,
            statistics_blocks(stats, call.language, full=full),
            statistics_text(stats, call.language),
        )

    deps.commands.add("stats", help_key="help.command.stats", run=show_stats)
