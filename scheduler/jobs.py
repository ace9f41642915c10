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
from scheduler import application_jobs, moderation_jobs, onboarding_jobs


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


# --- Moderation (appended: extends the registry above) ----------------------------------------


def _moderation_follow_ups(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    return dict(
        moderation_jobs.follow_up_edit_requests(
            session_factory=ctx.session_factory,
            clock=ctx.clock,
            client=ctx.client,
            settings=ctx.settings,
        )
    )


def _moderation_post_unposted(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    return dict(
        moderation_jobs.post_unposted(
            session_factory=ctx.session_factory, client=ctx.client, settings=ctx.settings
        )
    )


JOBS = (
    *JOBS,
    JobSpec(
        id="moderation-edit-follow-ups",
        description="Tell the secretariat when an author's edit deadline passes (once per request)",
        cron={"minute": "*/15"},
        run=_moderation_follow_ups,
    ),
    JobSpec(
        id="moderation-post-unposted",
        description="Post moderation cases that never reached the review channel",
        cron={"minute": "*/10"},
        run=_moderation_post_unposted,
    ),
)


# --- Dashboard and statistics (appended: extends the registry above) --------------------------


def _weekly_report(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    # Imported here: it loads matplotlib, which only this job needs.
    from scheduler import report_jobs

    return report_jobs.weekly_report(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


JOBS = (
    *JOBS,
    JobSpec(
        id="weekly-report",
        description="Weekly figures and charts to the review channel (Monday 9:00; retried hourly "
        "until posted)",
        cron={"day_of_week": "mon", "hour": "9-17", "minute": "0"},
        run=_weekly_report,
    ),
)


# --- Channels (appended: extends the registry above) ------------------------------------------


def _channels_sync(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import channel_jobs

    return channel_jobs.sync_registry(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _channels_dormancy(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import channel_jobs

    return channel_jobs.dormancy_round(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _channels_catch_up(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import channel_jobs

    return channel_jobs.catch_up_requests(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


JOBS = (
    *JOBS,
    JobSpec(
        id="channels-sync",
        description="Bring every public channel into the registry (conversations.list, paced "
        "for Tier 2)",
        cron={"hour": "4", "minute": "15"},
        run=_channels_sync,
    ),
    JobSpec(
        id="channels-dormancy",
        description="Ask about channels quiet for KYOSO_DORMANT_DAYS or past their end date; "
        "remind once; list for archiving",
        cron={"day_of_week": "mon", "hour": "10", "minute": "30"},
        run=_channels_dormancy,
    ),
    JobSpec(
        id="channels-catch-up",
        description="Post unposted channel requests; finish provisioning stopped by a passing "
        "error",
        cron={"minute": "*/15"},
        run=_channels_catch_up,
    ),
)


# --- Account lifecycle (appended: extends the registry above) ----------------------------------


def _lifecycle_sweep(ctx: JobContext) -> JobResult:
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.sweep(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _lifecycle_contacts(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.send_contacts(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _lifecycle_users_sync(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.sync_users(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


def _lifecycle_access_logs(ctx: JobContext) -> JobResult:
    if ctx.settings is None:
        return {"skipped": "no settings in this context"}
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.import_logins(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        settings=ctx.settings,
        client=ctx.client,
    )


def _lifecycle_weekly_summary(ctx: JobContext) -> JobResult:
    if ctx.client is None or ctx.settings is None:
        return {"skipped": "no Slack client in this context"}
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.weekly_summary(
        session_factory=ctx.session_factory, client=ctx.client, settings=ctx.settings
    )


def _lifecycle_retention(ctx: JobContext) -> JobResult:
    from scheduler import lifecycle_jobs

    return lifecycle_jobs.retention(
        session_factory=ctx.session_factory,
        clock=ctx.clock,
        client=ctx.client,
        settings=ctx.settings,
    )


JOBS = (
    *JOBS,
    JobSpec(
        id="inactivity-sweep",
        description="Start contact rounds for members inactive KYOSO_INACTIVE_DAYS; end answered "
        "ones; flag the unanswered (set-based)",
        cron={"hour": "8", "minute": "30"},
        run=_lifecycle_sweep,
    ),
    JobSpec(
        id="lifecycle-contacts",
        description="Send due inactivity DMs and emails: business hours, not in do-not-disturb, "
        "paced (KYOSO_CONTACTS_PER_MINUTE)",
        cron={"day_of_week": "mon-fri", "hour": "9-16", "minute": "5"},
        run=_lifecycle_contacts,
    ),
    JobSpec(
        id="lifecycle-users-sync",
        description="users.list (Tier 2 pace): members Kyoso missed, profile changes, accounts "
        "deactivated in Slack",
        cron={"hour": "5", "minute": "0"},
        run=_lifecycle_users_sync,
    ),
    JobSpec(
        id="lifecycle-access-logs",
        description="Last logins from team.accessLogs (paid plans, admin token; skipped quietly "
        "otherwise)",
        cron={"hour": "5", "minute": "30"},
        run=_lifecycle_access_logs,
    ),
    JobSpec(
        id="lifecycle-weekly-summary",
        description="Flagged accounts with approve and restore buttons in the review channel",
        cron={"day_of_week": "mon", "hour": "9", "minute": "45"},
        run=_lifecycle_weekly_summary,
    ),
    JobSpec(
        id="lifecycle-retention",
        description="Reduce deactivated members' personal data after KYOSO_RETENTION_DAYS",
        cron={"hour": "3", "minute": "50"},
        run=_lifecycle_retention,
    ),
)
