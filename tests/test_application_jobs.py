"""Scheduled jobs on applications, run with a fixed clock against the Slack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.eligibility.directory import OrganisationDirectory
from bot.services.applications import submission
from bot.services.applications.submission import ApplicationForm
from bot.settings import Settings
from models import ApplicationSource
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator

JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return make_settings(emulator.api_url, database_url)


@pytest.fixture
def client(emulator: SlackEmulator) -> Iterator[WebClient]:
    yield WebClient(token="xoxb-test", base_url=emulator.api_url)


def _submit(session_factory: SessionFactory, clock: FixedClock, email: str, name: str) -> str:
    with session_factory.begin() as session:
        return submission.submit(
            session,
            clock=clock,
            directory=OrganisationDirectory.from_master_data(),
            form=ApplicationForm(email, name, "011002", None, None, "ja", "1"),
            source=ApplicationSource.WEB,
        ).application.public_id


def _run(job_id: str, ctx: JobContext) -> dict[str, object]:
    return find_job(job_id).run(ctx)


def test_overdue_applications_are_reminded_once_per_business_day(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    client: WebClient,
    settings: Settings,
) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 16, 0, tzinfo=JST))  # a Friday
    posted = _submit(session_factory, clock, "a@city.sapporo.lg.jp", "山田 太郎")
    _submit(session_factory, clock, "b@city.sapporo.lg.jp", "佐藤 <花子>")
    ctx = JobContext.with_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    assert ctx.gateway is not None
    ctx.gateway.applications.review.post(posted)

    clock.set(datetime(2026, 11, 23, 9, 15, tzinfo=JST))  # 勤労感謝の日
    assert _run("applications-remind-pending", ctx) == {"skipped": "not a business day"}
    clock.set(datetime(2026, 11, 24, 9, 15, tzinfo=JST))  # business day 1
    assert _run("applications-remind-pending", ctx) == {"overdue": 0}
    clock.set(datetime(2026, 11, 25, 9, 15, tzinfo=JST))  # business day 2
    assert _run("applications-remind-pending", ctx) == {"overdue": 2}
    reminder = emulator.messages("C0REVIEW")[-1]
    rendered = json.dumps(reminder["blocks"], ensure_ascii=False)
    assert "2営業日を超えた申請が 2 件" in rendered
    assert "山田 太郎" in rendered and "佐藤 &lt;花子&gt;" in rendered  # escaped
    assert "https://" in rendered  # a link to the posted review message
    assert _run("applications-remind-pending", ctx) == {"overdue": 0}  # once a day
    assert len(emulator.messages("C0REVIEW")) == 2


def test_unposted_applications_are_posted_once(
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    client: WebClient,
    settings: Settings,
    clock: FixedClock,
) -> None:
    _submit(session_factory, clock, "c@city.sapporo.lg.jp", "鈴木 一郎")
    ctx = JobContext.with_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    emulator.server_error("chat.postMessage", status=503, times=10)  # Slack is down
    assert _run("applications-post-unposted", ctx) == {"posted": 0, "failed": 1}
    emulator.clear_faults()
    assert _run("applications-post-unposted", ctx) == {"posted": 1, "failed": 0}
    assert _run("applications-post-unposted", ctx) == {"posted": 0, "failed": 0}
    assert len(emulator.messages("C0REVIEW")) == 1


def test_jobs_without_slack_skip_plainly(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    ctx = JobContext(session_factory=session_factory, clock=clock)
    for job_id in ("applications-remind-pending", "applications-post-unposted"):
        assert "skipped" in _run(job_id, ctx)
