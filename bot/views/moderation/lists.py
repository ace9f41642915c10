"""`/kyoso cases` and the reporters of a case, for the secretariat."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.moderation import CASES_PAGE_SIZE, CasesPage, Report
from bot.i18n import Language, t
from bot.timefmt import slack_date
from bot.views.blocks import cut
from bot.views.moderation.words import quote, reason_label, status_label


def cases_title(page: CasesPage, language: Language) -> str:
    if page.author_id is not None:
        return t(
            "moderation.cases.history_title",
            language,
            author=page.author_id,
            total=str(page.total),
        )
    return t("moderation.cases.title", language, total=str(page.total))


def cases_blocks(page: CasesPage, language: Language) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=cut(cases_title(page, language), 150))]
    if not page.lines:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=t("moderation.cases.none", language)))
        )
        return blocks
    for line in page.lines[:CASES_PAGE_SIZE]:
        reasons = "、".join(reason_label(r, language) for r in line.reasons) or "—"
        case_ref = (
            f"<{line.alert_link}|#{line.public_id}>" if line.alert_link else f"#{line.public_id}"
        )
        text = t(
            "moderation.cases.item",
            language,
            case=case_ref,
            status=status_label(line.status, language),
            channel=f"<#{line.channel_id}>",
            author=f"<@{line.author_id}>",
            at=slack_date(line.created_at),
            reasons=reasons,
            reports=str(line.report_count),
            earlier=str(line.earlier_cases),
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text))))
    footer = t(
        "moderation.cases.page",
        language,
        page=str(page.page),
        pages=str(page.pages),
        total=str(page.total),
    )
    if page.page < page.pages:
        footer += " " + t("moderation.cases.next", language, page=str(page.page + 1))
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks


def reporters_blocks(public_id: str, reports: Sequence[Report], language: Language) -> list[Block]:
    lines = [
        t(
            "moderation.reporters.item",
            language,
            reporter=f"<@{r.reporter_id}>",
            reason=reason_label(r.reason, language),
            at=slack_date(r.at),
        )
        + (f"\n{quote(r.note[:500])}" if r.note else "")
        for r in reports[:40]
    ]
    head = t("moderation.reporters.title", language, id=public_id)
    body = "\n".join(lines) or t("moderation.reporters.none", language)
    return [
        SectionBlock(text=MarkdownTextObject(text=cut(f"*{head}*\n{body}"))),
        ContextBlock(
            elements=[MarkdownTextObject(text=t("moderation.reporters.private", language))]
        ),
    ]
