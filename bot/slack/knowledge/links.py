"""The workspace's URL (https://<domain>.slack.com/), asked of Slack once per process.

Links to threads are built from it in Slack's permalink form (bot/views/knowledge/search.py)
rather than fetched with chat.getPermalink: that would be a Web API call per result, five on
every page a member turns and three for every suggestion, all while the member waits. One
auth.test answers it for good (the slash command's `CommandCall` and events carry no domain);
a click's own `team.domain` answers it without a call."""

from __future__ import annotations

import logging
import re
import threading
import time

from slack_sdk import WebClient

from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60.0  # after a failure, links are left out this long before asking again
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class WorkspaceLinks:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._url: str | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def workspace_url(self, team_domain: object = None) -> str | None:
        """None while Slack cannot say: results are then shown without their links.

        A click or a submission carries the workspace's domain (`team.domain`, signed by
        Slack): it answers at once, so a modal's 3-second answer never waits on auth.test."""
        with self._lock:
            if self._url is not None:
                return self._url
            if isinstance(team_domain, str) and _DOMAIN.fullmatch(team_domain):
                self._url = f"https://{team_domain}.slack.com/"
                return self._url
            if self._failed_at is not None and (
                time.monotonic() - self._failed_at < RETRY_AFTER_SECONDS
            ):
                return None
            try:
                url = str(self._client.auth_test().get("url") or "")
            except SLACK_CALL_ERRORS as exc:
                log.warning("workspace URL unknown (auth.test failed: %s)", error_code(exc))
                url = ""
            if url.startswith("https://"):
                self._url = url
            else:
                self._failed_at = time.monotonic()
            return self._url
