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

from slack_sdk import WebClient
from sqlalchemy import select

from bot import charts
from bot.clock import Clock
from bot.db import SessionFactory
from bot.i18n import t
from bot.services import audit, statistics
from bot.settings import Settings
from bot.views.dashboard import to_dicts, weekly_report_blocks, weekly_report_text
from models import AuditEntry

log = logging.getLogger(__name__)

POSTED_ACTION = "report.weekly_posted"

JobResult = dict[str, Any]


def already_posted(session_factory: SessionFactory, key: str) -> bool:
    with session_factory() as session:
        return (
            session.scalar(
                select(AuditEntry.id)
                .where(
                    AuditEntry.action == POSTED_ACTION,
                    AuditEntry.target_type == statistics.SNAPSHOT_TARGET,
                    AuditEntry.target_id == key,
                )
                .limit(1)
            )
            is not None
        )


def weekly_report(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> JobResult:
    channel = settings.review_channel
    if channel is None:
        return {"skipped": "KYOSO_REVIEW_CHANNEL is not set"}
    now, zone, language = clock.now(), settings.zone, settings.default_locale
    key = statistics.week_key(now, zone)
    if already_posted(session_factory, key):
        return {"skipped": f"already posted for {key}", "week": key}

    with session_factory.begin() as session:
        stats = statistics.compute(session, now=now, zone=zone)
        statistics.record_snapshot(session, clock=clock, zone=zone, headline=stats.headline)
        # The week's first snapshot: a retry later in the day reports the same figures.
        current = statistics.snapshot_for(session, key) or stats.headline
        previous = statistics.previous_snapshot(session, before_week=key)
        points = statistics.history(session, now=now, zone=zone, current=current)

    previous_at, previous_headline = previous if previous is not None else (None, None)
    blocks = weekly_report_blocks(
        current, previous_headline, language, now=now, previous_at=previous_at, zone=zone
    )
    posted = client.chat_postMessage(
        channel=channel,
        blocks=to_dicts(blocks),
        text=weekly_report_text(current, previous_headline, language),
    )
    day = now.astimezone(zone).strftime("%Y%m%d")
    client.files_upload_v2(
        channel=channel,
        file_uploads=[
            {
                "file": charts.members_chart(points, language),
                "filename": f"kyoso-members-{day}.png",
                "title": t("dashboard.chart.members.title", language),
            },
            {
                "file": charts.coverage_map(
                    stats.coverage_by_prefecture,
                    language,
                    covered=stats.local_governments_covered,
                    total=stats.local_governments,
                ),
                "filename": f"kyoso-coverage-{day}.png",
                "title": t("dashboard.chart.coverage.title", language),
            },
        ],
        initial_comment=t("dashboard.report.charts_comment", language),
    )
    with session_factory.begin() as session:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action=POSTED_ACTION,
            target_type=statistics.SNAPSHOT_TARGET,
            target_id=key,
            details={"channel": channel, "ts": posted.get("ts")},
        )
    log.info("weekly report %s posted: %s", key, current.to_dict())
    return {
        "week": key,
        "posted": True,
        "members": current.members,
        "active_30d": current.active_30d,
        "compared_with": previous_at.isoformat() if previous_at else None,
        "charts": 2,
    }
