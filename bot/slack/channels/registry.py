"""The registry's view of Slack: the nightly sync of every public channel, and what Slack
says of a channel an event names but the registry has not seen.

`conversations.list` is Tier 2 (about 20 calls a minute): one page every 3 s. slack_sdk's
retry handlers honour `Retry-After` should Slack still answer 429."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from bot.domain.channels import SlackChannel
from bot.services.channels import registry
from bot.slack.channels.base import TIER2_PACE_SECONDS, ChannelAdapter, Pacer
from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)

SYNC_PAGE_SIZE = 200


class RegistrySync(ChannelAdapter):
    def channel_info(self, slack_channel_id: str) -> SlackChannel | None:
        try:
            data = self._client.conversations_info(channel=slack_channel_id)["channel"]
        except SLACK_CALL_ERRORS as exc:
            log.warning("conversations.info %s failed: %s", slack_channel_id, error_code(exc))
            return None
        return SlackChannel.from_payload(data)

    def info_if_unknown(self, slack_channel_id: str) -> SlackChannel | None:
        """An event about a channel the registry has not seen: ask Slack for the rest."""
        with self._session_factory() as session:
            if registry.is_known(session, slack_channel_id):
                return None
        return self.channel_info(slack_channel_id)

    def sync(
        self, *, page_size: int = SYNC_PAGE_SIZE, pace_seconds: float = TIER2_PACE_SECONDS
    ) -> dict[str, Any]:
        """Every public channel, archived ones included, page by page with Slack's cursor."""
        pacer = Pacer(pace_seconds)
        seen: set[str] = set()
        changes: Counter[str] = Counter()
        pages = 0
        cursor = ""
        while True:
            pacer.wait()
            try:
                response = self._client.conversations_list(
                    types="public_channel",
                    exclude_archived=False,
                    limit=page_size,
                    cursor=cursor or None,
                )
            except SLACK_CALL_ERRORS as exc:
                error = error_code(exc)
                log.warning("channel sync stopped after %d pages: %s", pages, error)
                return {"pages": pages, "channels": len(seen), "error": error, **changes}
            pages += 1
            with self._session_factory.begin() as session:
                for data in response.get("channels") or []:
                    slack_channel = SlackChannel.from_payload(data)
                    if slack_channel.is_private:
                        continue
                    seen.add(slack_channel.id)
                    _, changed = registry.apply_slack_channel(
                        session, clock=self._clock, slack_channel=slack_channel
                    )
                    changes.update(c.value for c in changed)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
        with self._session_factory.begin() as session:
            return registry.finish_sync(
                session, clock=self._clock, seen=seen, pages=pages, changes=changes
            )
