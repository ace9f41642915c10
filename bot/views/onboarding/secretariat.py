"""The secretariat's onboarding messages: a joiner without an application, the stuck list."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from bot.domain.onboarding import StuckMember, UnmatchedJoin, sections
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import context, field, section
from bot.views.onboarding.parts import MESSAGE_BLOCKS_MAX

STUCK_SHOWN_MAX = 200  # the rest is counted, not listed


def unmatched_join_blocks(joiner: UnmatchedJoin, language: Language) -> list[Block]:
    unknown = t("onboarding.alert.unknown", language)
    status = joiner.application_status
    situation = (
        t(
            "onboarding.alert.application_status",
            language,
            status=t(f"applications.status.{status.value}", language),
        )
        if status is not None
        else t("onboarding.alert.no_application", language)
    )
    return [
        HeaderBlock(text=t("onboarding.alert.title", language)),
        SectionBlock(
            fields=[
                field(t("onboarding.alert.member", language), f"<@{joiner.slack_user_id}>"),
                field(
                    t("onboarding.alert.name", language),
                    escape_mrkdwn(joiner.name) if joiner.name else unknown,
                ),
                field(
                    t("onboarding.alert.email", language),
                    escape_mrkdwn(joiner.email) if joiner.email else unknown,
                ),
            ]
        ),
        section(f"{situation}\n{t('onboarding.alert.nobody_removed', language)}"),
    ]


def unmatched_join_text(joiner: UnmatchedJoin, language: Language) -> str:
    name = joiner.name or joiner.email or joiner.slack_user_id
    return t("onboarding.alert.fallback", language, name=escape_mrkdwn(name))


def stuck_report_blocks(
    stuck: Sequence[StuckMember], language: Language, *, min_business_days: int
) -> list[Block]:
    unknown = t("onboarding.stuck.unknown", language)
    lines = [
        t(
            "onboarding.stuck.item",
            language,
            mention=f"<@{m.slack_user_id}>",
            name=escape_mrkdwn(m.name or unknown),
            organisation=escape_mrkdwn(m.organisation or unknown),
            joined=slack_date(m.joined_at),
            days=m.business_days,
        )
        for m in stuck[:STUCK_SHOWN_MAX]
    ]
    blocks: list[Block] = [
        HeaderBlock(text=t("onboarding.stuck.title", language, count=len(stuck))[:150]),
        context(t("onboarding.stuck.lead", language, days=min_business_days)),
    ]
    room = MESSAGE_BLOCKS_MAX - len(blocks) - 1  # keep one for "and N more"
    shown = 0
    for piece in sections("\n".join(lines)):
        if room == 0:
            break
        blocks.append(section(piece))
        shown += piece.count("\n") + 1
        room -= 1
    if shown < len(stuck):
        blocks.append(context(t("onboarding.stuck.more", language, count=len(stuck) - shown)))
    return blocks


def stuck_report_text(count: int, language: Language) -> str:
    return t("onboarding.stuck.title", language, count=count)
