"""Appointments' daily work (bot/slack/ambassadors/appointments.py): terms whose end date
has passed are ended and their role revoked, terms that began grant the role, and the
secretariat is reminded once of each term that ends within a month."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]
NO_SLACK = {"skipped": "no Slack client in this context"}


def appointments_daily(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return dict(ctx.gateway.ambassadors.appointments.run_daily())
