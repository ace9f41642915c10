"""Block Kit for publishing a new version of the usage rules from Slack (`/kyoso rules
publish`): the form, its preview in both languages (「公開する」 / 「戻る」) and what the
modal shows once published. The texts are the secretariat's own mrkdwn, shown as written."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import SECTION_TEXT_MAX, ModalMetadata, context, section

K = "secretariat.rules"
# One input holds at most 3,000 characters (Slack): a text fits one section of the preview.
TEXT_MAX = SECTION_TEXT_MAX
SUMMARY_MAX = 500
VERSION_MAX = 32


class RulesPreviewMetadata(ModalMetadata):
    """The short fields travel in the metadata; the texts are the preview's own sections."""

    language: Language
    version: str
    summary: str = ""


@dataclass(frozen=True)
class RulesForm:
    """What the form holds (empty when it first opens)."""

    version: str = ""
    text_ja: str = ""
    text_en: str = ""
    summary: str = ""


def _input(
    block_id: str, key: str, language: Language, *, value: str, max_length: int, multiline: bool
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=t(f"{K}.form.{key}", language),
        hint=t(f"{K}.form.{key}_hint", language),
        element=PlainTextInputElement(
            action_id=ids.SECRETARIAT_RULES_INPUT,
            multiline=multiline,
            max_length=max_length,
            initial_value=value or None,
        ),
    )


def form_modal(language: Language, form: RulesForm | None = None) -> View:
    form = form or RulesForm()
    return View(
        type="modal",
        callback_id=ids.SECRETARIAT_RULES_EDIT_MODAL,
        private_metadata=RulesPreviewMetadata(language=language, version="").dump(),
        title=t(f"{K}.title", language),
        submit=t(f"{K}.form.submit", language),
        close=t(f"{K}.form.cancel", language),
        blocks=[
            context(t(f"{K}.form.intro", language)),
            _input(
                ids.SECRETARIAT_RULES_VERSION_BLOCK,
                "version",
                language,
                value=form.version,
                max_length=VERSION_MAX,
                multiline=False,
            ),
            _input(
                ids.SECRETARIAT_RULES_JA_BLOCK,
                "text_ja",
                language,
                value=form.text_ja,
                max_length=TEXT_MAX,
                multiline=True,
            ),
            _input(
                ids.SECRETARIAT_RULES_EN_BLOCK,
                "text_en",
                language,
                value=form.text_en,
                max_length=TEXT_MAX,
                multiline=True,
            ),
            _input(
                ids.SECRETARIAT_RULES_SUMMARY_BLOCK,
                "summary",
                language,
                value=form.summary,
                max_length=SUMMARY_MAX,
                multiline=True,
            ),
        ],
    )


def preview_modal(form: RulesForm, language: Language) -> View:
    """The new version as members will read it, in Japanese then English."""
    meta = RulesPreviewMetadata(language=language, version=form.version, summary=form.summary)
    blocks: list[Block] = [
        section(t(f"{K}.preview.intro", language, version=escape_mrkdwn(form.version))),
        context(t(f"{K}.preview.summary", language, summary=escape_mrkdwn(form.summary))),
        DividerBlock(),
        HeaderBlock(text=t(f"{K}.preview.ja", language)),
        section(form.text_ja, block_id=ids.SECRETARIAT_RULES_PREVIEW_JA_BLOCK),
        DividerBlock(),
        HeaderBlock(text=t(f"{K}.preview.en", language)),
        section(form.text_en, block_id=ids.SECRETARIAT_RULES_PREVIEW_EN_BLOCK),
        DividerBlock(),
        context(t(f"{K}.preview.ask_again", language)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t(f"{K}.preview.back", language),
                    action_id=ids.SECRETARIAT_RULES_BACK,
                    value="back",
                )
            ]
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.SECRETARIAT_RULES_PREVIEW_MODAL,
        private_metadata=meta.dump(),
        title=t(f"{K}.title", language),
        submit=t(f"{K}.preview.publish", language),
        close=t(f"{K}.form.cancel", language),
        blocks=blocks,
    )


def notice_modal(text: str, language: Language) -> View:
    """What the modal shows once published, or why it could not be."""
    return View(
        type="modal",
        title=t(f"{K}.title", language),
        close=t(f"{K}.done.close", language),
        blocks=[section(text)],
    )


def published_text(version: str, language: Language) -> str:
    return t(f"{K}.done.published", language, version=escape_mrkdwn(version))


def form_error(code: str, language: Language) -> str:
    return t(f"{K}.error.{code}", language)
