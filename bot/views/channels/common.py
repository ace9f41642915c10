"""Pieces every channel view uses: text within Block Kit's limits, mentions and links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, Option, SectionBlock

from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from models import ChannelCategory

SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
OPTION_TEXT_MAX = 75
PURPOSE_SHOWN = 80  # characters of a purpose in a list line


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:SECTION_TEXT_MAX])


def section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=md(text), **kwargs)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[md(text)])


def chunks(lines: Sequence[str], limit: int = SECTION_TEXT_MAX - 100) -> list[str]:
    """Lines packed into as few section texts as fit (3,000 characters each)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line[:limit]
        if current and size + len(line) + 1 > limit:
            out.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append("\n".join(current))
    return out


def mention(user_id: str) -> str:
    return f"<@{user_id}>" if user_id[:1] in ("U", "W") else escape_mrkdwn(user_id)


def channel_link(slack_channel_id: str) -> str:
    return f"<#{slack_channel_id}>"


def kind_label(category: ChannelCategory | str, language: Language) -> str:
    value = category.value if isinstance(category, ChannelCategory) else category
    return t(f"channels.kind.{value}", language)


def short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def option(value: str, text: str, description: str | None = None) -> Option:
    return Option(
        value=value,
        text=short(text, OPTION_TEXT_MAX),
        description=short(description, OPTION_TEXT_MAX) if description else None,
    )
