"""Moves' scheduled work: scheduled moves applied on their effective date, the Slack
profile's address after a confirmed move, and moves whose link and code expired.

A member told to change their Slack address has 14 days; then users.info shows whether they
did (SEEN), and if not, the secretariat gets one to-do in the review channel (TODO)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services.transfers import moves

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]


def slack_emails(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return {"skipped": "no Slack client in this context"}
    return dict(ctx.gateway.transfers.moves.check_slack_emails())


def expire_moves(ctx: JobContext) -> JobResult:
    """No Slack call: runs in any context."""
    with ctx.session_factory.begin() as session:
        return {"expired": moves.expire_moves(session, clock=ctx.clock)}


def apply_scheduled(ctx: JobContext) -> JobResult:
    """Scheduled moves whose effective date has begun (00:00 in KYOSO_TIMEZONE): applied, and
    each member told once (SCIM or the instructions, as after an immediate move)."""
    if ctx.gateway is None:
        return {"skipped": "no Slack client in this context"}
    return dict(ctx.gateway.transfers.moves.apply_scheduled())
