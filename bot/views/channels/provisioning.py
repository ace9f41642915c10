"""What a new channel says first: its topic, its welcome message and its announcement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block

from bot.domain.channels import PURPOSE_MAX
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import context, mention, section
from bot.views.channels.common import channel_link, kind_label, short
from models import ChannelCategory

# --- the new channel's first message and its announcement ----------------------------------------


def welcome_blocks(
    *, purpose: str, facilitators: Sequence[str], requester: str, language: Language
) -> list[Block]:
    people = " ".join(mention(u) for u in facilitators) or mention(requester)
    return [
        section(t("channels.welcome.title", language)),
        section(f"*{t('channels.welcome.purpose', language)}*\n{escape_mrkdwn(purpose)}"),
        section(t("channels.welcome.facilitators", language, people=people)),
        section(
            f"*{t('channels.welcome.rules_title', language)}*\n{t('channels.welcome.rules', language)}"
        ),
    ]


def welcome_text(language: Language) -> str:
    return t("channels.welcome.title", language)


def topic_text(
    *,
    category: ChannelCategory,
    organisation: str | None,
    end_date: date | None,
    language: Language,
) -> str:
    parts = [kind_label(category, language)]
    if organisation:
        parts.append(t("channels.topic.organisation", language, organisation=organisation))
    if end_date:
        parts.append(t("channels.topic.until", language, date=end_date.strftime("%Y/%m/%d")))
    return " ｜ ".join(parts)[:PURPOSE_MAX]


def announcement_blocks(
    *, slack_channel_id: str, category: ChannelCategory, purpose: str, language: Language
) -> list[Block]:
    return [
        section(
            t(
                "channels.announce.text",
                language,
                channel=channel_link(slack_channel_id),
                kind=kind_label(category, language),
            )
        ),
        section(f"> {escape_mrkdwn(short(purpose, 500))}"),
        context(t("channels.announce.footer", language)),
    ]


def announcement_text(slack_channel_id: str, language: Language) -> str:
    return t("channels.announce.fallback", language, channel=channel_link(slack_channel_id))
