"""Leavers' scheduled work: every departure whose last day has ended (17:30 in
KYOSO_TIMEZONE, business day or not) is handed over, said goodbye to and deactivated
(bot/slack/transfers/leavers.py). Runs every 30 minutes, so a last day ends within half an
hour of 17:30; a run that Slack interrupts is finished by the next one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]
NO_SLACK = {"skipped": "no Slack client in this context"}


def departures(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return dict(ctx.gateway.transfers.leavers.run_due())
