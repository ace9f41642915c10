"""The greeting cards in Slack: posted after the greeting is recorded, edited in place when
claimed or closed, the newcomer's introduction DM, the reminder and the secretariat's notice.

Nothing here is sent twice:
- the card's store is a guarded UPDATE (a second copy is deleted), and the job, before it
  posts a card that never got a ts, looks for it in the channel (its first block carries
  `ambassador_greeting:<id>`): an answer lost after Slack posted it is found, not reposted;
- the introduction is owed while the card is claimed and `introduced_at` is empty; the
  claimer's listener sends it at once, the job only after a lease, and first looks for it in
  the newcomer's DM (block `ambassador_intro:<id>`);
- the reminder and the notice are recorded before they are posted, given back only when
  Slack certainly did not take them.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from bot import ids
from bot.domain.ambassador_greetings import Nudge
from bot.i18n import t
from bot.services.ambassadors import greetings
from bot.services.lifecycle.policy import in_contact_hours
from bot.slack.sent_dms import bot_dm_carries
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, SlackFailure, alert_auth_failure, classify
from bot.views.ambassadors.greetings import (
    card_blocks,
    card_text,
    escalation_text,
    introduction_blocks,
    introduction_text,
    reminder_text,
)
from bot.views.blocks import to_dicts

log = logging.getLogger(__name__)

MAX_PER_RUN = 50
Rendered = tuple[list[dict[str, Any]], str]


class GreetingCards(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        settings = wiring.settings
        self._channel = settings.ambassador_channel
        self._review_channel = settings.review_channel
        self._intro_channel = settings.intro_channel
        # The ambassadors' channel and the review channel read in the workspace's language.
        self._language = settings.default_locale
        self._zone = settings.zone

    # -- the card -------------------------------------------------------------------------

    def _render(self, greeting_id: int) -> Rendered | None:
        with self._session_factory() as session:
            card = greetings.greeting_card(
                session,
                greeting_id=greeting_id,
                language=self._language,
                intro_channel=self._intro_channel,
            )
        if card is None:
            return None
        return to_dicts(card_blocks(card, self._language)), card_text(card, self._language)

    def _placement(self, greeting_id: int) -> tuple[str, str] | None:
        with self._session_factory() as session:
            return greetings.placement(session, greeting_id)

    def post(self, greeting_id: int, *, look_first: bool = False) -> bool:
        """Post the card once; a failure is logged and left to the job (False)."""
        if self._channel is None:
            log.warning("KYOSO_AMBASSADOR_CHANNEL is not set: greeting %s waits", greeting_id)
            return False
        if self._placement(greeting_id) is not None:
            return False
        rendered = self._render(greeting_id)
        if rendered is None:
            return False
        try:
            found = self._find_posted(greeting_id) if look_first else None
            if found is not None:  # Slack took it before; its answer was lost
                stored = self._store(greeting_id, found)
                if stored:
                    self.refresh(greeting_id)
                return stored
            blocks, text = rendered
            posted = self._client.chat_postMessage(
                channel=self._channel, blocks=blocks, text=text, unfurl_links=False
            )
        except SLACK_CALL_ERRORS as exc:
            self._log_failure("greeting card", greeting_id, classify(exc))
            return False
        ts = str(posted["ts"])
        if not self._store(greeting_id, ts):
            # Another process posted the same card a moment earlier: keep one.
            self._client.chat_delete(channel=self._channel, ts=ts)
            return False
        if self._render(greeting_id) != rendered:  # claimed or closed meanwhile
            self.refresh(greeting_id)
        return True

    def _store(self, greeting_id: int, ts: str) -> bool:
        assert self._channel is not None
        with self._session_factory.begin() as session:
            return greetings.store_placement(
                session, clock=self._clock, greeting_id=greeting_id, channel_id=self._channel, ts=ts
            )

    def _find_posted(self, greeting_id: int) -> str | None:
        """The ts of this card among the channel's latest messages, if Slack took it."""
        assert self._channel is not None
        block_id = f"{ids.AMBASSADOR_GREETING_BLOCK}{greeting_id}"
        history = self._client.conversations_history(channel=self._channel, limit=100)
        for message in history.get("messages") or []:
            if message.get("bot_id") and any(
                block.get("block_id") == block_id for block in message.get("blocks") or []
            ):
                return str(message["ts"])
        return None

    def refresh(self, greeting_id: int) -> bool:
        """Edit the card in place (claimed, closed); False when it is not posted or Slack
        failed (logged)."""
        where = self._placement(greeting_id)
        rendered = self._render(greeting_id)
        if where is None or rendered is None:
            return False
        blocks, text = rendered
        try:
            self._client.chat_update(channel=where[0], ts=where[1], blocks=blocks, text=text)
        except SLACK_CALL_ERRORS as exc:
            self._log_failure("greeting card update", greeting_id, classify(exc))
            return False
        return True

    # -- the claim and the introduction ------------------------------------------------------

    def claimed(self, greeting_id: int) -> None:
        """After the winning click: the card shows who, the newcomer meets them."""
        self.refresh(greeting_id)
        self.introduce(greeting_id)

    def introduce(self, greeting_id: int) -> str:
        """The newcomer's one DM introducing the ambassador: sent, later, undeliverable or
        none (nothing owed)."""
        with self._session_factory() as session:
            intro = greetings.introduction(session, greeting_id=greeting_id)
        if intro is None:
            return "none"
        language = self._locales.for_user(intro.newcomer)
        try:
            self._client.chat_postMessage(
                channel=intro.newcomer,
                blocks=to_dicts(introduction_blocks(intro, language)),
                text=introduction_text(intro, language),
                unfurl_links=False,
            )
        except SLACK_CALL_ERRORS as exc:
            failure = classify(exc)
            if failure.member_specific:
                with self._session_factory.begin() as session:
                    greetings.mark_undeliverable(
                        session, clock=self._clock, greeting_id=greeting_id, error=failure.error
                    )
                return "undeliverable"
            self._log_failure("introduction DM", greeting_id, failure)
            return "later"
        with self._session_factory.begin() as session:
            greetings.mark_introduced(session, clock=self._clock, greeting_id=greeting_id)
        return "sent"

    def _settle_introduction(self, greeting_id: int) -> str:
        """A claim whose introduction did not go through: sent already (found), or now."""
        with self._session_factory() as session:
            intro = greetings.introduction(session, greeting_id=greeting_id)
        if intro is None:
            return "none"
        block_id = f"{ids.AMBASSADOR_INTRO_BLOCK}{greeting_id}"
        try:
            found = bot_dm_carries(self._client, intro.newcomer, block_id)
        except SLACK_CALL_ERRORS as exc:
            self._log_failure("introduction check", greeting_id, classify(exc))
            return "later"
        if found:
            with self._session_factory.begin() as session:
                greetings.mark_introduced(session, clock=self._clock, greeting_id=greeting_id)
            return "recovered"
        return self.introduce(greeting_id)

    # -- the reminder and the secretariat's notice -----------------------------------------

    def _remind(self, nudge: Nudge) -> bool:
        with self._session_factory.begin() as session:
            if not greetings.claim_reminder(
                session, clock=self._clock, greeting_id=nudge.greeting_id
            ):
                return False
        try:
            self._client.chat_postMessage(
                channel=nudge.channel_id,
                thread_ts=nudge.message_ts,
                text=reminder_text(nudge, self._language),
            )
        except SLACK_CALL_ERRORS as exc:
            self._give_back(nudge.greeting_id, classify(exc), escalation=False)
            return False
        return True

    def _escalate(self, nudge: Nudge) -> bool:
        if self._review_channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: greeting %s unclaimed", nudge.greeting_id)
            return False
        with self._session_factory.begin() as session:
            if not greetings.claim_escalation(
                session, clock=self._clock, greeting_id=nudge.greeting_id
            ):
                return False
        try:
            self._client.chat_postMessage(
                channel=self._review_channel,
                text=escalation_text(nudge, self._language, link=self._link(nudge)),
                unfurl_links=False,
            )
        except SLACK_CALL_ERRORS as exc:
            self._give_back(nudge.greeting_id, classify(exc), escalation=True)
            return False
        return True

    def _link(self, nudge: Nudge) -> str:
        try:
            answer = self._client.chat_getPermalink(
                channel=nudge.channel_id, message_ts=nudge.message_ts
            )
        except SLACK_CALL_ERRORS:
            return f"<#{nudge.channel_id}>"
        url = str(answer["permalink"])
        return t("ambassadors.greetings.escalation.link", self._language, url=url)

    def _give_back(self, greeting_id: int, failure: SlackFailure, *, escalation: bool) -> None:
        what = "greeting escalation" if escalation else "greeting reminder"
        self._log_failure(what, greeting_id, failure)
        if failure.transient and failure.maybe_delivered:
            return  # it may be in Slack: never sent twice
        with self._session_factory.begin() as session:
            greetings.give_back(session, greeting_id=greeting_id, escalation=escalation)

    def _log_failure(self, what: str, greeting_id: int, failure: SlackFailure) -> None:
        if failure.auth:
            alert_auth_failure(failure, job=what)
            return
        log.warning("%s %s: %s; tried again later", what, greeting_id, failure.error)

    # -- the job ----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Close the cards of newcomers who left, post the cards Slack missed, send the
        introductions left owing; on 開庁日 in office hours, remind and tell the secretariat."""
        counts: Counter[str] = Counter()
        now = self._clock.now()
        with self._session_factory.begin() as session:
            closed = greetings.close_departed(session, clock=self._clock)
        for greeting_id in closed:
            self.refresh(greeting_id)
        counts["closed"] = len(closed)
        with self._session_factory() as session:
            waiting = greetings.unposted(session, limit=MAX_PER_RUN)
            owed = greetings.due_introductions(session, now=now, limit=MAX_PER_RUN)
        counts["posted"] = sum(self.post(g, look_first=True) for g in waiting)
        for greeting_id in owed:
            counts[f"introductions_{self._settle_introduction(greeting_id)}"] += 1
        if in_contact_hours(now, self._zone):
            with self._session_factory() as session:
                reminders = greetings.due_reminders(session, now=now, zone=self._zone)
                escalations = greetings.due_escalations(session, now=now, zone=self._zone)
            counts["reminded"] = sum(self._remind(n) for n in reminders)
            counts["escalated"] = sum(self._escalate(n) for n in escalations)
        return dict(counts)
