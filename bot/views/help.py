from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import Language, t


def help_blocks(language: Language, command_help_keys: Sequence[str]) -> list[Block]:
    lines = "\n".join(f"• {t(key, language)}" for key in command_help_keys)
    return [
        HeaderBlock(text=t("help.title", language)),
        SectionBlock(text=MarkdownTextObject(text=t("help.intro", language))),
        SectionBlock(text=MarkdownTextObject(text=lines)),
        DividerBlock(),
        ContextBlock(elements=[MarkdownTextObject(text=t("help.footer", language))]),
    ]


def notice_blocks(text: str) -> list[Block]:
    """A single polite sentence, for answers such as an unknown subcommand."""
    return [SectionBlock(text=MarkdownTextObject(text=text))]
