"""The usage rules: in full with the "I agree" button, or with what the member accepted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock

from bot import ids
from bot.domain.onboarding import AcceptedState, Rules, sections
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import Choice, context, decision_row, section


def rules_title(rules: Rules, language: Language) -> str:
    return t("onboarding.rules.title", language, version=rules.version)


def rules_blocks(
    rules: Rules,
    language: Language,
    *,
    accepted: AcceptedState | None = None,
) -> list[Block]:
    """The rules in full, then the "I agree" button, or what the member accepted and when.

    The rules text is the secretariat's own mrkdwn (from the catalogue or `kyoso rules
    publish`), shown as written."""
    blocks: list[Block] = [HeaderBlock(text=rules_title(rules, language)[:150])]
    blocks += [section(piece) for piece in sections(rules.text(language))]
    if accepted is not None and accepted.version == rules.version:
        blocks.append(accepted_block(accepted, language))
        return blocks
    if accepted is not None:
        blocks.append(
            context(
                t(
                    "onboarding.rules.accepted_older",
                    language,
                    accepted=escape_mrkdwn(accepted.version),
                    version=rules.version,
                ),
                block_id=ids.ONBOARDING_RULES_PREVIOUS_BLOCK,
            )
        )
    blocks.append(
        context(t("onboarding.rules.prompt", language), block_id=ids.ONBOARDING_RULES_PROMPT_BLOCK)
    )
    accept = Choice(
        t("onboarding.rules.accept_button", language), ids.ONBOARDING_ACCEPT_RULES, "primary"
    )
    blocks.append(
        decision_row(block_id=ids.ONBOARDING_RULES_BLOCK, value=rules.version, choices=[accept])
    )
    return blocks


def accepted_block(accepted: AcceptedState, language: Language) -> ContextBlock:
    text = t(
        "onboarding.rules.accepted",
        language,
        version=escape_mrkdwn(accepted.version),
        at=slack_date(accepted.at),
    )
    return context(text, block_id=ids.ONBOARDING_RULES_BLOCK)


def after_acceptance(
    message_blocks: Sequence[dict[str, Any]], accepted: AcceptedState, language: Language
) -> list[dict[str, Any]]:
    """The member's copy of a message with the button replaced by the acceptance record."""
    out: list[dict[str, Any]] = []
    for block in message_blocks:
        block_id = block.get("block_id")
        if block_id in (ids.ONBOARDING_RULES_PROMPT_BLOCK, ids.ONBOARDING_RULES_PREVIOUS_BLOCK):
            continue
        if block_id == ids.ONBOARDING_RULES_BLOCK:
            out.append(accepted_block(accepted, language).to_dict())
            continue
        out.append(dict(block))
    return out


def already_accepted_text(accepted: AcceptedState, language: Language) -> str:
    return t(
        "onboarding.rules.already_accepted",
        language,
        version=accepted.version,
        at=slack_date(accepted.at),
    )


def outdated_text(rules: Rules, language: Language) -> str:
    return t("onboarding.rules.outdated", language, version=rules.version)


def rules_updated_blocks(
    rules: Rules, language: Language, *, accepted: AcceptedState | None
) -> list[Block]:
    return [
        section(
            f"*{t('onboarding.rules.updated.title', language)}*\n"
            + t("onboarding.rules.updated.lead", language, version=escape_mrkdwn(rules.version))
        ),
        *rules_blocks(rules, language, accepted=accepted),
    ]


def rules_updated_text(rules: Rules, language: Language) -> str:
    return t("onboarding.rules.updated.lead", language, version=rules.version)
