"""Announcements' messages: the member's DM (with 「このカテゴリを受け取らない」 on optional
categories), the progress message in the review channel, the compose modal and the
confirmation with its preview. Pure builders in one language."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.i18n import Language, t
from bot.regions import PREFECTURES
from bot.views.blocks import (
    Choice,
    ModalMetadata,
    confirm_dialog,
    context,
    cut,
    decision_row,
    mention,
    section,
)
from models import AnnouncementCategory, AnnouncementStatus
from models.announcement import OPTIONAL_CATEGORIES

AUDIENCE_KINDS = ("everyone", "prefectures", "organisation_kind", "roles", "channel", "users")
GROUP_VALUES = ("local_government", "agency", "facilitator", "ambassador")


def dm_block_id(key: str) -> str:
    """The first block of every announcement DM: how a restarted sender recognises it."""
    return f"{ids.ANNOUNCE_DM_BLOCK}:{key}"


def _category(category: AnnouncementCategory, language: Language) -> str:
    return t(f"secretariat.announce.category.{category.value}", language)


def dm_blocks(
    *,
    key: str,
    title: str,
    text_ja: str,
    text_en: str | None,
    category: AnnouncementCategory,
    language: Language,
) -> list[Block]:
    """The announcement as the member sees it: English when they read English and there is
    an English text, Japanese otherwise."""
    text = text_en if language == "en" and text_en else text_ja
    blocks: list[Block] = [
        HeaderBlock(block_id=dm_block_id(key), text=cut(title, 150)),
        section(cut(text)),
        context(
            t("secretariat.announce.dm.footer", language, category=_category(category, language))
        ),
    ]
    if category in OPTIONAL_CATEGORIES:
        blocks.append(
            decision_row(
                value=key,
                choices=[
                    Choice(
                        t("secretariat.announce.dm.opt_out", language),
                        ids.ANNOUNCE_OPT_OUT,
                        confirm=confirm_dialog(
                            "secretariat.announce.opt_out_confirm",
                            language,
                            category=_category(category, language),
                        ),
                    )
                ],
            )
        )
    return blocks


def dm_text(title: str) -> str:
    return cut(title, 150)


def progress_blocks(
    *,
    public_id: str,
    title: str,
    status: AnnouncementStatus,
    planned: int,
    sent: int,
    failed: int,
    undeliverable: Sequence[tuple[str, str]],
    language: Language,
) -> list[Block]:
    """The review channel's message about one announcement, edited in place: the true counts,
    the controls while it runs, the undeliverable recipients at the end."""
    blocks: list[Block] = [
        section(
            t(
                "secretariat.announce.progress.head",
                language,
                title=cut(title, 150),
                status=t(f"secretariat.announce.status.{status.value}", language),
            ),
            block_id=f"{ids.ANNOUNCE_PROGRESS_BLOCK}{public_id}",
        ),
        section(
            t(
                "secretariat.announce.progress.counts",
                language,
                planned=planned,
                sent=sent,
                failed=failed,
                total=planned + sent + failed,
            )
        ),
    ]
    controls = {
        AnnouncementStatus.SENDING: ("pause", "cancel"),
        AnnouncementStatus.PAUSED: ("resume", "cancel"),
    }.get(status, ())
    if controls:
        blocks.append(
            decision_row(
                value=public_id,
                choices=[
                    Choice(
                        t(f"secretariat.announce.control.{action}", language),
                        ids.ANNOUNCE_CONTROL[action],
                        "danger" if action == "cancel" else None,
                    )
                    for action in controls
                ],
            )
        )
    if undeliverable and status in (AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED):
        lines = "\n".join(f"• {mention(user)} ({error})" for user, error in undeliverable)
        blocks.append(
            section(cut(t("secretariat.announce.progress.undeliverable", language) + "\n" + lines))
        )
    return blocks


def progress_text(title: str, language: Language) -> str:
    return t("secretariat.announce.progress.notification", language, title=cut(title, 150))


# --- composing ------------------------------------------------------------------------------


class ComposeMetadata(ModalMetadata):
    """The compose modal's own mark: a submission without it is not this modal's."""

    modal: str = "announce"


def _option(text: str, value: str) -> Option:
    return Option(text=text, value=value)


def compose_modal(metadata: ComposeMetadata, language: Language) -> View:
    def label(name: str) -> str:
        return t(f"secretariat.announce.modal.{name}", language)

    def text_input(block: str, name: str, *, multiline: bool, optional: bool = False) -> InputBlock:
        return InputBlock(
            block_id=block,
            label=label(name),
            optional=optional,
            element=PlainTextInputElement(
                action_id=ids.ANNOUNCE_INPUT,
                multiline=multiline,
                max_length=150 if not multiline else 2900,
            ),
        )

    return View(
        type="modal",
        callback_id=ids.ANNOUNCE_MODAL,
        private_metadata=metadata.dump(),
        title=label("title"),
        submit=label("submit"),
        close=label("cancel"),
        blocks=[
            text_input(ids.ANNOUNCE_TITLE_BLOCK, "headline", multiline=False),
            text_input(ids.ANNOUNCE_TEXT_JA_BLOCK, "text_ja", multiline=True),
            text_input(ids.ANNOUNCE_TEXT_EN_BLOCK, "text_en", multiline=True, optional=True),
            InputBlock(
                block_id=ids.ANNOUNCE_CATEGORY_BLOCK,
                label=label("category"),
                element=StaticSelectElement(
                    action_id=ids.ANNOUNCE_INPUT,
                    options=[
                        _option(_category(c, language), c.value) for c in AnnouncementCategory
                    ],
                ),
            ),
            InputBlock(
                block_id=ids.ANNOUNCE_AUDIENCE_BLOCK,
                label=label("audience"),
                element=StaticSelectElement(
                    action_id=ids.ANNOUNCE_INPUT,
                    options=[
                        _option(t(f"secretariat.announce.audience.{k}", language), k)
                        for k in AUDIENCE_KINDS
                    ],
                ),
            ),
            InputBlock(
                block_id=ids.ANNOUNCE_PREFECTURES_BLOCK,
                label=label("prefectures"),
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=ids.ANNOUNCE_INPUT,
                    options=[_option(p, p) for p in PREFECTURES],
                ),
            ),
            InputBlock(
                block_id=ids.ANNOUNCE_VALUES_BLOCK,
                label=label("groups"),
                optional=True,
                element=CheckboxesElement(
                    action_id=ids.ANNOUNCE_INPUT,
                    options=[
                        _option(t(f"secretariat.announce.group.{v}", language), v)
                        for v in GROUP_VALUES
                    ],
                ),
            ),
            InputBlock(
                block_id=ids.ANNOUNCE_CHANNEL_BLOCK,
                label=label("channel"),
                optional=True,
                element=ConversationSelectElement(
                    action_id=ids.ANNOUNCE_INPUT,
                    filter=ConversationFilter(include=["public", "private"]),
                ),
            ),
            text_input(ids.ANNOUNCE_USERS_BLOCK, "users", multiline=True, optional=True),
            context(label("hint")),
        ],
    )


def confirmation_blocks(
    *,
    public_id: str,
    preview: Sequence[Block],
    recipients: int,
    language: Language,
) -> list[Block]:
    """What the secretariat sees before sending: the DM as members will see it, how many
    receive it, a test send to oneself and 「送信する」."""
    return [
        section(t("secretariat.announce.confirm.head", language, recipients=recipients)),
        *[b for b in preview if b.type != "actions"],
        decision_row(
            value=public_id,
            choices=[
                Choice(t("secretariat.announce.confirm.test", language), ids.ANNOUNCE_TEST_SEND),
                Choice(
                    t("secretariat.announce.confirm.send", language),
                    ids.ANNOUNCE_SEND,
                    "primary",
                    confirm=confirm_dialog(
                        "secretariat.announce.send_confirm", language, recipients=recipients
                    ),
                ),
            ],
        ),
    ]
