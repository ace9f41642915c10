"""Small Block Kit pieces the onboarding messages share, cut to Slack's limits."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.onboarding import ChannelRef

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
MESSAGE_BLOCKS_MAX = 50


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:SECTION_TEXT_MAX])


def section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=md(text), **kwargs)


def context(text: str, **kwargs: Any) -> ContextBlock:
    return ContextBlock(elements=[md(text)], **kwargs)


def field(label: str, value: str) -> MarkdownTextObject:
    """A labelled field of a section: the label in bold, the value below."""
    return MarkdownTextObject(text=f"*{label}*\n{value}"[:FIELD_TEXT_MAX])


def channel_link(ref: ChannelRef | str) -> str:
    return f"<#{ref.slack_channel_id if isinstance(ref, ChannelRef) else ref}>"
