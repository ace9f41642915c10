"""The greeting card in the ambassadors' channel, its reminder, the secretariat's notice, the
newcomer's introduction DM and the line of the welcome DM that names the ambassadors."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot import ids
from bot.domain.ambassador_greetings import GreetingCard, Introduction, Nudge
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import context, field, section
from models import GreetingStatus


def mentions(user_ids: Sequence[str]) -> str:
    return " ".join(f"<@{user}>" for user in user_ids)


def _where(prefecture: str | None, language: Language) -> str:
    return escape_mrkdwn(prefecture) if prefecture else t("ambassadors.greetings.unknown", language)


def card_blocks(card: GreetingCard, language: Language) -> list[Block]:
    where = _where(card.prefecture, language)
    blocks: list[Block] = [
        section(
            t("ambassadors.greetings.card.title", language, newcomer=f"<@{card.newcomer}>"),
            block_id=f"{ids.AMBASSADOR_GREETING_BLOCK}{card.greeting_id}",
        ),
        SectionBlock(
            fields=[
                field(
                    t("ambassadors.greetings.card.organisation", language),
                    escape_mrkdwn(card.organisation)
                    if card.organisation
                    else t("ambassadors.greetings.unknown", language),
                ),
                field(t("ambassadors.greetings.card.prefecture", language), where),
            ]
        ),
        section(_introduction_line(card, language)),
        section(_ambassadors_line(card.prefecture, card.ambassadors, language)),
    ]
    if card.status is GreetingStatus.CLOSED:
        blocks.append(context(t("ambassadors.greetings.card.closed", language)))
    elif card.status is GreetingStatus.CLAIMED and card.claimed_by:
        at = slack_date(card.claimed_at) if card.claimed_at else ""
        blocks.append(
            section(
                t(
                    "ambassadors.greetings.card.claimed",
                    language,
                    who=f"<@{card.claimed_by}>",
                    at=at,
                )
            )
        )
    else:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=t("ambassadors.greetings.card.claim", language),
                        action_id=ids.AMBASSADOR_GREETING_CLAIM,
                        value=str(card.greeting_id),
                        style="primary",
                    )
                ]
            )
        )
    return blocks


def card_text(card: GreetingCard, language: Language) -> str:
    return t("ambassadors.greetings.card.fallback", language, newcomer=f"<@{card.newcomer}>")


def _introduction_line(card: GreetingCard, language: Language) -> str:
    if card.introduced_at is None:
        return t("ambassadors.greetings.card.no_intro", language)
    if card.intro_channel:
        return t(
            "ambassadors.greetings.card.intro_in",
            language,
            channel=f"<#{card.intro_channel}>",
            at=slack_date(card.introduced_at),
        )
    return t("ambassadors.greetings.card.intro_done", language, at=slack_date(card.introduced_at))


def _ambassadors_line(
    prefecture: str | None, ambassadors: Sequence[str], language: Language
) -> str:
    if not ambassadors:
        return t("ambassadors.greetings.card.nobody", language)
    return t(
        "ambassadors.greetings.card.ambassadors",
        language,
        prefecture=_where(prefecture, language),
        ambassadors=mentions(ambassadors),
    )


def taken_text(claimed_by: str | None, language: Language) -> str:
    if claimed_by is None:
        return t("ambassadors.greetings.claim.closed", language)
    return t("ambassadors.greetings.claim.taken", language, who=f"<@{claimed_by}>")


def reminder_text(nudge: Nudge, language: Language) -> str:
    if not nudge.ambassadors:
        return t("ambassadors.greetings.reminder.nobody", language, newcomer=f"<@{nudge.newcomer}>")
    return t(
        "ambassadors.greetings.reminder",
        language,
        ambassadors=mentions(nudge.ambassadors),
        newcomer=f"<@{nudge.newcomer}>",
    )


def escalation_text(nudge: Nudge, language: Language, *, link: str) -> str:
    return t(
        "ambassadors.greetings.escalation",
        language,
        newcomer=f"<@{nudge.newcomer}>",
        prefecture=_where(nudge.prefecture, language),
        link=link,
        ambassadors=mentions(nudge.ambassadors) or t("ambassadors.greetings.none", language),
    )


def introduction_blocks(intro: Introduction, language: Language) -> list[Block]:
    return [
        section(
            t(
                "ambassadors.greetings.intro_dm",
                language,
                ambassador=f"<@{intro.ambassador}>",
                prefecture=_where(intro.prefecture, language),
            ),
            block_id=f"{ids.AMBASSADOR_INTRO_BLOCK}{intro.greeting_id}",
        )
    ]


def introduction_text(intro: Introduction, language: Language) -> str:
    return t(
        "ambassadors.greetings.intro_dm.fallback", language, ambassador=f"<@{intro.ambassador}>"
    )


def welcome_ambassadors_line(
    prefecture: str | None, ambassadors: Sequence[str], language: Language
) -> str | None:
    """「岩手県のアンバサダー: @…」 in the welcome DM; None when nobody serves there."""
    if not ambassadors:
        return None
    return t(
        "ambassadors.greetings.welcome",
        language,
        prefecture=_where(prefecture, language),
        ambassadors=mentions(ambassadors),
    )
