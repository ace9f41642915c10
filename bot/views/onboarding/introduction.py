"""Self-introduction: the modal, the post in the introduction channel, the one reminder."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.onboarding import IntroDraft, Introduction
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import ModalMetadata, context, field, section
from bot.views.onboarding.parts import channel_link

INTRO_NAME_MAX = 100
INTRO_FIELD_MAX = 150
INTRO_INTERESTS_MAX = 1500


class IntroModalMetadata(ModalMetadata):
    """The language the modal was opened in: its errors answer in the same one."""

    language: Language


def intro_modal(draft: IntroDraft, language: Language, *, intro_channel: str) -> View:
    def text_input(
        block_id: str,
        label_key: str,
        initial: str,
        max_length: int,
        *,
        optional: bool = True,
        multiline: bool = False,
        hint_key: str | None = None,
    ) -> InputBlock:
        element = PlainTextInputElement(
            action_id=ids.ONBOARDING_INTRO_INPUT,
            initial_value=initial[:max_length] or None,
            max_length=max_length,
            multiline=multiline,
            placeholder=t(hint_key, language)[:150] if hint_key else None,
        )
        return InputBlock(
            block_id=block_id,
            label=t(label_key, language),
            element=element,
            optional=optional,
        )

    return View(
        type="modal",
        callback_id=ids.ONBOARDING_INTRO_MODAL,
        title=t("onboarding.intro.modal.title", language)[:24],
        submit=t("onboarding.intro.modal.submit", language)[:24],
        close=t("onboarding.intro.modal.cancel", language)[:24],
        private_metadata=IntroModalMetadata(language=language).dump(),
        blocks=[
            context(
                t("onboarding.intro.modal.lead", language, channel=channel_link(intro_channel))
            ),
            text_input(
                ids.ONBOARDING_INTRO_NAME_BLOCK,
                "onboarding.intro.field.name",
                draft.name,
                INTRO_NAME_MAX,
                optional=False,
            ),
            text_input(
                ids.ONBOARDING_INTRO_ORGANISATION_BLOCK,
                "onboarding.intro.field.organisation",
                draft.organisation,
                INTRO_FIELD_MAX,
            ),
            text_input(
                ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK,
                "onboarding.intro.field.department",
                draft.department,
                INTRO_FIELD_MAX,
            ),
            text_input(
                ids.ONBOARDING_INTRO_INTERESTS_BLOCK,
                "onboarding.intro.field.interests",
                "",
                INTRO_INTERESTS_MAX,
                multiline=True,
                hint_key="onboarding.intro.field.interests_hint",
            ),
        ],
    )


def intro_post_blocks(intro: Introduction, language: Language) -> list[Block]:
    """Everything the member typed is escaped: it cannot mention, link or ping anyone."""
    title = t(
        "onboarding.intro.post.title",
        language,
        name=escape_mrkdwn(intro.name),
        mention=f"<@{intro.slack_user_id}>",
    )
    blocks: list[Block] = [section(f"*{title}*")]
    fields = [
        field(t(key, language), escape_mrkdwn(value))
        for key, value in (
            ("onboarding.intro.field.organisation", intro.organisation),
            ("onboarding.intro.field.department", intro.department),
        )
        if value
    ]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if intro.interests:
        label = t("onboarding.intro.field.interests", language)
        blocks.append(section(f"*{label}*\n{escape_mrkdwn(intro.interests)}"))
    blocks.append(context(t("onboarding.intro.post.footer", language)))
    return blocks


def intro_post_text(intro: Introduction, language: Language) -> str:
    return t("onboarding.intro.post.fallback", language, name=escape_mrkdwn(intro.name))


def intro_reminder_blocks(intro_channel: str, language: Language) -> list[Block]:
    return [
        section(
            f"*{t('onboarding.intro.reminder.title', language)}*\n"
            + t("onboarding.intro.reminder.text", language, channel=channel_link(intro_channel)),
            accessory=ButtonElement(
                text=t("onboarding.welcome.intro_button", language),
                action_id=ids.ONBOARDING_INTRO_OPEN,
                value="reminder",
            ),
        ),
        context(t("onboarding.intro.reminder.once", language)),
    ]


def intro_reminder_text(intro_channel: str, language: Language) -> str:
    return t("onboarding.intro.reminder.text", language, channel=channel_link(intro_channel))
