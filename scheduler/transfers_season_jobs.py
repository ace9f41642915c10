"""The 異動 season's scheduled run: stage the survey and the reminders, send what is due.

Without Slack (a context with no gateway) the job only stages: database work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.services.transfers.season import stage
from bot.services.transfers.season_calendar import SeasonCalendar

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]


def run_season(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        settings = ctx.settings
        calendar = SeasonCalendar.from_settings(settings) if settings else SeasonCalendar()
        zone = settings.zone if settings else ZoneInfo("Asia/Tokyo")
        with ctx.session_factory.begin() as session:
            return dict(stage(session, now=ctx.clock.now(), zone=zone, calendar=calendar))
    return ctx.gateway.transfers.season.start().run().as_dict()
