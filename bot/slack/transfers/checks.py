"""Slack's side of a change seen in Slack (bot/services/transfers/slack_changes.py), after the
change is committed: the affiliation check's card in the review channel (posted once, edited
in place) and the member's DMs.

The check is recorded before its card is posted. When Slack fails for a moment, the check
waits with no card: the next event about the member refreshes it, and the
`transfers-checks-catch-up` job posts every open check still without a card."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.domain.transfer_checks import CheckDecision
from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.applications.organisations import label_of
from bot.services.transfers import checks
from bot.services.transfers.slack_changes import AddressChange, ChangeKind
from bot.slack.transfers.moves import MovesSlack
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.transfers import checks as views
from models import AffiliationCheck, CheckStatus

log = logging.getLogger(__name__)

_PLACEMENT = Placement(
    key=AffiliationCheck.public_id,
    channel=AffiliationCheck.review_channel_id,
    ts=AffiliationCheck.review_message_ts,
)


class AffiliationChecks(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._language = wiring.settings.default_locale
        self._moves = MovesSlack(wiring)  # a move Slack confirmed: its DMs and review card
        self._post = ReviewPost(
            wiring, _PLACEMENT, render=self._render, what="affiliation check", unfurl=False
        )

    def _render(self, public_id: str) -> Rendered:
        with self._session_factory() as session:
            card = checks.check_card(session, public_id)
        assert card is not None
        blocks = views.check_blocks(card, self._language)
        return Rendered(to_dicts(blocks), views.check_text(card, self._language))

    def follow_up(self, changes: Iterable[AddressChange]) -> None:
        """What committed changes need of Slack: a card shown, a member told."""
        for change in changes:
            if change.needs_card and change.check_id:
                self.show(change.check_id)
            elif change.kind is ChangeKind.ORGANISATION_UPDATED:
                self.tell_updated(change.slack_user_id, change.organisation_id)
            elif change.kind is ChangeKind.MOVE_CONFIRMED and change.move_id:
                self._moves.after_confirmation(change.move_id)

    def show(self, public_id: str) -> None:
        """Post the card, or edit it in place; a Slack failure leaves it for the catch-up."""
        try:
            self._post.refresh(public_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("affiliation check %s not shown yet: %s", public_id, error_code(exc))

    def post_unposted(self) -> dict[str, int]:
        with self._session_factory() as session:
            waiting = checks.unposted_checks(session)
        return self._post.post_waiting(waiting)

    def decided(self, decision: CheckDecision) -> None:
        """After a secretary's button: the member asked (once), the card shows the decision."""
        if decision.decided_before or decision.slack_user_id is None:
            return
        if decision.status is CheckStatus.ASKED:
            blocks, text = views.ask_member_dm(self._locales.for_user(decision.slack_user_id))
            self._dm(decision.slack_user_id, blocks=to_dicts(blocks), text=text)
        self.show(decision.public_id)

    def tell_updated(self, slack_user_id: str, organisation_id: int | None) -> None:
        with self._session_factory() as session:
            organisation = label_of(session, organisation_id)
        if organisation is None:
            return
        language = self._locales.for_user(slack_user_id)
        blocks, text = views.organisation_updated_dm(organisation, language)
        self._dm(slack_user_id, blocks=to_dicts(blocks), text=text)

    def _dm(self, slack_user_id: str, *, blocks: list[dict[str, object]], text: str) -> None:
        try:
            self._client.chat_postMessage(
                channel=slack_user_id, blocks=blocks, text=text, unfurl_links=False
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("DM to %s failed: %s", slack_user_id, error_code(exc))
