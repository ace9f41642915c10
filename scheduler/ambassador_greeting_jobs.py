"""Greeting cards' scheduled work (bot/slack/ambassadors/greetings.py): the cards of
newcomers who left are closed, cards Slack missed are posted, introductions left owing are
sent; on 開庁日 in office hours, unclaimed cards are reminded once after two 開庁日 and the
secretariat is told once two 開庁日 after that."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]
NO_SLACK = {"skipped": "no Slack client in this context"}


def greetings(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return ctx.gateway.ambassadors.greetings.run()
