"""The weekly report: Monday 09:00 JST, to the review channel.

The headline figures with the change since last week's snapshot, then the two charts
(members over time; coverage by prefecture) uploaded with files_upload_v2.

Once per ISO week: the week's snapshot is written before anything is posted (so a rerun
reports the same figures) and a `report.weekly_posted` audit entry after the post. The job is
scheduled hourly on Monday 09:00–17:00: the first run posts, later runs see the entry and
skip, and a run that failed (Slack down) is retried an hour later. A crash between Slack's
answer and the entry would post the report twice; nothing is ever lost.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import charts
from bot.clock import Clock
from bot.db import SessionFactory
from bot.domain.statistics import WeeklyReport
from bot.i18n import Language, t
from bot.services.dashboard import report
from bot.services.statistics.periods import week_key
from bot.settings import Settings
from bot.slack.dashboard import ChartUpload, DashboardSlack
from bot.views.dashboard.report import weekly_report_blocks, weekly_report_text

log = logging.getLogger(__name__)

JobResult = dict[str, Any]


def weekly_report(
    *, session_factory: SessionFactory, clock: Clock, settings: Settings, slack: DashboardSlack
) -> JobResult:
    channel = settings.review_channel
    if channel is None:
        return {"skipped": "KYOSO_REVIEW_CHANNEL is not set"}
    now, zone, language = clock.now(), settings.zone, settings.default_locale
    key = week_key(now, zone)
    with session_factory() as session:
        if report.already_posted(session, key):
            return {"skipped": f"already posted for {key}", "week": key}

    with session_factory.begin() as session:
        weekly = report.prepare(session, clock=clock, zone=zone)

    ts = slack.post_report(
        channel=channel,
        blocks=weekly_report_blocks(
            weekly.current,
            weekly.previous,
            language,
            now=now,
            previous_at=weekly.previous_at,
            zone=zone,
            transfers=weekly.transfers,
            ambassadors=weekly.ambassadors,
        ),
        text=weekly_report_text(weekly.current, weekly.previous, language),
        charts=_charts(weekly, language, day=now.astimezone(zone).strftime("%Y%m%d")),
        comment=t("dashboard.report.charts_comment", language),
    )
    with session_factory.begin() as session:
        report.record_posted(session, clock=clock, week=weekly.week, channel=channel, ts=ts)
    log.info("weekly report %s posted: %s", weekly.week, weekly.current.to_dict())
    return {
        "week": weekly.week,
        "posted": True,
        "members": weekly.current.members,
        "active_30d": weekly.current.active_30d,
        "compared_with": weekly.previous_at.isoformat() if weekly.previous_at else None,
        "charts": 2,
    }


def _charts(weekly: WeeklyReport, language: Language, *, day: str) -> list[ChartUpload]:
    stats = weekly.statistics
    return [
        ChartUpload(
            content=charts.members_chart(weekly.history, language),
            filename=f"kyoso-members-{day}.png",
            title=t("dashboard.chart.members.title", language),
        ),
        ChartUpload(
            content=charts.coverage_map(
                stats.coverage_by_prefecture,
                language,
                covered=stats.local_governments_covered,
                total=stats.local_governments,
            ),
            filename=f"kyoso-coverage-{day}.png",
            title=t("dashboard.chart.coverage.title", language),
        ),
    ]
