"""The Slack side of a member's clicks in onboarding messages: the acceptance recorded in the
message itself, an invitation to a suggested channel, the introduction modal and its post."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.onboarding import AcceptedState, IntroDraft, Introduction
from bot.i18n import Language
from bot.slack_errors import error_code
from bot.views.blocks import to_dicts
from bot.views.onboarding.introduction import intro_modal, intro_post_blocks, intro_post_text
from bot.views.onboarding.rules import after_acceptance

log = logging.getLogger(__name__)

Invited = Literal["done", "already", "link"]


@dataclass(frozen=True)
class OnboardingReplies:
    client: WebClient
    # The introduction channel is shared by everyone: it reads in the workspace's language.
    channel_language: Language

    def record_acceptance(
        self,
        *,
        channel_id: str,
        ts: str,
        blocks: Sequence[dict[str, Any]],
        text: str,
        accepted: AcceptedState,
        language: Language,
    ) -> None:
        """The welcome DM or a re-ask: the button becomes the record of acceptance."""
        self.client.chat_update(
            channel=channel_id,
            ts=ts,
            blocks=after_acceptance(blocks, accepted, language),
            text=text,
        )

    def invite(self, *, channel_id: str, user_id: str) -> Invited:
        """Slack refuses where Kyoso is not in the channel: the member gets a link instead."""
        try:
            self.client.conversations_invite(channel=channel_id, users=user_id)
        except SlackApiError as exc:
            error = error_code(exc)
            if error == "already_in_channel":
                return "already"
            log.info("could not invite %s to %s: %s", user_id, channel_id, error)
            return "link"
        return "done"

    def open_introduction(
        self, *, trigger_id: str, draft: IntroDraft, language: Language, intro_channel: str
    ) -> None:
        view = intro_modal(draft, language, intro_channel=intro_channel)
        self.client.views_open(trigger_id=trigger_id, view=view.to_dict())

    def post_introduction(self, intro: Introduction, *, intro_channel: str) -> None:
        self.client.chat_postMessage(
            channel=intro_channel,
            blocks=to_dicts(intro_post_blocks(intro, self.channel_language)),
            text=intro_post_text(intro, self.channel_language),
            unfurl_links=False,
            unfurl_media=False,
        )
