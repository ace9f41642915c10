"""Affiliation checks' scheduled work: cards that never reached the review channel.

A check is recorded before its card is posted (bot/slack/transfers/checks.py); when Slack
failed for a moment, this job posts it. Nothing else is retried here: the check stands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]


def post_unposted_checks(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return {"skipped": "no Slack client in this context"}
    return dict(ctx.gateway.transfers.checks.post_unposted())
