"""Reporting a message (any member): the modal, a polite notice, the thanks."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.moderation import ReportReason
from bot.i18n import Language, t
from bot.views.blocks import ModalMetadata
from bot.views.moderation.words import reason_label


class ReportMetadata(ModalMetadata):
    """The reported message, from the shortcut to the submission (the excerpt is masked)."""

    channel_id: str
    message_ts: str
    author_id: str
    excerpt: str = ""


def report_modal(language: Language, *, metadata: ReportMetadata) -> View:
    options = [
        Option(value=reason.value, text=t(f"moderation.reason.{reason.value}", language))
        for reason in ReportReason
    ]
    return View(
        type="modal",
        callback_id=ids.MODERATION_REPORT_MODAL,
        private_metadata=metadata.dump(),
        title=t("moderation.report.title", language),
        submit=t("moderation.report.submit", language),
        close=t("moderation.modal.cancel", language),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=t("moderation.report.intro", language))),
            InputBlock(
                block_id=ids.MODERATION_REPORT_REASON_BLOCK,
                label=t("moderation.report.reason", language),
                element=RadioButtonsElement(action_id=ids.MODERATION_INPUT, options=options),
            ),
            InputBlock(
                block_id=ids.MODERATION_REPORT_NOTE_BLOCK,
                label=t("moderation.report.note", language),
                hint=t("moderation.report.note_hint", language),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.MODERATION_INPUT, multiline=True, max_length=1000
                ),
            ),
        ],
    )


def notice_modal(language: Language, key: str) -> View:
    """A modal with one polite sentence and a close button (no submission)."""
    return View(
        type="modal",
        callback_id=ids.MODERATION_NOTICE_MODAL,
        title=t("moderation.report.title", language),
        close=t("moderation.modal.close", language),
        blocks=[SectionBlock(text=MarkdownTextObject(text=t(key, language)))],
    )


def thanks_text(language: Language, *, reason: str, again: bool) -> str:
    key = "moderation.report.thanks_again" if again else "moderation.report.thanks"
    return t(key, language, reason=reason_label(reason, language))
