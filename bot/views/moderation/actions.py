"""The modal of a secretariat's action on a case: what it will do, the rule, the reason."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.moderation import RULE_KEYS, ActionForm, CaseAction
from bot.i18n import Language, t
from bot.timefmt import jst
from bot.views.blocks import ModalMetadata, cut


class CaseActionMetadata(ModalMetadata):
    case: str  # the case's public id
    action: CaseAction


def _explanation(form: ActionForm, language: Language, *, powers: bool, zone: ZoneInfo) -> str:
    """What submitting will do; deleting and removing depend on the admin token (`powers`)."""
    key = f"moderation.modal.{form.action.value}.explain"
    if form.action in (CaseAction.DELETE, CaseAction.REMOVE):
        key += "_token" if powers else "_manual"
    return t(
        key,
        language,
        author=f"<@{form.author_id}>",
        deadline=jst(form.edit_deadline, zone),
        days=str(form.edit_days),
    )


def action_modal(form: ActionForm, *, language: Language, powers: bool, zone: ZoneInfo) -> View:
    action = form.action
    key = f"moderation.modal.{action.value}"
    explained = _explanation(form, language, powers=powers, zone=zone)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=cut(explained)))]
    if action in (CaseAction.WARN, CaseAction.REQUEST_EDIT):
        options = [
            Option(value=rule, text=t(f"moderation.rule_name.{rule}", language))
            for rule in RULE_KEYS
        ]
        initial = next(o for o in options if o.value == form.default_rule)
        blocks.append(
            InputBlock(
                block_id=ids.MODERATION_RULE_BLOCK,
                label=t("moderation.modal.rule", language),
                element=StaticSelectElement(
                    action_id=ids.MODERATION_INPUT, options=options, initial_option=initial
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ids.MODERATION_REASON_BLOCK,
            label=t(f"{key}.label", language),
            element=PlainTextInputElement(
                action_id=ids.MODERATION_INPUT, multiline=True, max_length=2000
            ),
        )
    )
    return View(
        type="modal",
        callback_id=ids.MODERATION_ACTION_MODAL,
        private_metadata=CaseActionMetadata(case=form.public_id, action=action).dump(),
        title=t(f"{key}.title", language),
        submit=t(f"{key}.submit", language),
        close=t("moderation.modal.cancel", language),
        blocks=blocks,
    )
