"""The job registry. Jobs are plain functions of a context that return what they did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services.events import prune_processed_events
from bot.services.mail import MailSender, deliver_pending, prune_outbox
from bot.settings import Settings
from scheduler import application_jobs, onboarding_jobs


@dataclass(frozen=True)
class JobContext:
    session_factory: SessionFactory
    clock: Clock
    # Only the deliver-emails job needs it; None where no settings were loaded (skips it).
    mail_sender: MailSender | None = None
    # Jobs that talk to Slack (onboarding) need the bot's client and the settings; they skip
    # themselves where these are None.
    client: WebClient | None = None
    settings: Settings | None = None


JobResult = dict[str, Any]


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    # APScheduler CronTrigger fields, interpreted in the configured time zone (JST).
    cron: dict[str, str]
    run: Callable[[JobContext], JobResult]


def _prune_processed_events(ctx: JobContext) -> JobResult:
    with ctx.session_factory.begin() as session:
        return {"deleted": prune_processed_events(session, clock=ctx.clock)}


def _prune_outbox(ctx: JobContext) -> JobResult:
    with ctx.session_factory.begin() as session:
        return {"deleted": prune_outbox(session, clock=ctx.clock)}


def _deliver_emails(ctx: JobContext) -> JobResult:
    if ctx.mail_sender is None:
        return {"skipped": "no mail sender in this context"}
    return dict(deliver_pending(ctx.session_factory, ctx.mail_sender, clock=ctx.clock))


def _messenger(ctx: JobContext) -> onboarding_jobs.Messenger | None:
    if ctx.client is None or ctx.settings is None:
        return None
    return onboarding_jobs.Messenger(
        client=ctx.client, settings=ctx.settings, session_factory=ctx.session_factory
    )


def _onboarding_dms(
    send: Callable[..., JobResult],
) -> Callable[[JobContext], JobResult]:
    def run(ctx: JobContext) -> JobResult:
        messenger = _messenger(ctx)
        if messenger is None:
            return {"skipped": "no Slack client in this context"}
        return send(session_factory=ctx.session_factory, clock=ctx.clock, messenger=messenger)

    return run


def _report_stuck(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    return onboarding_jobs.report_stuck(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _remind_pending_applications(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    return application_jobs.remind_pending(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _post_unposted_applications(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    return application_jobs.post_unposted(
        session_factory=ctx.session_factory, client=ctx.client, settings=ctx.settings
    )


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="prune-processed-events",
        description="Forget Slack event ids older than 7 days (retries stop after minutes)",
        cron={"hour": "3", "minute": "30"},
        run=_prune_processed_events,
    ),
    JobSpec(
        id="prune-outbox",
        description="Delete sent or failed emails after 30 days (they hold personal data)",
        cron={"hour": "3", "minute": "45"},
        run=_prune_outbox,
    ),
    JobSpec(
        id="deliver-emails",
        description="Send the email outbox (a safety net: each process's mail worker sends at once)",
        cron={"minute": "*/5"},
        run=_deliver_emails,
    ),
    JobSpec(
        id="applications-remind-pending",
        description="Remind the secretariat of applications waiting over 2 business days",
        cron={"day_of_week": "mon-fri", "hour": "9", "minute": "15"},
        run=_remind_pending_applications,
    ),
    JobSpec(
        id="applications-post-unposted",
        description="Post applications that never reached the review channel",
        cron={"minute": "*/10"},
        run=_post_unposted_applications,
    ),
    JobSpec(
        id="onboarding-rules-ask-again",
        description="Ask members who accepted older usage rules to accept the current version",
        cron={"day_of_week": "mon-fri", "hour": "9-17", "minute": "*/5"},
        run=_onboarding_dms(onboarding_jobs.ask_again),
    ),
    JobSpec(
        id="onboarding-intro-reminders",
        description="One reminder to introduce themselves, a week after joining",
        cron={"day_of_week": "mon-fri", "hour": "10", "minute": "0"},
        run=_onboarding_dms(onboarding_jobs.remind_introductions),
    ),
    JobSpec(
        id="onboarding-profile-nudges",
        description="One nudge to newcomers without a photo or with an organisation's name",
        cron={"day_of_week": "mon-fri", "hour": "11", "minute": "0"},
        run=_onboarding_dms(onboarding_jobs.nudge_profiles),
    ),
    JobSpec(
        id="onboarding-stuck-report",
        description="List members who have not accepted the rules after 3 business days",
        cron={"day_of_week": "mon-fri", "hour": "9", "minute": "30"},
        run=_report_stuck,
    ),
)


class UnknownJob(LookupError):
    pass


def find_job(job_id: str) -> JobSpec:
    for job in JOBS:
        if job.id == job_id:
            return job
    raise UnknownJob(job_id)
