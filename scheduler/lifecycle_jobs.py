"""Account lifecycle's scheduled work: the daily sweep, contact sending, the users.list sync,
the last-login import, the weekly flagged summary and personal-data retention.

The runs themselves are in bot/slack/lifecycle/runs.py (the CLI runs them too); here each
job takes what it needs from the context. The sweep and retention run without Slack too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services.lifecycle.policy import Policy
from bot.slack.lifecycle import runs

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]
NO_SLACK = {"skipped": "no Slack client in this context"}


def _database_work(ctx: JobContext) -> dict[str, Any]:
    """What the sweep and retention need; Slack (for their summary line) only if at hand."""
    settings = ctx.settings
    return {
        "session_factory": ctx.session_factory,
        "clock": ctx.clock,
        "policy": Policy.from_settings(settings) if settings is not None else Policy(),
        "language": settings.default_locale if settings is not None else "ja",
        "messages": ctx.gateway.lifecycle.messages if ctx.gateway is not None else None,
    }


def sweep(ctx: JobContext) -> JobResult:
    return runs.sweep(**_database_work(ctx))


def retention(ctx: JobContext) -> JobResult:
    return runs.retention(**_database_work(ctx))


def send_contacts(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return runs.send_contacts(ctx.gateway.lifecycle)


def sync_users(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return runs.sync_users(ctx.gateway.lifecycle)


def import_logins(ctx: JobContext) -> JobResult:
    if ctx.settings is None:
        return {"skipped": "no settings in this context"}
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return runs.import_logins(ctx.gateway.lifecycle)


def weekly_summary(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return dict(NO_SLACK)
    return runs.weekly_summary(ctx.gateway.lifecycle, session_factory=ctx.session_factory)
