"""`/kyoso channels`: the active channels by kind, a page at a time."""

from __future__ import annotations

from pydantic import Field
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot import ids
from bot.domain.channels import KIND_ORDER, LIST_PAGE_SIZE, ListingPage
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import ModalMetadata, context, section
from bot.views.channels.common import (
    MESSAGE_BLOCKS_MAX,
    PURPOSE_SHOWN,
    channel_link,
    chunks,
    kind_label,
    short,
)


class PageValue(ModalMetadata):
    """What a page button carries: the search word and the first channel of its page."""

    word: str = ""
    offset: int = Field(default=0, ge=0)


def page_value(word: str, offset: int) -> str:
    return PageValue(word=word[:100], offset=offset).dump()


def parse_page_value(value: str | None) -> tuple[str, int]:
    page = PageValue.load(value) or PageValue()
    return page.word, page.offset


def listing_blocks(page: ListingPage, language: Language) -> list[Block]:
    def tr(key: str, **params: str) -> str:
        return t(f"channels.list.{key}", language, **params)

    if page.total == 0:
        key = "empty_word" if page.word else "empty"
        return [section(tr(key, word=escape_mrkdwn(page.word)))]
    title = tr("title_word", word=escape_mrkdwn(page.word)) if page.word else tr("title")
    counts = "　".join(
        f"{kind_label(kind, language)} {page.counts.get(kind, 0)}"
        for kind in KIND_ORDER
        if page.counts.get(kind)
    )
    blocks: list[Block] = [
        section(f"*{title}*\n" + tr("summary", total=str(page.total), counts=counts)),
    ]
    for kind in KIND_ORDER:
        lines = [
            tr(
                "line",
                channel=channel_link(c.slack_channel_id),
                purpose=escape_mrkdwn(short(c.purpose, PURPOSE_SHOWN)) if c.purpose else "",
            ).rstrip(" —")
            for c in page.channels
            if c.category is kind
        ]
        if not lines:
            continue
        blocks.append(section(f"*{kind_label(kind, language)}*"))
        blocks.extend(section(chunk) for chunk in chunks(lines))
    end = page.offset + len(page.channels)
    blocks.append(
        context(tr("range", start=str(page.offset + 1), end=str(end), total=str(page.total)))
    )
    buttons = []
    if page.offset > 0:
        buttons.append(
            ButtonElement(
                text=tr("previous"),
                action_id=ids.CHANNELS_PAGE_PREVIOUS,
                value=page_value(page.word, max(0, page.offset - LIST_PAGE_SIZE)),
            )
        )
    if end < page.total:
        buttons.append(
            ButtonElement(
                text=tr("next"),
                action_id=ids.CHANNELS_PAGE_NEXT,
                value=page_value(page.word, end),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=ids.CHANNELS_PAGE_BLOCK, elements=buttons))
    if page.managed:
        blocks.append(DividerBlock())
        blocks.append(section(tr("managed")))
        for listed in page.managed[:5]:
            blocks.append(
                section(
                    channel_link(listed.slack_channel_id),
                    accessory=ButtonElement(
                        text=tr("edit"),
                        action_id=ids.CHANNEL_EDIT_OPEN,
                        value=listed.slack_channel_id,
                    ),
                )
            )
    if not page.word and page.total > LIST_PAGE_SIZE:
        blocks.append(context(tr("narrow")))
    return blocks[:MESSAGE_BLOCKS_MAX]
