"""`/kyoso gaps`: what members searched for in the last 30 days and did not find, for the
secretariat (every prefecture) and the ambassadors (their own prefecture). Never who searched."""

from __future__ import annotations

from slack_bolt import App

from bot.audience import Audience
from bot.services.knowledge import lookup
from bot.views.knowledge.search import gap_line, gaps_blocks, gaps_title
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply


def register(app: App, deps: Deps) -> None:
    def list_gaps(call: CommandCall) -> None:
        with deps.session_factory() as session:
            listed = lookup.gaps_for(session, clock=deps.clock, viewer_id=call.user_id)
        lines = [
            gap_line(g.query, g.prefecture, g.times, g.last_seen_at, call.language)
            for g in listed.gaps
        ]
        blocks = gaps_blocks(lines, call.language, prefecture=listed.prefecture)
        reply(call.respond, blocks, gaps_title(call.language, prefecture=listed.prefecture))

    deps.commands.add(
        "gaps",
        help_key="help.command.gaps",
        run=list_gaps,
        audience=Audience.AMBASSADOR,
    )
