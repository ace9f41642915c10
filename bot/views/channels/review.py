"""The secretariat's review message of a channel request, its provisioning marks, and the
modal asking for a comment or a reason."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.channels import CLEARED_BY_A_PERSON, HistoryLine, RequestItem, Step
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import (
    Choice,
    confirm_dialog,
    context,
    decided_text,
    decision_row,
    field,
    mention,
    reason_input_modal,
    section,
)
from bot.views.channels.common import MESSAGE_BLOCKS_MAX, channel_link, kind_label
from bot.views.channels.metadata import DecisionModalMetadata
from models import ChannelCategory


def _request_fields(item: RequestItem, language: Language) -> list[MarkdownTextObject]:
    def label(key: str) -> str:
        return t(f"channels.review.{key}", language)

    dash = "—"
    facilitators = " ".join(mention(u) for u in item.facilitators) or dash
    fields = [
        field(label("name"), escape_mrkdwn(item.name)),
        field(label("kind"), kind_label(item.category, language)),
        field(label("requester"), mention(item.requester)),
        field(label("facilitators"), facilitators),
        field(label("organisation"), escape_mrkdwn(item.organisation or dash)),
    ]
    if item.category is ChannelCategory.RE or item.prefecture:
        fields.append(field(label("prefecture"), escape_mrkdwn(item.prefecture or dash)))
    fields.append(
        field(
            label("end_date"),
            item.end_date.strftime("%Y/%m/%d") if item.end_date else label("no_end_date"),
        )
    )
    fields.append(field(label("submitted"), slack_date(item.created_at)))
    return fields[:10]


def review_blocks(
    item: RequestItem, language: Language, *, history: Sequence[HistoryLine] = ()
) -> list[Block]:
    def label(key: str, **params: str) -> str:
        return t(f"channels.review.{key}", language, **params)

    blocks: list[Block] = [
        HeaderBlock(text=label("title")),
        SectionBlock(fields=_request_fields(item, language)),
        section(f"*{label('purpose')}*\n{escape_mrkdwn(item.purpose)}"),
        section(f"*{label('reason')}*\n{escape_mrkdwn(item.reason or '—')}"),
    ]
    if item.similar:
        names = "、".join(
            channel_link(s.slack_channel_id) if s.slack_channel_id else escape_mrkdwn(s.name)
            for s in item.similar
        )
        blocks.append(context(label("similar", channels=names)))
    for line in history:
        text = decided_text(
            f"channels.decided.{line.kind}",
            language,
            actor=line.actor,
            at=line.at,
            reason=line.reason,
        )
        blocks.append(context(text))
    if item.status == "pending":
        blocks.append(_decision_buttons(item, language))
    elif item.status == "returned":
        blocks.append(context(label("awaiting_resubmission")))
        blocks.append(
            decision_row(
                block_id=ids.CHANNEL_REVIEW_BLOCK,
                value=item.public_id,
                choices=[_reject(language)],
            )
        )
    elif item.status in ("approved", "provisioned"):
        blocks.extend(provisioning_blocks(item, language))
    return blocks[:MESSAGE_BLOCKS_MAX]


def _reject(language: Language) -> Choice:
    return Choice(t("channels.button.reject", language), ids.CHANNEL_REJECT, "danger")


def _decision_buttons(item: RequestItem, language: Language) -> ActionsBlock:
    confirm = confirm_dialog("channels.confirm", language, name=escape_mrkdwn(item.name[:100]))
    return decision_row(
        block_id=ids.CHANNEL_REVIEW_BLOCK,
        value=item.public_id,
        choices=[
            Choice(t("channels.button.approve", language), ids.CHANNEL_APPROVE, "primary", confirm),
            Choice(t("channels.button.return", language), ids.CHANNEL_RETURN),
            _reject(language),
        ],
    )


STEPS_SHOWN = (Step.CREATE, Step.PURPOSE, Step.INVITE, Step.WELCOME, Step.ANNOUNCE)


def provisioning_blocks(item: RequestItem, language: Language) -> list[Block]:
    marks = []
    for step in STEPS_SHOWN:
        if step is Step.ANNOUNCE and not item.announce:
            icon = "➖"
        elif step in item.done:
            icon = "✅"
        elif item.failure and item.failure[0] == step.value:
            icon = "⚠️"
        else:
            icon = "⏳"
        marks.append(f"{icon} {t(f'channels.step.{step.value}', language)}")
    blocks: list[Block] = [context("　".join(marks))]
    if item.status == "provisioned" and item.slack_channel_id:
        blocks.append(
            section(
                t(
                    "channels.review.provisioned",
                    language,
                    channel=channel_link(item.slack_channel_id),
                )
            )
        )
        return blocks
    if item.failure is not None:
        failed, error = item.failure
        blocks.append(section(failure_text(failed, error, item.name, language)))
        retry = Choice(t("channels.button.retry", language), ids.CHANNEL_RETRY, "primary")
        blocks.append(
            decision_row(block_id=ids.CHANNEL_REVIEW_BLOCK, value=item.public_id, choices=[retry])
        )
    return blocks


# Slack errors with their own explanation (a passing one too); anything else gets the generic one.
EXPLAINED_ERRORS = CLEARED_BY_A_PERSON | {"ratelimited", "connection"}


def failure_text(step: str, error: str, name: str, language: Language) -> str:
    key = error if error in EXPLAINED_ERRORS else "other"
    return (
        t(
            "channels.failure.title",
            language,
            step=t(f"channels.step.{step}", language) if step in {s.value for s in Step} else step,
            error=escape_mrkdwn(error),
        )
        + "\n"
        + t(
            f"channels.failure.{key}",
            language,
            name=escape_mrkdwn(name),
            error=escape_mrkdwn(error),
        )
    )


def review_text(item: RequestItem, language: Language) -> str:
    return t("channels.review.fallback", language, name=item.name)


def decision_modal(*, callback_id: str, public_id: str, language: Language, kind: str) -> View:
    """Asks the secretariat for a comment (return) or a reason (reject)."""
    return reason_input_modal(
        callback_id=callback_id,
        metadata=DecisionModalMetadata(public_id=public_id),
        texts="channels.modal",
        kind=kind,
        language=language,
        block_id=ids.CHANNEL_DECISION_BLOCK,
        action_id=ids.CHANNEL_INPUT,
    )
