"""The Slack side of moderation: the case alert in the review channel (posted once, then
updated in place), DMs to authors, and the optional powers.

Optional powers (see SLACK-FACTS: what needs which plan and token):
- deleting a member's message needs a workspace Owner/Admin's user token (`chat.delete` with
  it; a bot deletes only its own messages);
- removing a member needs SCIM (`DELETE Users/<id>`, Business+ or Enterprise, token with
  `admin`) or `admin.users.remove` (Enterprise, org-wide token).
Without them, or when Slack refuses, the decision still stands and the alert shows the
secretariat a clear to-do instead. Nothing here logs message text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block
from slack_sdk.scim import SCIMClient
from sqlalchemy.orm import Session

from bot.db import SessionFactory
from bot.i18n import Language
from bot.services import moderation
from bot.views.moderation import (
    CaseItem,
    alert_blocks,
    alert_text,
    follow_up_text,
    to_dicts,
)
from models import ModerationCase

log = logging.getLogger(__name__)

# What a best-effort Slack call may raise once slack_sdk's retries are spent.
UNDELIVERED = (SlackApiError, SlackClientError, OSError)


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__


class Outcome(StrEnum):
    DONE = "done"
    GONE = "gone"  # the message had already been deleted
    MANUAL = "manual"  # the power is not configured: a to-do for the secretariat
    FAILED = "failed"  # Slack refused: a to-do, with Slack's answer


@dataclass(frozen=True)
class EffectResult:
    effect: str  # "dm" | "delete" | "remove"
    outcome: Outcome
    method: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome in (Outcome.DONE, Outcome.GONE)

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"effect": self.effect, "outcome": self.outcome.value}
        if self.method:
            details["method"] = self.method
        if self.error:
            details["error"] = self.error
        return details


def delete_message(admin: WebClient | None, *, channel_id: str, message_ts: str) -> EffectResult:
    """`chat.delete` with the admin user token; without one, a to-do."""
    if admin is None:
        return EffectResult("delete", Outcome.MANUAL)
    try:
        admin.chat_delete(channel=channel_id, ts=message_ts)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error == "message_not_found":
            return EffectResult("delete", Outcome.GONE, "chat.delete")
        log.warning("chat.delete refused for %s/%s: %s", channel_id, message_ts, error)
        return EffectResult("delete", Outcome.FAILED, "chat.delete", error)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.delete failed for %s/%s: %s", channel_id, message_ts, slack_error(exc))
        return EffectResult("delete", Outcome.FAILED, "chat.delete", slack_error(exc))
    return EffectResult("delete", Outcome.DONE, "chat.delete")


def remove_member(
    *, admin: WebClient | None, admin_token: str | None, scim_url: str, user_id: str
) -> EffectResult:
    """Deactivate through SCIM, else `admin.users.remove`; without either, a to-do."""
    if admin is None or admin_token is None:
        return EffectResult("remove", Outcome.MANUAL)
    errors: list[str] = []
    try:
        response = SCIMClient(token=admin_token, base_url=scim_url).delete_user(user_id)
        if response.status_code in (200, 204):
            return EffectResult("remove", Outcome.DONE, "SCIM")
        if response.status_code == 404:
            return EffectResult("remove", Outcome.FAILED, "SCIM", "user_not_found")
        errors.append(f"SCIM HTTP {response.status_code}")
    except (SlackClientError, OSError) as exc:
        errors.append(f"SCIM {slack_error(exc)}")
    try:
        team_id = admin.auth_test()["team_id"]
        admin.admin_users_remove(team_id=team_id, user_id=user_id)
    except UNDELIVERED as exc:
        errors.append(f"admin.users.remove {slack_error(exc)}")
        log.warning("could not remove %s: %s", user_id, "; ".join(errors))
        return EffectResult("remove", Outcome.FAILED, None, "; ".join(errors))
    return EffectResult("remove", Outcome.DONE, "admin.users.remove")


def send_dm(client: WebClient, *, user_id: str, blocks: Sequence[Block], text: str) -> EffectResult:
    try:
        client.chat_postMessage(
            channel=user_id, blocks=to_dicts(blocks), text=text, unfurl_links=False
        )
    except UNDELIVERED as exc:
        log.warning("DM to %s failed: %s", user_id, slack_error(exc))
        return EffectResult("dm", Outcome.FAILED, "chat.postMessage", slack_error(exc))
    return EffectResult("dm", Outcome.DONE, "chat.postMessage")


def permalink(client: WebClient, channel_id: str | None, ts: str | None) -> str | None:
    if not (channel_id and ts):
        return None
    try:
        return str(client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"])
    except UNDELIVERED as exc:
        log.info("no permalink for %s/%s: %s", channel_id, ts, slack_error(exc))
        return None


def case_item(session: Session, found: ModerationCase, link: str | None) -> CaseItem:
    reports = moderation.reports_of(session, found.id)
    return CaseItem(
        public_id=found.public_id,
        channel_id=found.channel_id,
        author_id=found.author_id,
        posted_at=moderation.posted_at(found),
        created_at=found.created_at,
        source=found.source.value,
        status=found.status,
        excerpt=found.excerpt,
        reasons=tuple(moderation.reason_counts(session, found)),
        report_count=len(reports),
        notes=tuple(r.note for r in reports if r.note),
        permalink=link,
        claimed_by=found.claimed_by,
        edit_deadline=found.edit_deadline,
        history=moderation.history_of(session, found.author_id, excluding=found.id),
        events=tuple(moderation.trail(session, found.public_id)),
    )


class CaseAlerts:
    """Each case's alert in the review channel: posted once, then updated in place."""

    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        client: WebClient,
        review_channel: str | None,
        language: Language,
    ) -> None:
        self._session_factory = session_factory
        self._client = client
        self._channel = review_channel
        self._language = language

    def _render(
        self, public_id: str, link: str | None = None
    ) -> tuple[ModerationCase, CaseItem, str | None]:
        """The case as the alert shows it, and the message's permalink (looked up once)."""
        with self._session_factory() as session:
            found = moderation.get(session, public_id)
            channel_id, ts = found.channel_id, found.message_ts
        if link is None:
            link = permalink(self._client, channel_id, ts)
        with self._session_factory() as session:
            found = moderation.get(session, public_id)
            return found, case_item(session, found, link), link

    def post(self, public_id: str) -> bool:
        """Post a new case; False if already posted or nowhere to post."""
        if self._channel is None:
            log.warning(
                "KYOSO_REVIEW_CHANNEL is not set: case %s awaits the secretariat", public_id
            )
            return False
        found, item, link = self._render(public_id)
        if found.alert_ts:
            return False
        posted = self._client.chat_postMessage(
            channel=self._channel,
            blocks=to_dicts(alert_blocks(item, self._language)),
            text=alert_text(item, self._language),
            unfurl_links=False,
            unfurl_media=False,
        )
        with self._session_factory.begin() as session:
            stored = moderation.set_alert(
                session, public_id=public_id, channel_id=posted["channel"], ts=posted["ts"]
            )
        if not stored:
            # Another process posted the same case a moment earlier: keep one alert.
            self._client.chat_delete(channel=posted["channel"], ts=posted["ts"])
            return False
        _, latest, _ = self._render(public_id, link)
        if latest != item:  # a report merged while posting
            self._update(posted["channel"], posted["ts"], latest)
        return True

    def refresh(self, public_id: str) -> None:
        """Update the alert in place. Not posted yet: its poster (the report or detection that
        opened the case, or the job) renders the latest state once it has posted."""
        with self._session_factory() as session:
            found = moderation.get(session, public_id)
            channel, ts = found.alert_channel_id, found.alert_ts
        if not (channel and ts):
            return
        _, item, _ = self._render(public_id)
        self._update(channel, ts, item)

    def _update(self, channel: str, ts: str, item: CaseItem) -> None:
        self._client.chat_update(
            channel=channel,
            ts=ts,
            blocks=to_dicts(alert_blocks(item, self._language)),
            text=alert_text(item, self._language),
        )

    def follow_up(self, public_id: str, changes: Sequence[str]) -> None:
        """A reply under the alert when an edit request's deadline passes; the alert shows it."""
        with self._session_factory() as session:
            found = moderation.get(session, public_id)
            channel, ts = found.alert_channel_id, found.alert_ts
        text = follow_up_text(self._language, public_id=public_id, changes=changes)
        if channel and ts:
            self._client.chat_postMessage(channel=channel, thread_ts=ts, text=text)
        elif self._channel:
            self._client.chat_postMessage(channel=self._channel, text=text)
        self.refresh(public_id)

    def alert_link(self, found: ModerationCase) -> str | None:
        return permalink(self._client, found.alert_channel_id, found.alert_ts)

    def unposted(self) -> list[str]:
        with self._session_factory() as session:
            return moderation.unposted(session)
