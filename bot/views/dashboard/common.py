"""Small pieces every dashboard view uses: Slack's limits, text blocks cut to fit, numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.i18n import Language, t
from bot.views.blocks import cut

HOME_BLOCK_LIMIT = 100
MESSAGE_BLOCK_LIMIT = 50
SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=cut(text, SECTION_TEXT_LIMIT))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=md(text))


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=cut(text, HEADER_LIMIT))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[md(text)])


def number(value: int) -> str:
    return f"{value:,}"


def rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def age(at: datetime, now: datetime, language: Language) -> str:
    """How long ago, in whole days past the first day: 3日 / 3 days."""
    elapsed = max(now - at, timedelta(0))
    if elapsed >= timedelta(days=1):
        return t("dashboard.age.days", language, days=number(elapsed.days))
    if elapsed >= timedelta(hours=1):
        return t("dashboard.age.hours", language, hours=str(elapsed.seconds // 3600))
    return t("dashboard.age.minutes", language)


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else ""
