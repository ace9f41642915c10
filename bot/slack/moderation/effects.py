"""What Slack does after the secretariat decided a case: a DM to the author, deleting the
message, removing the member; then the alert shows how it went.

Optional powers (see SLACK-FACTS: what needs which plan and token):
- deleting a member's message needs a workspace Owner/Admin's user token (`chat.delete` with
  it; a bot deletes only its own messages);
- removing a member needs SCIM (`DELETE Users/<id>`, Business+ or Enterprise, token with
  `admin`) or `admin.users.remove` (Enterprise, org-wide token).
Without them, or when Slack refuses, the decision still stands and the alert shows the
secretariat a clear to-do instead. Nothing here logs message text."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import Block
from slack_sdk.scim import SCIMClient

from bot.domain.moderation import CaseAction, EffectResult, Outcome
from bot.services.moderation import decisions
from bot.services.moderation.decisions import Decided
from bot.slack.moderation.alerts import CaseAlerts
from bot.slack.moderation.calls import UNDELIVERED, Permalinks, best_effort
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import error_code
from bot.views.blocks import to_dicts
from bot.views.moderation.messages import author_dm_blocks, author_dm_text

log = logging.getLogger(__name__)


class CaseEffects(SlackAdapter):
    def __init__(self, wiring: SlackWiring, *, permalinks: Permalinks, alerts: CaseAlerts) -> None:
        super().__init__(wiring)
        self._admin = wiring.admin_client
        self._admin_token = wiring.admin_token
        self._scim_url = wiring.settings.slack_scim_url
        self._permalinks = permalinks
        self._alerts = alerts

    @property
    def powers(self) -> bool:
        """Whether Kyoso may try to delete messages and remove members itself."""
        return self._admin is not None

    def carry_out(self, decided: Decided) -> None:
        """The Slack side of a decision that committed; what happened goes on the alert."""
        effect = self._effect(decided)
        if effect is not None:
            with self._session_factory.begin() as session:
                decisions.record_effect(session, clock=self._clock, decided=decided, effect=effect)
        self._alerts.refresh(decided.public_id)

    def thank(self, reporter_id: str, text: str) -> None:
        best_effort(
            "thanks DM", lambda: self._client.chat_postMessage(channel=reporter_id, text=text)
        )

    def _effect(self, decided: Decided) -> EffectResult | None:
        if decided.action in (CaseAction.WARN, CaseAction.REQUEST_EDIT):
            return self._dm_author(decided)
        if decided.action is CaseAction.DELETE:
            return self._delete_message(decided.channel_id, decided.message_ts)
        if decided.action is CaseAction.REMOVE:
            return self._remove_member(decided.author_id)
        return None

    def _dm_author(self, decided: Decided) -> EffectResult:
        language = self._locales.for_user(decided.author_id)
        blocks = author_dm_blocks(
            decided.action,
            language,
            channel_id=decided.channel_id,
            permalink=self._permalinks(decided.channel_id, decided.message_ts),
            rule=decided.rule,
            comment=decided.comment,
            deadline=decided.edit_deadline if decided.action is CaseAction.REQUEST_EDIT else None,
        )
        return self._send_dm(decided.author_id, blocks, author_dm_text(decided.action, language))

    def _send_dm(self, user_id: str, blocks: Sequence[Block], text: str) -> EffectResult:
        try:
            self._client.chat_postMessage(
                channel=user_id, blocks=to_dicts(blocks), text=text, unfurl_links=False
            )
        except UNDELIVERED as exc:
            log.warning("DM to %s failed: %s", user_id, error_code(exc))
            return EffectResult("dm", Outcome.FAILED, "chat.postMessage", error_code(exc))
        return EffectResult("dm", Outcome.DONE, "chat.postMessage")

    def _delete_message(self, channel_id: str, message_ts: str) -> EffectResult:
        """`chat.delete` with the admin user token; without one, a to-do."""
        if self._admin is None:
            return EffectResult("delete", Outcome.MANUAL)
        try:
            self._admin.chat_delete(channel=channel_id, ts=message_ts)
        except UNDELIVERED as exc:
            error = error_code(exc)
            if error == "message_not_found":
                return EffectResult("delete", Outcome.GONE, "chat.delete")
            log.warning("chat.delete failed for %s/%s: %s", channel_id, message_ts, error)
            return EffectResult("delete", Outcome.FAILED, "chat.delete", error)
        return EffectResult("delete", Outcome.DONE, "chat.delete")

    def _remove_member(self, user_id: str) -> EffectResult:
        """Deactivate through SCIM, else `admin.users.remove`; without either, a to-do."""
        if self._admin is None or self._admin_token is None:
            return EffectResult("remove", Outcome.MANUAL)
        errors: list[str] = []
        try:
            scim = SCIMClient(token=self._admin_token, base_url=self._scim_url)
            response = scim.delete_user(user_id)
            if response.status_code in (200, 204):
                return EffectResult("remove", Outcome.DONE, "SCIM")
            if response.status_code == 404:
                return EffectResult("remove", Outcome.FAILED, "SCIM", "user_not_found")
            errors.append(f"SCIM HTTP {response.status_code}")
        except (SlackClientError, OSError) as exc:
            errors.append(f"SCIM {error_code(exc)}")
        try:
            team_id = self._admin.auth_test()["team_id"]
            self._admin.admin_users_remove(team_id=team_id, user_id=user_id)
        except UNDELIVERED as exc:
            errors.append(f"admin.users.remove {error_code(exc)}")
            log.warning("could not remove %s: %s", user_id, "; ".join(errors))
            return EffectResult("remove", Outcome.FAILED, None, "; ".join(errors))
        return EffectResult("remove", Outcome.DONE, "admin.users.remove")
