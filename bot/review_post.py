"""The secretariat's message about one record (an application, a channel request, a case):
posted to the review channel once, then edited in place as the record changes.

One shape for every feature: the record's table keeps where the message is (channel id and
ts); storing it is a guarded UPDATE, so when two processes post the same record at once the
loser deletes its own copy and one message remains."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    blocks: list[dict[str, Any]]
    text: str  # the notification fallback


@dataclass(frozen=True)
class Placement:
    """Where a record's message lives: columns of the record's own table."""

    key: InstrumentedAttribute[Any]  # e.g. Application.public_id
    channel: InstrumentedAttribute[Any]  # e.g. Application.review_channel_id
    ts: InstrumentedAttribute[Any]  # e.g. Application.review_message_ts


class ReviewPost(SlackAdapter):
    def __init__(
        self,
        wiring: SlackWiring,
        placement: Placement,
        *,
        render: Callable[[str], Rendered],
        what: str,
        unfurl: bool = True,
    ) -> None:
        super().__init__(wiring)
        self._channel = wiring.settings.review_channel
        self._placement = placement
        self._render = render
        self._what = what  # for the log: "application", "channel request", "case"
        self._unfurl = unfurl

    def location(self, key: str) -> tuple[str, str] | None:
        with self._session_factory() as session:
            row = session.execute(
                select(self._placement.channel, self._placement.ts).where(
                    self._placement.key == key
                )
            ).first()
        if row is None or not (row[0] and row[1]):
            return None
        return str(row[0]), str(row[1])

    def post(self, key: str) -> bool:
        """Post the record's message; False if it was already posted or there is nowhere."""
        if self._channel is None:
            log.warning("KYOSO_REVIEW_CHANNEL is not set: %s %s awaits review", self._what, key)
            return False
        if self.location(key) is not None:
            return False
        rendered = self._render(key)
        extra: dict[str, Any] = (
            {} if self._unfurl else {"unfurl_links": False, "unfurl_media": False}
        )
        posted = self._client.chat_postMessage(
            channel=self._channel, blocks=rendered.blocks, text=rendered.text, **extra
        )
        channel, ts = str(posted["channel"]), str(posted["ts"])
        if not self._store(key, channel, ts):
            # Another process posted the same record a moment earlier: keep one message.
            self._client.chat_delete(channel=channel, ts=ts)
            return False
        latest = self._render(key)
        if latest != rendered:  # the record changed while it was being posted
            self._update(channel, ts, latest)
        return True

    def post_waiting(self, keys: Iterable[str]) -> dict[str, int]:
        """Post the records whose message never reached the channel (Slack was down, or no
        channel was set); one that fails is logged and waits for the next run."""
        posted = failed = 0
        for key in keys:
            try:
                posted += self.post(key)
            except SLACK_CALL_ERRORS as exc:
                failed += 1
                log.warning("%s %s still not posted: %s", self._what, key, error_code(exc))
        return {"posted": posted, "failed": failed}

    def refresh(self, key: str, *, post_if_missing: bool = True) -> None:
        """Edit the message in place; post it first when it never reached the channel."""
        where = self.location(key)
        if where is None:
            if post_if_missing:
                self.post(key)
            return
        self._update(*where, self._render(key))

    def _store(self, key: str, channel: str, ts: str) -> bool:
        placement = self._placement
        with self._session_factory.begin() as session:
            stored = session.execute(
                update(placement.key.class_)
                .where(placement.key == key, placement.ts.is_(None))
                .values({placement.channel.key: channel, placement.ts.key: ts})
                .returning(placement.key)
            ).first()
            return stored is not None

    def _update(self, channel: str, ts: str, rendered: Rendered) -> None:
        self._client.chat_update(channel=channel, ts=ts, blocks=rendered.blocks, text=rendered.text)
