"""Applications in Slack: each one's message in the secretariat's review channel (posted
once, then edited in place as decisions are taken), the reminder of those that wait too
long, and Slack's invitation once one is approved."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.applications import ReminderItem
from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.applications.reminders import Overdue
from bot.services.applications.review import review_state
from bot.slack.invitations import Inviter
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.views.applications import fallback_text, reminder_blocks, review_blocks
from bot.views.blocks import to_dicts
from models import Application

log = logging.getLogger(__name__)

_PLACEMENT = Placement(
    key=Application.public_id,
    channel=Application.review_channel_id,
    ts=Application.review_message_ts,
)


class ApplicationReview(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._channel = wiring.settings.review_channel
        self._language = wiring.settings.default_locale
        self._messages = ReviewPost(wiring, _PLACEMENT, render=self._render, what="application")

    def post(self, public_id: str) -> bool:
        """Post a new application for review; False if already posted or nowhere to post."""
        return self._messages.post(public_id)

    def refresh(self, public_id: str) -> None:
        """Show the latest decisions (posting the message first if it never got there)."""
        self._messages.refresh(public_id)

    def post_waiting(self, public_ids: Iterable[str]) -> dict[str, int]:
        return self._messages.post_waiting(public_ids)

    def remind(self, overdue: Sequence[Overdue]) -> None:
        """One summary of the applications waiting too long, each linked to its message."""
        if self._channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: %d applications wait", len(overdue))
            return
        items = [
            ReminderItem(
                name=o.name,
                organisation=o.organisation,
                submitted_at=o.submitted_at,
                business_days=o.business_days,
                link=self._permalink(o.review_channel_id, o.review_message_ts),
            )
            for o in overdue
        ]
        blocks = to_dicts(reminder_blocks(items, self._language))
        self._client.chat_postMessage(
            channel=self._channel, blocks=blocks, text=blocks[0]["text"]["text"]
        )

    def _render(self, public_id: str) -> Rendered:
        with self._session_factory() as session:
            state = review_state(session, public_id=public_id, language=self._language)
        blocks = review_blocks(
            state.item,
            self._language,
            decisions=state.decisions,
            open_for_decision=state.open_for_decision,
            awaiting_invitation=state.awaiting_invitation,
        )
        return Rendered(blocks=to_dicts(blocks), text=fallback_text(state.item, self._language))

    def _permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not (channel and ts):
            return None
        try:
            return str(self._client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, SlackClientError) as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc)
            return None


@dataclass(frozen=True)
class ApplicationsSlack:
    review: ApplicationReview
    # None without an admin token and invite channels: the secretariat invites by hand.
    inviter: Inviter | None

    def approved(self, public_id: str) -> None:
        """Invite through Slack when it can; either way the review message shows the
        decision (and, for an invitation by hand, the secretariat's to-do)."""
        if self.inviter is not None:
            self.inviter.invite(public_id)
        self.review.refresh(public_id)

    @classmethod
    def build(cls, wiring: SlackWiring) -> ApplicationsSlack:
        inviter = (
            Inviter(
                admin=wiring.admin_client,
                channel_ids=wiring.settings.invite_channel_ids,
                session_factory=wiring.session_factory,
                clock=wiring.clock,
            )
            if wiring.admin_client is not None and wiring.settings.invite_channel_ids
            else None
        )
        return cls(review=ApplicationReview(wiring), inviter=inviter)
