"""Account lifecycle's scheduled work: the daily sweep, contact sending, the users.list sync,
the last-login import, the weekly flagged summary and personal-data retention.

Each run logs one line and, when it changed something, posts the same line to the review
channel. Progress callbacks let the CLI draw a bar with counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.clock import Clock
from bot.db import SessionFactory
from bot.i18n import t
from bot.services import lifecycle, slack_sync
from bot.services.contact_sender import DEFAULT_TIME_BUDGET_SECONDS, ContactSender, TokenBucket
from bot.services.lifecycle import Policy
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.views.lifecycle import (
    BATCH_SIZE,
    ListTerms,
    to_dicts,
    weekly_summary_blocks,
    weekly_summary_text,
)

log = logging.getLogger(__name__)

JobResult = dict[str, Any]
Progress = Callable[[int, int | None], None]


def post_summary(client: WebClient | None, settings: Settings | None, text: str) -> bool:
    """The one-line summary of a run, in the review channel; False when it could not go."""
    log.info("%s", text)
    if client is None or settings is None or settings.review_channel is None:
        return False
    try:
        client.chat_postMessage(channel=settings.review_channel, text=text)
    except (SlackApiError, SlackClientError) as exc:
        log.warning("summary not posted to the review channel: %s", exc)
        return False
    return True


def sweep(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient | None = None,
    settings: Settings | None = None,
) -> JobResult:
    policy = Policy.from_settings(settings) if settings is not None else Policy()
    with session_factory.begin() as session:
        result = lifecycle.sweep(session, clock=clock, policy=policy)
    if result.changed:
        language = settings.default_locale if settings is not None else "ja"
        post_summary(
            client,
            settings,
            t(
                "lifecycle.summary.sweep",
                language,
                started=result.started,
                ended=result.ended_by_activity + result.ended_exempt,
                flagged=result.flagged,
                emails_sent=result.emails_sent,
                emails_failed=result.emails_failed,
            ),
        )
    return result.as_dict()


def send_contacts(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient,
    settings: Settings,
    time_budget: float = DEFAULT_TIME_BUDGET_SECONDS,
    progress: Progress | None = None,
    bucket: TokenBucket | None = None,
) -> JobResult:
    sender = ContactSender(
        session_factory=session_factory,
        clock=clock,
        client=client,
        settings=settings,
        time_budget=time_budget,
        progress=progress,
        bucket=bucket,
    )
    run = sender.run()
    if run.changed:
        post_summary(client, settings, run.summary(settings.default_locale))
    return run.as_dict()


def sync_users(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient,
    settings: Settings,
    progress: Progress | None = None,
    bucket: TokenBucket | None = None,
) -> JobResult:
    result = slack_sync.sync_users(
        session_factory=session_factory,
        clock=clock,
        client=client,
        bucket=bucket,
        progress=progress,
    )
    if result.changed:
        post_summary(client, settings, result.summary(settings.default_locale))
    return result.as_dict()


def admin_client(settings: Settings) -> WebClient | None:
    token = settings.slack_admin_user_token
    if token is None:
        return None
    return make_web_client(token.get_secret_value(), settings.slack_api_url)


def import_logins(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    settings: Settings,
    client: WebClient | None = None,
    progress: Progress | None = None,
    bucket: TokenBucket | None = None,
) -> JobResult:
    result = slack_sync.import_access_logs(
        session_factory=session_factory,
        clock=clock,
        admin_client=admin_client(settings),
        bucket=bucket,
        progress=progress,
    )
    if result.updated:
        post_summary(client, settings, result.summary(settings.default_locale))
    return result.as_dict()


def weekly_summary(
    *, session_factory: SessionFactory, client: WebClient, settings: Settings
) -> JobResult:
    """Counts and the first batch of flagged members, with approve and restore buttons."""
    with session_factory() as session:
        overview = lifecycle.overview(session)
        batch = lifecycle.flagged_members(session, limit=BATCH_SIZE)
    counts = {
        "contacting": overview.contacting,
        "flagged": overview.flagged,
        "approved": overview.approved,
        "exempt": overview.exempt,
    }
    if settings.review_channel is None:
        log.warning("lifecycle weekly summary %s: KYOSO_REVIEW_CHANNEL unset", counts)
        return {**counts, "posted": False}
    language = settings.default_locale
    blocks = weekly_summary_blocks(
        overview,
        batch,
        language,
        terms=ListTerms(inactive_days=settings.inactive_days, grace_days=settings.grace_days),
    )
    client.chat_postMessage(
        channel=settings.review_channel,
        blocks=to_dicts(blocks),
        text=weekly_summary_text(overview, language),
    )
    return {**counts, "posted": True}


def retention(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient | None = None,
    settings: Settings | None = None,
) -> JobResult:
    policy = Policy.from_settings(settings) if settings is not None else Policy()
    with session_factory.begin() as session:
        reduced = lifecycle.reduce_personal_data(session, clock=clock, policy=policy)
    if reduced:
        language = settings.default_locale if settings is not None else "ja"
        post_summary(client, settings, t("lifecycle.summary.retention", language, count=reduced))
    return {"reduced": reduced, "retention_days": policy.retention_days}
