"""Each case's alert in the review channel (bot/review_post.py): posted once, then edited in
place; never posted from a refresh (the report, detection or job that opened the case posts
it, with the latest state). Link previews are off: the alert links the reported message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.domain.moderation import CasesPage
from bot.review_post import Placement, Rendered, ReviewPost
from bot.services.moderation import reading
from bot.services.moderation.cases import Opened
from bot.services.moderation.listing import AlertRef
from bot.slack.moderation.calls import Permalinks, best_effort
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.views.blocks import to_dicts
from bot.views.moderation.alerts import alert_blocks, alert_text, follow_up_text
from models import ModerationCase

_PLACEMENT = Placement(
    key=ModerationCase.public_id,
    channel=ModerationCase.alert_channel_id,
    ts=ModerationCase.alert_ts,
)


class CaseAlerts(SlackAdapter):
    def __init__(self, wiring: SlackWiring, *, permalinks: Permalinks) -> None:
        super().__init__(wiring)
        self._channel = wiring.settings.review_channel
        self._language = wiring.settings.default_locale
        self._permalinks = permalinks
        self._post = ReviewPost(wiring, _PLACEMENT, render=self._render, what="case", unfurl=False)

    def _render(self, public_id: str) -> Rendered:
        with self._session_factory() as session:
            channel_id, ts = reading.message_of(session, public_id)
        link = self._permalinks(channel_id, ts)  # outside the session: a Slack call
        with self._session_factory() as session:
            item = reading.case_item(session, public_id, permalink=link)
        return Rendered(
            blocks=to_dicts(alert_blocks(item, self._language)),
            text=alert_text(item, self._language),
        )

    def post(self, public_id: str) -> bool:
        """Post a new case; False if already posted or nowhere to post."""
        return self._post.post(public_id)

    def refresh(self, public_id: str) -> None:
        self._post.refresh(public_id, post_if_missing=False)

    def post_waiting(self, public_ids: Iterable[str]) -> dict[str, int]:
        return self._post.post_waiting(public_ids)

    def announce(self, opened: Opened) -> None:
        """After a report or a detection committed: a new case posted, a merged one updated."""
        if opened.new_case:
            best_effort("case alert", self.post, opened.public_id)
        elif opened.new_report:
            best_effort("case alert update", self.refresh, opened.public_id)

    def follow_up(self, public_id: str, changes: Sequence[str]) -> None:
        """A reply under the alert when an edit request's deadline passes; the alert shows it."""
        where = self._post.location(public_id)
        text = follow_up_text(self._language, public_id=public_id, changes=changes)
        if where is not None:
            self._client.chat_postMessage(channel=where[0], thread_ts=where[1], text=text)
        elif self._channel:
            self._client.chat_postMessage(channel=self._channel, text=text)
        self.refresh(public_id)

    def linked(self, page: CasesPage, refs: Sequence[AlertRef]) -> CasesPage:
        """The page with a link to each case's alert (where Slack gives one)."""
        lines = tuple(
            replace(line, alert_link=self._permalinks(*ref))
            for line, ref in zip(page.lines, refs, strict=True)
        )
        return replace(page, lines=lines)
