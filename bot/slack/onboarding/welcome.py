"""The welcome DM: sent once, marked sent only when Slack accepted it, retried until then.

The claim (`welcome_claimed_at`) is committed before the post, and the DM's first block
carries `onboarding_welcome:<user id>`. After a post, Slack's answer decides
(bot/slack_errors.py):
- accepted → `welcomed_at`;
- refused for a passing reason, or the token refused → the claim is given back and the
  onboarding-welcomes job sends it later;
- no answer (timeout, reset, 5xx) → the claim stays; once its lease has passed the job looks
  for the DM in the member's IM and either records it or sends it again: never twice;
- refused for good for this member (`cannot_dm_bot`, `user_not_found`...) → `welcome_error`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.locale import LocaleResolver
from bot.services.onboarding import welcomes
from bot.slack.sent_dms import bot_dm_carries
from bot.slack_errors import SLACK_CALL_ERRORS, SlackFailure, alert_auth_failure, classify
from bot.timefmt import JST
from bot.views.blocks import to_dicts
from bot.views.onboarding.welcome import welcome_blocks, welcome_text

log = logging.getLogger(__name__)

BLOCK_PREFIX = "onboarding_welcome:"
MAX_WELCOMES_PER_RUN = 50


def welcome_block_id(slack_user_id: str) -> str:
    return f"{BLOCK_PREFIX}{slack_user_id}"


class Delivery(StrEnum):
    SENT = "sent"
    LATER = "later"  # a passing failure: the job tries again
    AUTH = "auth"  # the token was refused: operators must act
    UNDELIVERABLE = "undeliverable"


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WelcomeSender:
    session_factory: SessionFactory
    clock: Clock
    client: WebClient
    locales: LocaleResolver
    intro_channel: str | None
    zone: ZoneInfo = JST  # the day whose ambassadors the welcome names

    # -- one DM, already claimed ----------------------------------------------------------

    def deliver(self, slack_user_id: str) -> Delivery:
        language = self.locales.for_user(slack_user_id)
        with self.session_factory() as session:
            today = self.clock.now().astimezone(self.zone).date()
            welcome = welcomes.welcome_for(session, slack_user_id, today=today)
        blocks = to_dicts(welcome_blocks(welcome, language, intro_channel=self.intro_channel))
        blocks[0]["block_id"] = welcome_block_id(slack_user_id)  # found again after a crash
        try:
            self.client.chat_postMessage(
                channel=slack_user_id,
                blocks=blocks,
                text=welcome_text(language),
                unfurl_links=False,
            )
        except SLACK_CALL_ERRORS as exc:
            return self._failed(slack_user_id, classify(exc))
        with self.session_factory.begin() as session:
            welcomes.mark_welcomed(session, at=self.clock.now(), slack_user_id=slack_user_id)
        return Delivery.SENT

    def _failed(self, slack_user_id: str, failure: SlackFailure) -> Delivery:
        if failure.transient and failure.maybe_delivered:
            log.warning("welcome DM to %s: %s; checked later", slack_user_id, failure.error)
            return Delivery.LATER
        if failure.transient or failure.auth:
            with self.session_factory.begin() as session:
                welcomes.release_welcome(session, slack_user_id=slack_user_id)
            if failure.auth:
                alert_auth_failure(failure, job="the welcome DM")
                return Delivery.AUTH
            log.warning("welcome DM to %s: %s; sent later", slack_user_id, failure.error)
            return Delivery.LATER
        with self.session_factory.begin() as session:
            welcomes.fail_welcome(session, slack_user_id=slack_user_id, error=failure.error)
        log.warning("welcome DM to %s undeliverable: %s", slack_user_id, failure.error)
        return Delivery.UNDELIVERABLE

    # -- the job --------------------------------------------------------------------------

    def run(self, limit: int = MAX_WELCOMES_PER_RUN) -> dict[str, Any]:
        """Settle welcomes left in flight, then welcome members who joined but never were."""
        counts: Counter[Delivery] = Counter()  # this run's, the sender outlives it
        result: dict[str, Any] = {"recovered": 0, "stopped": "done"}
        try:
            result["recovered"] = self._recover(limit, counts)
            self._send_due(limit, counts)
        except _Stop as stop:
            result["stopped"] = stop.reason
        return {**result, **{d.value: counts[d] for d in Delivery}}

    def _recover(self, limit: int, counts: Counter[Delivery]) -> int:
        with self.session_factory() as session:
            stale = welcomes.stale_welcome_claims(session, now=self.clock.now(), limit=limit)
        found = 0
        for user_id in stale:
            try:
                posted = bot_dm_carries(self.client, user_id, welcome_block_id(user_id))
            except SLACK_CALL_ERRORS as exc:
                failure = classify(exc)
                if not failure.member_specific:
                    self._stop_for(failure)
                    log.warning("welcome of %s not checked: %s", user_id, failure.error)
                    continue
                with self.session_factory.begin() as session:
                    welcomes.fail_welcome(session, slack_user_id=user_id, error=failure.error)
                counts[Delivery.UNDELIVERABLE] += 1
                continue
            with self.session_factory.begin() as session:
                if posted:
                    welcomes.mark_welcomed(session, at=self.clock.now(), slack_user_id=user_id)
                    found += 1
                else:
                    welcomes.release_welcome(session, slack_user_id=user_id)
        return found

    def _send_due(self, limit: int, counts: Counter[Delivery]) -> None:
        with self.session_factory() as session:
            due = welcomes.due_welcomes(session, now=self.clock.now(), limit=limit)
        for user_id in due:
            with self.session_factory.begin() as session:
                claimed = welcomes.claim_welcome(session, clock=self.clock, slack_user_id=user_id)
            if not claimed:
                continue
            delivery = self.deliver(user_id)
            counts[delivery] += 1
            if delivery is Delivery.AUTH:
                raise _Stop("slack auth")
            if delivery is Delivery.LATER:
                raise _Stop("slack unavailable")  # the next run goes on

    def _stop_for(self, failure: SlackFailure) -> None:
        if failure.auth:
            alert_auth_failure(failure, job="onboarding-welcomes")
            raise _Stop("slack auth")
        if failure.transient:
            raise _Stop("slack unavailable")
