"""Facilitators' tools: the edit modal, and the modal pointing a message to another
channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ExternalDataSelectElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.channels import Listed
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import mention, section
from bot.views.channels.common import (
    OPTION_TEXT_MAX,
    channel_link,
    end_date_input,
    facilitators_input,
    form_field,
    kind_label,
    option,
    purpose_input,
    short,
)
from bot.views.channels.metadata import EditModalMetadata, PointModalMetadata

# --- editing a channel ---------------------------------------------------------------------------


def edit_modal(
    *,
    slack_channel_id: str,
    name: str,
    purpose: str | None,
    facilitators: Sequence[str],
    end_date: date | None,
    language: Language,
) -> View:
    def tr(key: str, **params: str) -> str:
        return t(f"channels.edit.{key}", language, **params)

    return View(
        type="modal",
        callback_id=ids.CHANNEL_EDIT_MODAL,
        private_metadata=EditModalMetadata(
            slack_channel_id=slack_channel_id, language=language
        ).dump(),
        title=tr("title"),
        submit=tr("submit"),
        close=tr("cancel"),
        blocks=[
            section(tr("intro", name=escape_mrkdwn(name))),
            form_field(ids.CHANNEL_PURPOSE_BLOCK, "purpose", purpose_input(purpose), language),
            form_field(
                ids.CHANNEL_FACILITATORS_BLOCK,
                "facilitators",
                facilitators_input(facilitators),
                language,
                optional=True,
            ),
            form_field(
                ids.CHANNEL_END_DATE_BLOCK,
                "end_date",
                end_date_input(end_date),
                language,
                optional=True,
            ),
        ],
    )


# --- facilitator tools ---------------------------------------------------------------------------


def point_modal(*, channel_id: str, message_ts: str, author: str, language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.CHANNEL_POINT_MODAL,
        private_metadata=PointModalMetadata(
            slack_channel_id=channel_id, message_ts=message_ts, author=author, language=language
        ).dump(),
        title=t("channels.point.title", language),
        submit=t("channels.point.submit", language),
        close=t("channels.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.CHANNEL_POINT_TARGET_BLOCK,
                label=t("channels.point.target", language),
                element=ExternalDataSelectElement(
                    action_id=ids.CHANNEL_POINT_TARGET,
                    placeholder=t("channels.point.placeholder", language),
                    min_query_length=0,
                ),
            ),
            InputBlock(
                block_id=ids.CHANNEL_POINT_NOTE_BLOCK,
                label=t("channels.point.note", language),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.CHANNEL_INPUT, multiline=True, max_length=500
                ),
            ),
        ],
    )


def point_options(channels: Sequence[Listed], language: Language) -> list[dict[str, Any]]:
    """Options for the external select (at most 100)."""
    return [
        option(
            c.slack_channel_id,
            f"#{c.name}",
            short(c.purpose, OPTION_TEXT_MAX) if c.purpose else kind_label(c.category, language),
        ).to_dict()
        for c in channels[:100]
    ]


def pointer_text(*, author: str, target: str, note: str, language: Language) -> str:
    text = t("channels.point.reply", language, author=mention(author), channel=channel_link(target))
    if note.strip():
        text += "\n> " + escape_mrkdwn(note.strip()).replace("\n", "\n> ")
    return text
