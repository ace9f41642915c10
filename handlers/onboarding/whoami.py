"""`/kyoso whoami`: what Kyoso holds about the member who asks."""

from __future__ import annotations

from slack_bolt import App

from bot.audience import Audience
from bot.i18n import t
from bot.services.onboarding.records import member_record
from bot.views.onboarding.whoami import whoami_blocks, whoami_title
from handlers.command_router import CommandCall
from handlers.deps import Deps
from handlers.replies import reply


def register(app: App, deps: Deps) -> None:
    def whoami(call: CommandCall) -> None:
        with deps.session_factory() as session:
            record = member_record(session, call.user_id, call.language)
        language_name = t(f"lang.name.{call.language}", call.language)
        blocks = whoami_blocks(record, call.language, slack_language_name=language_name)
        reply(call.respond, blocks, whoami_title(call.language))

    deps.commands.add(
        "whoami", help_key="help.command.whoami", run=whoami, audience=Audience.ANYONE
    )
