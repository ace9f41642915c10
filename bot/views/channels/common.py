"""Pieces every channel view uses: text within Block Kit's limits, mentions and links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    UserMultiSelectElement,
)

from bot import ids
from bot.domain.channels import MAX_FACILITATORS, PURPOSE_MAX
from bot.i18n import Language, t
from bot.views.blocks import SECTION_TEXT_MAX
from models import ChannelCategory

MESSAGE_BLOCKS_MAX = 50
OPTION_TEXT_MAX = 75
PURPOSE_SHOWN = 80  # characters of a purpose in a list line


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


# --- the fields the request modal and the edit modal share ----------------------------------------


def form_field(
    block_id: str,
    key: str,
    element: InputInteractiveElement,
    language: Language,
    *,
    hint: bool = False,
    optional: bool | None = None,
) -> InputBlock:
    """One field of a channel form, labelled (and hinted) by `channels.form.<key>`."""
    return InputBlock(
        block_id=block_id,
        label=t(f"channels.form.{key}", language),
        hint=t(f"channels.form.{key}_hint", language) if hint else None,
        optional=optional,
        element=element,
    )


def purpose_input(purpose: str | None) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=ids.CHANNEL_INPUT,
        multiline=True,
        max_length=PURPOSE_MAX,
        initial_value=purpose or None,
    )


def facilitators_input(facilitators: Sequence[str]) -> UserMultiSelectElement:
    return UserMultiSelectElement(
        action_id=ids.CHANNEL_INPUT,
        initial_users=list(facilitators) or None,
        max_selected_items=MAX_FACILITATORS,
    )


def end_date_input(end_date: date | None) -> DatePickerElement:
    return DatePickerElement(
        action_id=ids.CHANNEL_INPUT,
        initial_date=end_date.isoformat() if end_date else None,
    )
