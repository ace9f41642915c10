"""The lifecycle's runs, the same from the scheduler (scheduler/lifecycle_jobs.py) and from
the command line (`kyoso lifecycle …`, which adds a progress bar): the daily sweep, contact
sending, the users.list sync, the last-login import, the weekly flagged summary and
personal-data retention.

Each run logs one line and, when it changed something, posts the same line to the review
channel. The sweep and retention are database work and run without Slack too (`messages`
None): Slack only adds their summary line."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.clock import Clock
from bot.db import SessionFactory
from bot.i18n import Language, t
from bot.services.lifecycle.overview import first_batch
from bot.services.lifecycle.policy import Policy
from bot.services.lifecycle.retention import reduce_personal_data
from bot.services.lifecycle.sweep import daily_sweep
from bot.slack.lifecycle import LifecycleSlack
from bot.slack.lifecycle.messages import LifecycleMessages
from bot.slack.lifecycle.pacing import Progress, TokenBucket
from bot.slack.paced_dms import DEFAULT_TIME_BUDGET_SECONDS

log = logging.getLogger(__name__)

JobResult = dict[str, Any]


class _Summarised(Protocol):
    def summary(self, language: Language) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


def _tell(messages: LifecycleMessages | None, text: str) -> None:
    log.info("%s", text)
    if messages is not None:
        messages.post_summary(text)


def _reported(slack: LifecycleSlack, result: _Summarised, *, changed: bool) -> JobResult:
    """What a run with Slack did; its summary line told too when it changed something."""
    if changed:
        _tell(slack.messages, result.summary(slack.messages.language))
    return result.as_dict()


def sweep(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    policy: Policy,
    language: Language,
    messages: LifecycleMessages | None,
) -> JobResult:
    with session_factory.begin() as session:
        result = daily_sweep(session, clock=clock, policy=policy)
    if result.changed:
        _tell(messages, result.summary(language))
    return result.as_dict()


def retention(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    policy: Policy,
    language: Language,
    messages: LifecycleMessages | None,
) -> JobResult:
    with session_factory.begin() as session:
        reduced = reduce_personal_data(session, clock=clock, policy=policy)
    if reduced:
        _tell(messages, t("lifecycle.summary.retention", language, count=reduced))
    return {"reduced": reduced, "retention_days": policy.retention_days}


def send_contacts(
    slack: LifecycleSlack,
    *,
    time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
    progress: Progress | None = None,
    bucket: TokenBucket | None = None,
) -> JobResult:
    run = slack.contacts.start(time_budget=time_budget, progress=progress, bucket=bucket).run()
    return _reported(slack, run, changed=run.changed)


def sync_users(
    slack: LifecycleSlack, *, progress: Progress | None = None, bucket: TokenBucket | None = None
) -> JobResult:
    result = slack.directory.sync_users(bucket=bucket, progress=progress)
    return _reported(slack, result, changed=result.changed)


def import_logins(
    slack: LifecycleSlack, *, progress: Progress | None = None, bucket: TokenBucket | None = None
) -> JobResult:
    result = slack.directory.import_access_logs(bucket=bucket, progress=progress)
    return _reported(slack, result, changed=bool(result.updated))


def weekly_summary(slack: LifecycleSlack, *, session_factory: SessionFactory) -> JobResult:
    """Counts and the first batch of flagged members, with approve and restore buttons."""
    with session_factory() as session:
        listing = first_batch(session)
    overview = listing.overview
    counts = {
        "contacting": overview.contacting,
        "flagged": overview.flagged,
        "approved": overview.approved,
        "exempt": overview.exempt,
    }
    posted = slack.messages.post_weekly(listing, terms=slack.policy.list_terms)
    if not posted:
        log.warning("lifecycle weekly summary %s: KYOSO_REVIEW_CHANNEL unset", counts)
    return {**counts, "posted": posted}
