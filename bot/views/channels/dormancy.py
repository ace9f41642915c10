"""Dormant channels: the question to the facilitators, its answer, the secretariat's
list with archive buttons and the report of facilitators who left."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement, ConfirmObject

from bot import ids
from bot.domain.channels import DormantItem
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import Choice, context, decision_row, mention, section
from bot.views.channels.common import MESSAGE_BLOCKS_MAX, channel_link, chunks

DORMANCY_LIST_MAX = 40  # archive buttons per message (each a section): well inside 50 blocks


def _dormant_reason(item: DormantItem, language: Language) -> str:
    if item.reason == "ended" and item.end_date:
        return t("channels.dormant.reason.ended", language, date=item.end_date.strftime("%Y/%m/%d"))
    if item.last_activity_at is not None:
        return t(
            "channels.dormant.reason.quiet",
            language,
            days=str(item.dormant_days),
            at=slack_date(item.last_activity_at),
        )
    return t("channels.dormant.reason.never", language, days=str(item.dormant_days))


def _outcome_text(item: DormantItem, language: Language) -> str:
    """Who answered the round, how and when."""
    return t(
        f"channels.dormant.outcome.{item.outcome}",
        language,
        actor=mention(item.decided_by or "system"),
        at=slack_date(item.decided_at) if item.decided_at else "",
    )


def dormancy_ask_blocks(
    item: DormantItem, language: Language, *, reminder: bool, to_secretariat: bool
) -> list[Block]:
    key = "reminder" if reminder else "ask"
    blocks: list[Block] = [
        section(
            t(f"channels.dormant.{key}", language, channel=channel_link(item.slack_channel_id))
            + "\n"
            + _dormant_reason(item, language)
        )
    ]
    if to_secretariat:
        blocks.append(context(t("channels.dormant.no_facilitators", language)))
    if item.gone_facilitators:
        gone = " ".join(mention(u) for u in item.gone_facilitators)
        blocks.append(context(t("channels.dormant.gone", language, people=gone)))
    blocks.append(
        decision_row(
            block_id=ids.DORMANCY_BLOCK,
            value=str(item.review_id),
            choices=[
                Choice(t("channels.button.keep", language), ids.DORMANCY_KEEP, "primary"),
                Choice(t("channels.button.archive_agree", language), ids.DORMANCY_ARCHIVE),
            ],
        )
    )
    return blocks


def dormancy_ask_text(item: DormantItem, language: Language, *, reminder: bool) -> str:
    key = "reminder" if reminder else "ask"
    return t(f"channels.dormant.{key}", language, channel=channel_link(item.slack_channel_id))


def dormancy_answered_blocks(item: DormantItem, language: Language) -> list[Block]:
    """The ask message once answered: the buttons give way to who decided what."""
    return [
        section(
            t("channels.dormant.ask", language, channel=channel_link(item.slack_channel_id))
            + "\n"
            + _dormant_reason(item, language)
        ),
        context(_outcome_text(item, language)),
    ]


def dormancy_list_blocks(items: Sequence[DormantItem], language: Language) -> list[Block]:
    """The secretariat's list: one archive button per channel, decided ones marked."""
    blocks: list[Block] = [
        section(t("channels.dormant.list.title", language, count=str(len(items))))
    ]
    for item in items[:DORMANCY_LIST_MAX]:
        head = f"{channel_link(item.slack_channel_id)}（{escape_mrkdwn(item.name)}）"
        detail = _dormant_reason(item, language)
        if item.gone_facilitators:
            gone = " ".join(mention(u) for u in item.gone_facilitators)
            detail += "\n" + t("channels.dormant.gone", language, people=gone)
        if item.outcome in ("listed", "archive"):
            note = t(
                "channels.dormant.list.agreed"
                if item.outcome == "archive"
                else "channels.dormant.list.unanswered",
                language,
            )
            blocks.append(
                section(
                    f"{head}\n{detail}\n{note}",
                    block_id=f"{ids.DORMANCY_BLOCK}_{item.review_id}",
                    accessory=ButtonElement(
                        text=t("channels.button.archive_now", language),
                        action_id=ids.DORMANCY_ARCHIVE_NOW,
                        value=str(item.review_id),
                        style="danger",
                        confirm=ConfirmObject(
                            title=t("channels.confirm.archive_title", language),
                            text=t(
                                "channels.confirm.archive_text",
                                language,
                                name=escape_mrkdwn(item.name[:100]),
                            ),
                            confirm=t("channels.confirm.archive_yes", language),
                            deny=t("channels.confirm.no", language),
                        ),
                    ),
                )
            )
        else:
            outcome = _outcome_text(item, language)
            blocks.append(
                section(f"{head}\n{outcome}", block_id=f"{ids.DORMANCY_BLOCK}_{item.review_id}")
            )
    hidden = len(items) - DORMANCY_LIST_MAX
    if hidden > 0:
        blocks.append(context(t("channels.dormant.list.more", language, count=str(hidden))))
    return blocks


def dormancy_list_text(count: int, language: Language) -> str:
    return t("channels.dormant.list.title", language, count=str(count))


def left_facilitators_blocks(
    rows: Sequence[tuple[str, Sequence[str]]], language: Language
) -> list[Block]:
    lines = [
        t(
            "channels.dormant.left.line",
            language,
            channel=channel_link(channel),
            people=" ".join(mention(u) for u in people),
        )
        for channel, people in rows
    ]
    return [
        section(t("channels.dormant.left.title", language, count=str(len(rows)))),
        *[section(chunk) for chunk in chunks(lines)][: MESSAGE_BLOCKS_MAX - 1],
    ]
