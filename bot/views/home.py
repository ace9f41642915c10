from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.i18n import Language, t


@dataclass(frozen=True)
class HomeMember:
    user_id: str
    status: str | None  # a MemberStatus value, or None when Kyoso has no record


def home_view(member: HomeMember, language: Language) -> View:
    status_key = f"home.status.{member.status or 'unknown'}"
    blocks: list[Block] = [
        HeaderBlock(text=t("home.title", language)),
        SectionBlock(
            text=MarkdownTextObject(text=t("home.greeting", language, name=f"<@{member.user_id}>"))
        ),
        SectionBlock(
            text=MarkdownTextObject(text=t("home.status", language, status=t(status_key, language)))
        ),
        SectionBlock(text=MarkdownTextObject(text=t("home.help", language))),
    ]
    return View(type="home", blocks=blocks)
