"""Deactivates Slack accounts: SCIM `DELETE /Users/{id}` (Business+ / Enterprise), else
`admin.users.remove` (Enterprise), else nothing: the secretariat gets a to-do list."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.scim import SCIMClient

from bot.domain.lifecycle import EndReason
from bot.services.lifecycle.deactivation import Deactivation
from bot.slack.wiring import SlackWiring
from bot.slack_errors import classify, error_code

# The admin token cannot use the admin API at all: stop asking for the rest of the batch.
_NO_ADMIN_API = ("not_allowed_token_type", "missing_scope", "not_an_enterprise")


@dataclass(frozen=True)
class Deactivators:
    """Held by the gateway: a fresh deactivator per approved batch, with the powers at hand."""

    wiring: SlackWiring

    def start(self) -> Deactivator:
        return Deactivator(self.wiring)


class Deactivator:
    """Deactivates with the best power the admin token has; remembers which powers failed so
    a batch does not ask again for each member."""

    def __init__(self, wiring: SlackWiring) -> None:
        self._bot = wiring.client
        self._admin = wiring.admin_client
        token = wiring.admin_token
        scim_url = wiring.settings.slack_scim_url
        self._scim = SCIMClient(token=token, base_url=scim_url) if token else None
        self._admin_api = wiring.admin_client is not None
        self._team_id: str | None = None

    def deactivate(self, slack_user_id: str) -> Deactivation:
        if self._scim is not None:
            try:
                response = self._scim.delete_user(slack_user_id)
            except (SlackClientError, OSError) as exc:
                return Deactivation(None, f"SCIM unreachable: {exc}", transient=True)
            if response.status_code in (200, 204):
                return Deactivation(EndReason.DEACTIVATED_SCIM)
            if response.status_code in (401, 403):
                self._scim = None  # no SCIM on this plan or token: try the admin API
            else:
                busy = response.status_code == 429 or response.status_code >= 500
                return Deactivation(None, f"SCIM HTTP {response.status_code}", transient=busy)
        if self._admin is not None and self._admin_api:
            try:
                if self._team_id is None:
                    self._team_id = str(self._bot.auth_test()["team_id"])
                self._admin.admin_users_remove(team_id=self._team_id, user_id=slack_user_id)
            except SlackApiError as exc:
                error = error_code(exc)
                if error in _NO_ADMIN_API:
                    self._admin_api = False
                    return Deactivation(None)
                return Deactivation(None, error, transient=classify(exc).transient)
            except (SlackClientError, OSError) as exc:
                return Deactivation(None, f"{type(exc).__name__}: {exc}", transient=True)
            return Deactivation(EndReason.DEACTIVATED_ADMIN_API)
        return Deactivation(None)
