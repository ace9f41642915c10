"""What Slack knows about members, read in bulk and applied a page at a time
(bot/services/lifecycle/directory.py decides what each page changes).

- `sync_users`: pages through `users.list` (200 a page, Tier 2: about 16 pages a minute here).
  About 75 pages, 5 minutes, for 15,000 members.
- `import_access_logs`: last logins from `team.accessLogs` (paid plans, an admin user token).
  On a free plan Slack answers `paid_only`: the import says so and Kyoso relies on the
  activity it sees.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.services.lifecycle import directory
from bot.services.lifecycle.directory import AccessLogImport, UsersSync
from bot.slack.lifecycle.pacing import Progress, TokenBucket, bulk_per_minute, pages
from bot.slack.transfers.checks import AffiliationChecks
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import error_code

log = logging.getLogger(__name__)

USERS_PAGE = 200  # Slack's maximum for users.list
ACCESS_LOGS_PAGE = 1000  # team.accessLogs' maximum


class SlackDirectory(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._admin = wiring.admin_client
        self._changes = AffiliationChecks(wiring)

    def sync_users(
        self, *, bucket: TokenBucket | None = None, progress: Progress | None = None
    ) -> UsersSync:
        """Bring members up to date with users.list; one transaction per page."""
        bucket = bucket or TokenBucket(bulk_per_minute("users.list"))
        result = UsersSync()
        # The workspace's own team: a user of another one is a Slack Connect user.
        home_team = str(self._client.auth_test()["team_id"])
        for page in pages(bucket, self._client.users_list, "members", limit=USERS_PAGE):
            with self._session_factory.begin() as session:
                changes = directory.apply_users_page(
                    session, clock=self._clock, users=page, result=result, home_team=home_team
                )
            self._changes.follow_up(changes)  # cards and DMs, after the page is committed
            result.pages += 1
            result.seen += len(page)
            if progress is not None:
                progress(result.seen, None)
        return result

    def import_access_logs(
        self, *, bucket: TokenBucket | None = None, progress: Progress | None = None
    ) -> AccessLogImport:
        """Last logins, newest first, until the log holds nothing Kyoso does not know."""
        result = AccessLogImport()
        if self._admin is None:
            result.skipped = "no admin user token"
            return result
        bucket = bucket or TokenBucket(bulk_per_minute("team.accessLogs"))
        with self._session_factory() as session:
            known_before = directory.known_logins_before(session)
        logs = pages(bucket, self._admin.team_accessLogs, "logins", limit=ACCESS_LOGS_PAGE)
        try:
            for page in logs:
                result.pages += 1
                result.entries += len(page)
                with self._session_factory.begin() as session:
                    result.updated += directory.record_logins(session, entries=page)
                if progress is not None:
                    progress(result.entries, None)
                if directory.import_done(page, known_before=known_before, pages=result.pages):
                    break
        except SlackApiError as exc:
            if result.pages:
                raise
            # paid_only (free plan), missing_scope, not_allowed_token_type: quietly skipped;
            # `kyoso doctor` explains. Inactivity then rests on the activity Kyoso sees.
            result.skipped = error_code(exc)
            log.info(
                "team.accessLogs unavailable (%s); using activity seen by the bot", result.skipped
            )
        return result
