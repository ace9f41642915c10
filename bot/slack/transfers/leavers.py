"""Leavers in Slack: the member's confirmation DM, and the last day's run — the hand-over
(successors invited to their channels), the goodbye DM, the deactivation (SCIM, else
admin.users.remove, else one to-do for the secretariat).

Nothing lost, nothing twice: each step is recorded as done (bot/services/transfers/
departures.py); a Slack call that failed for a passing reason leaves the departure scheduled
for the next run; a message whose answer was lost is looked for (its block id) before it is
posted again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot import ids
from bot.domain.transfers_leavers import DepartureSummary
from bot.services.transfers import departures
from bot.services.transfers.departures import DueDeparture
from bot.slack.lifecycle.deactivator import Deactivator, Deactivators
from bot.slack.sent_dms import bot_dm_carries
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import (
    SLACK_CALL_ERRORS,
    FailureKind,
    SlackFailure,
    alert_auth_failure,
    classify,
)
from bot.views.blocks import to_dicts
from bot.views.transfers import leavers as views

log = logging.getLogger(__name__)

JOB = "transfers-departures"
# A lost answer's message is looked for among the review channel's latest messages.
HISTORY_LOOKBACK = 100
# Slack answers these for an invitation that needs nothing more (or can never work).
_NOTHING_TO_DO = ("already_in_channel", "cant_invite_self")


class Postponed(Exception):
    """Slack was busy or unreachable: the departure stays scheduled for the next run."""

    def __init__(self, failure: SlackFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


class LeaversSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring, *, deactivators: Deactivators) -> None:
        super().__init__(wiring)
        settings = wiring.settings
        self._review_channel = settings.review_channel
        self._zone = settings.zone
        self._language = settings.default_locale
        self._deactivators = deactivators

    # --- the member's confirmation -----------------------------------------------------------

    def confirm(self, summary: DepartureSummary, *, actor: str) -> None:
        """What will happen and when, with change and cancel buttons; the secretary who
        recorded it hears that it is done."""
        language = self._locales.for_user(summary.slack_user_id)
        self._dm(
            summary.slack_user_id,
            blocks=to_dicts(views.confirmation_blocks(summary, language, actor=actor)),
            text=views.confirmation_text(summary, language),
        )
        if actor != summary.slack_user_id:
            self._dm(actor, text=views.recorded_for_text(summary, self._locales.for_user(actor)))

    def tell(self, user_id: str, text: str) -> None:
        self._dm(user_id, text=text)

    def _dm(self, user_id: str, **message: Any) -> None:
        try:
            self._client.chat_postMessage(channel=user_id, **message)
        except SLACK_CALL_ERRORS as exc:
            log.warning("DM to %s not sent: %s", user_id, classify(exc).error)

    # --- the last day ----------------------------------------------------------------------------

    def run_due(self) -> dict[str, int]:
        """Every departure whose last day has ended, each carried as far as Slack allows."""
        now = self._clock.now()
        with self._session_factory.begin() as session:
            settled = departures.settle_to_dos(session, clock=self._clock)
        with self._session_factory() as session:
            due = departures.due_ids(session, now=now, zone=self._zone)
        counts = {"due": len(due), "done": 0, "to_do": 0, "postponed": 0, "settled": settled}
        deactivator = self._deactivators.start()
        for departure_id in due:
            try:
                outcome = self._carry_out(departure_id, deactivator)
            except Postponed as postponed:
                with self._session_factory.begin() as session:
                    departures.postpone(
                        session,
                        clock=self._clock,
                        departure_id=departure_id,
                        error=postponed.failure.error,
                    )
                counts["postponed"] += 1
                if postponed.failure.auth:
                    alert_auth_failure(postponed.failure, job=JOB)
                    break
                continue
            if outcome:
                counts[outcome] += 1
        return counts

    def _carry_out(self, departure_id: int, deactivator: Deactivator) -> str | None:
        with self._session_factory.begin() as session:
            due = departures.load(session, departure_id=departure_id)
        if due is None:
            return None
        if not due.handed_over:
            self._hand_over(due)
        if not due.goodbye_sent:
            self._goodbye(due)
        result = deactivator.deactivate(due.slack_user_id)
        if result.via is not None:
            with self._session_factory.begin() as session:
                departures.finish(session, clock=self._clock, departure_id=due.id, via=result.via)
            return "done"
        if result.transient:
            busy = SlackFailure(FailureKind.TRANSIENT, result.error or "deactivation")
            raise Postponed(busy)
        self._post_once(
            views.to_do_blocks(
                public_id=due.public_id,
                member=due.slack_user_id,
                last_day=due.last_day,
                error=result.error,
                language=self._language,
            ),
            views.to_do_text(due.slack_user_id, due.last_day, result.error, self._language),
        )
        with self._session_factory.begin() as session:
            departures.to_do(session, clock=self._clock, departure_id=due.id, error=result.error)
        return "to_do"

    def _hand_over(self, due: DueDeparture) -> None:
        failures: list[tuple[str, str, str]] = []
        for step in due.channel_steps:
            error = self._invite(step.slack_channel_id, step.successor) if step.successor else None
            if error and step.successor:
                failures.append((step.slack_channel_id, step.successor, error))
            with self._session_factory.begin() as session:
                departures.move_channel(
                    session,
                    clock=self._clock,
                    step=step,
                    leaver=due.slack_user_id,
                    invite_error=error,
                )
        with self._session_factory.begin() as session:
            departures.hand_over_rest(session, clock=self._clock, departure_id=due.id)
            lines = departures.for_secretariat(session, departure_id=due.id)
        if lines or failures:
            blocks = views.secretariat_blocks(
                public_id=due.public_id,
                member=due.slack_user_id,
                last_day=due.last_day,
                lines=lines,
                invite_failures=failures,
                language=self._language,
            )
            text = views.secretariat_text(due.slack_user_id, due.last_day, self._language)
            self._post_once(blocks, text)
        with self._session_factory.begin() as session:
            departures.mark_handed_over(session, clock=self._clock, departure_id=due.id)

    def _invite(self, channel_id: str, user_id: str) -> str | None:
        """None when the successor is (now) in the channel; else Slack's final refusal.
        The bot joins a public channel it is not in, once."""
        for attempt in range(2):
            try:
                self._client.conversations_invite(channel=channel_id, users=user_id)
                return None
            except SLACK_CALL_ERRORS as exc:
                failure = classify(exc)
                if failure.transient or failure.auth:
                    raise Postponed(failure) from exc
                if failure.error in _NOTHING_TO_DO:
                    return None
                if failure.error != "not_in_channel" or attempt:
                    return failure.error
            try:
                self._client.conversations_join(channel=channel_id)
            except SLACK_CALL_ERRORS as exc:
                failure = classify(exc)
                if failure.transient or failure.auth:
                    raise Postponed(failure) from exc
                return "not_in_channel"
        return "not_in_channel"

    def _goodbye(self, due: DueDeparture) -> None:
        """At most once: claimed before it is posted; a claim whose answer was lost is
        checked against the member's DM before anything is posted again."""
        block_id = ids.TRANSFER_LEAVE_GOODBYE_BLOCK + due.public_id
        if due.goodbye_claimed and self._dm_carries(due.slack_user_id, block_id):
            self._record_goodbye(due)
            return
        with self._session_factory.begin() as session:
            departures.claim_goodbye(session, clock=self._clock, departure_id=due.id)
        language = self._locales.for_user(due.slack_user_id)
        try:
            self._client.chat_postMessage(
                channel=due.slack_user_id,
                blocks=to_dicts(views.goodbye_blocks(due.public_id, language)),
                text=views.goodbye_text(language),
            )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient or failure.auth:
                if not failure.maybe_delivered:
                    with self._session_factory.begin() as session:
                        departures.release_goodbye(session, departure_id=due.id)
                raise Postponed(failure) from exc
            # The member cannot be reached (DMs closed, account gone): go on without it.
            log.info("goodbye to %s not delivered: %s", due.slack_user_id, failure.error)
            return
        self._record_goodbye(due)

    def _record_goodbye(self, due: DueDeparture) -> None:
        with self._session_factory.begin() as session:
            departures.goodbye_sent(session, clock=self._clock, departure_id=due.id)

    def _dm_carries(self, user_id: str, block_id: str) -> bool:
        try:
            return bot_dm_carries(self._client, user_id, block_id)
        except SLACK_CALL_ERRORS as exc:
            raise Postponed(classify(exc)) from exc

    def _post_once(self, blocks: Sequence[Block], text: str) -> None:
        """One message in the review channel, found again (its first block's id) if an
        earlier run posted it and stopped before recording so."""
        if self._review_channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: a leaver's message was not posted")
            return
        block_id = blocks[0].block_id
        try:
            history = self._client.conversations_history(
                channel=self._review_channel, limit=HISTORY_LOOKBACK
            )
            posted = any(
                block.get("block_id") == block_id
                for message in history.get("messages") or []
                if message.get("bot_id")
                for block in message.get("blocks") or []
            )
            if not posted:
                self._client.chat_postMessage(
                    channel=self._review_channel, blocks=to_dicts(blocks), text=text
                )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.transient or failure.auth:
                raise Postponed(failure) from exc
            log.warning("leaver's message not posted to the review channel: %s", failure.error)
