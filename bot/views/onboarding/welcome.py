"""The welcome DM: greeting, the rules, channels to join, the invitation to introduce oneself."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement, DividerBlock, HeaderBlock

from bot import ids
from bot.domain.onboarding import Suggestions, Welcome
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.ambassadors.greetings import welcome_ambassadors_line
from bot.views.blocks import context, section
from bot.views.onboarding.parts import MESSAGE_BLOCKS_MAX, channel_link
from bot.views.onboarding.rules import rules_blocks


def welcome_blocks(
    welcome: Welcome, language: Language, *, intro_channel: str | None
) -> list[Block]:
    name = escape_mrkdwn(welcome.name) if welcome.name else f"<@{welcome.slack_user_id}>"
    blocks: list[Block] = [
        HeaderBlock(text=t("onboarding.welcome.title", language)),
        section(t("onboarding.welcome.greeting", language, name=name)),
        *_ambassador_blocks(welcome, language),
        *rules_blocks(welcome.rules, language),
        DividerBlock(),
        *_channel_blocks(welcome.suggestions, language),
    ]
    if intro_channel:
        blocks += [DividerBlock(), *intro_invitation(intro_channel, language)]
    blocks.append(context(t("onboarding.welcome.footer", language)))
    return blocks[:MESSAGE_BLOCKS_MAX]


def _ambassador_blocks(welcome: Welcome, language: Language) -> list[Block]:
    line = welcome_ambassadors_line(welcome.prefecture, welcome.ambassadors, language)
    return [section(line)] if line else []


def welcome_text(language: Language) -> str:
    return t("onboarding.welcome.fallback", language)


def _channel_blocks(suggestions: Suggestions, language: Language) -> list[Block]:
    blocks: list[Block] = []
    if suggestions.main:
        channels = "\n".join(f"• {channel_link(ref)}" for ref in suggestions.main)
        blocks.append(section(t("onboarding.welcome.main_channels", language, channels=channels)))
    suggested = [
        (
            ref,
            t(
                "onboarding.welcome.regional",
                language,
                channel=channel_link(ref),
                prefecture=escape_mrkdwn(ref.prefecture or ""),
            ),
        )
        for ref in suggestions.regional
    ] + [
        (ref, t("onboarding.welcome.theme", language, channel=channel_link(ref)))
        for ref in suggestions.themes
    ]
    if suggested:
        blocks.append(section(t("onboarding.welcome.suggestions", language)))
    for ref, text in suggested:
        blocks.append(
            section(
                text,
                block_id=f"{ids.ONBOARDING_JOIN_CHANNEL}:{ref.slack_channel_id}",
                accessory=ButtonElement(
                    text=t("onboarding.welcome.join_button", language),
                    action_id=ids.ONBOARDING_JOIN_CHANNEL,
                    value=ref.slack_channel_id,
                ),
            )
        )
    return blocks


def intro_invitation(intro_channel: str, language: Language) -> list[Block]:
    return [
        section(
            t("onboarding.welcome.intro", language, channel=channel_link(intro_channel)),
            accessory=ButtonElement(
                text=t("onboarding.welcome.intro_button", language),
                action_id=ids.ONBOARDING_INTRO_OPEN,
                value="intro",
            ),
        )
    ]


def join_result_text(key: str, channel_id: str, language: Language) -> str:
    """`done`, `already`, `link` (Slack refused the invite) or `refused` (not suggestible)."""
    url = f"https://slack.com/app_redirect?channel={channel_id}"
    return t(f"onboarding.join.{key}", language, channel=channel_link(channel_id), url=url)
