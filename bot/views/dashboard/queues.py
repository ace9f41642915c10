"""A queue's list, a page at a time, with paging buttons and a way back to the dashboard."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, SectionBlock
from slack_sdk.models.views import View

from bot import ids
from bot.domain.dashboard import QueueItem, QueueKind, QueuePage
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.dashboard.common import (
    HOME_BLOCK_LIMIT,
    age,
    context,
    header,
    mention,
    number,
    section,
)


def _item_block(
    kind: QueueKind, item: QueueItem, language: Language, now: datetime
) -> SectionBlock:
    title = escape_mrkdwn(item.title) or t("dashboard.member.unknown", language)
    head = f"*{title}*"
    if item.user_id and kind in (QueueKind.FLAGGED, QueueKind.ONBOARDING):
        head = f"{mention(item.user_id)}　{head}"
    if kind not in (QueueKind.FLAGGED, QueueKind.ONBOARDING):
        head += f"　`{escape_mrkdwn(item.reference)}`"
    facts: list[str] = []
    if item.detail:
        if kind is QueueKind.CHANNEL_REQUESTS:
            detail = t(f"dashboard.channel_kind.{item.detail}", language)
        elif kind is QueueKind.MODERATION:
            detail = t(f"dashboard.case_source.{item.detail}", language)
        else:
            detail = escape_mrkdwn(item.detail)
        facts.append(t(f"dashboard.detail.{kind.value}", language, detail=detail))
    if kind is QueueKind.CHANNEL_REQUESTS and item.user_id:
        facts.append(t("dashboard.item.requester", language, user=mention(item.user_id)))
    if kind is QueueKind.MODERATION:
        if item.user_id:
            facts.append(t("dashboard.item.author", language, user=mention(item.user_id)))
        if item.channel_id:
            facts.append(f"<#{item.channel_id}>")
    if item.status and kind in (QueueKind.APPLICATIONS, QueueKind.MODERATION):
        facts.append(t(f"dashboard.status.{kind.value}.{item.status}", language))
    since = t(
        f"dashboard.item.since.{kind.value}",
        language,
        date=slack_date(item.at),
        age=age(item.at, now, language),
    )
    facts.append(since)
    if kind is QueueKind.FLAGGED:
        seen = (
            slack_date(item.last_seen_at)
            if item.last_seen_at is not None
            else t("dashboard.item.never", language)
        )
        facts.append(t("dashboard.item.last_seen", language, date=seen))
    if item.business_days is not None:
        facts.append(t("dashboard.item.business_days", language, days=str(item.business_days)))
    return section(head + "\n" + " · ".join(facts))


def _page_button(
    label_key: str, action_id: str, kind: QueueKind, page: int, language: Language
) -> ButtonElement:
    return ButtonElement(
        text=t(label_key, language), action_id=action_id, value=f"{kind.value}:{page}"
    )


def queue_list_view(page: QueuePage, language: Language, now: datetime) -> View:
    """One page of a queue (at most PAGE_SIZE items), with paging and a way back."""
    kind = page.kind
    blocks: list[Block] = [
        header(t(f"dashboard.queue.{kind.value}", language)),
        context(
            t(
                "dashboard.list.summary",
                language,
                total=number(page.total),
                page=number(page.page),
                pages=number(page.pages),
            )
        ),
        DividerBlock(),
    ]
    if not page.items:
        blocks.append(section(t("dashboard.list.empty", language)))
    blocks.extend(_item_block(kind, item, language, now) for item in page.items)
    blocks.append(context(t(f"dashboard.list.where.{kind.value}", language)))
    buttons = []
    if page.page > 1:
        buttons.append(
            _page_button("dashboard.list.first", ids.DASHBOARD_PAGE_FIRST, kind, 1, language)
        )
        buttons.append(
            _page_button(
                "dashboard.list.previous",
                ids.DASHBOARD_PAGE_PREVIOUS,
                kind,
                page.page - 1,
                language,
            )
        )
    if page.page < page.pages:
        buttons.append(
            _page_button(
                "dashboard.list.next", ids.DASHBOARD_PAGE_NEXT, kind, page.page + 1, language
            )
        )
        buttons.append(
            _page_button("dashboard.list.last", ids.DASHBOARD_PAGE_LAST, kind, page.pages, language)
        )
    buttons.append(
        ButtonElement(
            text=t("dashboard.list.back", language), action_id=ids.DASHBOARD_HOME, value="back"
        )
    )
    blocks.append(ActionsBlock(elements=buttons))
    return View(type="home", blocks=blocks[:HOME_BLOCK_LIMIT])
