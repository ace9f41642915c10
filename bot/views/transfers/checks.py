"""The affiliation check's card in the review channel (所属確認が必要) and the DMs of the flow:
the member's organisation updated from Slack, and the secretariat's question to the member.
Pure: plain data and a language in, blocks out."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from bot import ids
from bot.domain.transfer_checks import CheckCard
from bot.i18n import Language, t
from bot.i18n.reasons import stored_reason_text
from bot.text import escape_mrkdwn
from bot.views.blocks import (
    Choice,
    confirm_dialog,
    context,
    cut,
    decided_text,
    decision_row,
    field,
    mention,
    section,
)
from models import OPEN_CHECK_STATUSES

_NONE = "—"


def _value(text: str | None) -> str:
    return escape_mrkdwn(text) if text else _NONE


def check_text(card: CheckCard, language: Language) -> str:
    """The notification fallback: who, nothing else."""
    return t("transfers.check.fallback", language, member=mention(card.slack_user_id))


def check_blocks(card: CheckCard, language: Language) -> list[Block]:
    who = f"{mention(card.slack_user_id)} {_value(card.member_name)}"
    reasons = "\n".join(f"• {escape_mrkdwn(stored_reason_text(r, language))}" for r in card.reasons)
    blocks: list[Block] = [
        section(t("transfers.check.title", language)),
        SectionBlock(
            fields=[
                field(t("transfers.check.member", language), who),
                field(t("transfers.check.organisation", language), _value(card.organisation)),
                field(t("transfers.check.old_domain", language), _value(card.old_domain)),
                field(t("transfers.check.new_domain", language), _value(card.new_domain)),
            ]
        ),
        section(
            cut(
                t("transfers.check.reasons", language)
                + "\n"
                + (reasons or t(f"transfers.check.outcome.{card.outcome}", language))
            )
        ),
    ]
    if card.status in OPEN_CHECK_STATUSES:
        blocks.append(
            decision_row(
                block_id=f"{ids.TRANSFER_CHECK_BLOCK}:{card.public_id}",
                value=card.public_id,
                choices=_choices(card, language),
            )
        )
    if card.decided_by and card.decided_at:
        blocks.append(
            context(
                decided_text(
                    f"transfers.check.decided.{card.status.value}",
                    language,
                    actor=card.decided_by,
                    at=card.decided_at,
                    reason=None,
                )
            )
        )
    return blocks


def _choices(card: CheckCard, language: Language) -> list[Choice]:
    choices = []
    if card.status.value == "open":
        choices.append(Choice(t("transfers.check.ask", language), ids.TRANSFER_CHECK_ASK))
    choices += [
        Choice(t("transfers.check.keep", language), ids.TRANSFER_CHECK_KEEP, style="primary"),
        Choice(
            t("transfers.check.deactivate", language),
            ids.TRANSFER_CHECK_DEACTIVATE,
            style="danger",
            confirm=confirm_dialog("transfers.check.deactivate_confirm", language),
        ),
    ]
    return choices


def organisation_updated_dm(organisation: str, language: Language) -> tuple[list[Block], str]:
    text = t("transfers.check.updated_dm", language, organisation=escape_mrkdwn(organisation))
    return [section(text)], text


def ask_member_dm(language: Language) -> tuple[list[Block], str]:
    text = t("transfers.check.ask_dm", language)
    return [section(text)], text
