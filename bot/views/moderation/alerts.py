"""The case alert in the review channel, its buttons, and the follow-up under it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.domain.moderation import OPEN_STATUSES, CaseEvent, CaseItem, History
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import cut, field, mention
from bot.views.moderation.words import quote, reason_label, status_label
from models import CaseStatus

MAX_TRAIL_LINES = 15
MAX_NOTES = 3


def _event_line(event: CaseEvent, item: CaseItem, language: Language) -> str:
    params = {
        "actor": mention(event.actor),
        "at": slack_date(event.at),
        "reason": escape_mrkdwn(event.reason or ""),
        "author": mention(item.author_id),
        "link": item.permalink or t("moderation.alert.no_permalink", language),
        "error": escape_mrkdwn(str(event.details.get("error") or "")),
        "method": escape_mrkdwn(str(event.details.get("method") or "")),
        "deadline": "",
    }
    if event.action == "edit_requested" and event.details.get("deadline"):
        params["deadline"] = slack_date(datetime.fromisoformat(str(event.details["deadline"])))
    if event.action == "effect":
        effect = str(event.details.get("effect", "dm"))
        outcome = str(event.details.get("outcome", "failed"))
        return t(f"moderation.effect.{effect}.{outcome}", language, **params)
    line = t(f"moderation.event.{event.action}", language, **params)
    if event.action == "message_edited" and "still_flagged" in event.details:
        key = "still_flagged" if event.details["still_flagged"] else "no_longer_flagged"
        line += " " + t(f"moderation.event.{key}", language)
    return line


def _history_text(history: History, language: Language) -> str:
    if history.total == 0:
        return t("moderation.alert.history_none", language)
    counts = "、".join(
        f"{status_label(CaseStatus(status), language)} {count}"
        for status, count in sorted(history.by_status.items())
    )
    recent = " / ".join(
        f"#{c.public_id} {slack_date(c.created_at)} {status_label(c.status, language)}"
        for c in history.recent
    )
    return t(
        "moderation.alert.history",
        language,
        total=str(history.total),
        counts=counts,
        recent=recent,
    )


def alert_blocks(item: CaseItem, language: Language) -> list[Block]:
    def label(key: str, **params: str) -> str:
        return t(f"moderation.alert.{key}", language, **params)

    posted = slack_date(item.posted_at) if item.posted_at else "—"
    link = (
        f"<{item.permalink}|{label('open_message')}>" if item.permalink else label("no_permalink")
    )
    fields = [
        field(label("channel"), f"<#{item.channel_id}>"),
        field(label("author"), f"<@{item.author_id}>"),
        field(label("posted"), f"{posted}\n{link}"),
        field(
            label("status"),
            status_label(item.status, language)
            + (f"（{mention(item.claimed_by)}）" if item.claimed_by else ""),
        ),
    ]
    reasons = "、".join(
        f"{reason_label(code, language)}" + (f" ×{count}" if count > 1 else "")
        for code, count in item.reasons
    )
    source = label(f"source.{item.source}")
    summary = label("summary", source=source, reasons=reasons or "—", count=str(item.report_count))
    excerpt = quote(item.excerpt) if item.excerpt else label("withheld")
    blocks: list[Block] = [
        HeaderBlock(text=cut(label("title", id=item.public_id), 150)),
        SectionBlock(fields=fields),
        SectionBlock(text=MarkdownTextObject(text=cut(summary))),
        SectionBlock(text=MarkdownTextObject(text=cut(f"*{label('excerpt')}*\n{excerpt}"))),
    ]
    if item.notes:
        notes = "\n".join(quote(note[:300]) for note in item.notes[:MAX_NOTES])
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=cut(f"*{label('notes')}*\n{notes}")))
        )
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=cut(_history_text(item.history, language)))])
    )
    lines = [_event_line(e, item, language) for e in item.events][-MAX_TRAIL_LINES:]
    if item.status is CaseStatus.EDIT_REQUESTED and item.edit_deadline is not None:
        lines.append(label("deadline", deadline=slack_date(item.edit_deadline)))
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut("\n".join(lines)))))
    if item.status in OPEN_STATUSES:
        blocks.append(_buttons(item, language))
    elif item.report_count:
        blocks.append(
            ActionsBlock(
                block_id=ids.MODERATION_CASE_BLOCK,
                elements=[_reporters_button(item, language)],
            )
        )
    return blocks


def _reporters_button(item: CaseItem, language: Language) -> ButtonElement:
    return ButtonElement(
        text=t("moderation.button.show_reporters", language),
        action_id=ids.MODERATION_SHOW_REPORTERS,
        value=item.public_id,
    )


def _buttons(item: CaseItem, language: Language) -> ActionsBlock:
    def button(action_id: str, key: str, style: str | None = None) -> ButtonElement:
        return ButtonElement(
            text=t(f"moderation.button.{key}", language),
            action_id=action_id,
            value=item.public_id,
            style=style,
        )

    elements = [button(ids.MODERATION_CLAIM, "claim", "primary")]
    elements.append(button(ids.MODERATION_DISMISS, "dismiss"))
    if item.status is not CaseStatus.EDIT_REQUESTED:
        elements.append(button(ids.MODERATION_REQUEST_EDIT, "request_edit"))
    elements.append(button(ids.MODERATION_WARN, "warn"))
    elements.append(button(ids.MODERATION_DELETE, "delete", "danger"))
    elements.append(button(ids.MODERATION_REMOVE, "remove", "danger"))
    if item.report_count:
        elements.append(_reporters_button(item, language))
    return ActionsBlock(block_id=ids.MODERATION_CASE_BLOCK, elements=elements)


def alert_text(item: CaseItem, language: Language) -> str:
    """Notification text for clients that do not render blocks (no excerpt in it)."""
    return t(
        "moderation.alert.fallback",
        language,
        id=item.public_id,
        channel=f"<#{item.channel_id}>",
        status=status_label(item.status, language),
    )


def follow_up_text(language: Language, *, public_id: str, changes: Sequence[str]) -> str:
    if "deleted" in changes:
        key = "moderation.follow_up.deleted"
    elif "edited" in changes:
        key = "moderation.follow_up.edited"
    else:
        key = "moderation.follow_up.unchanged"
    return t(key, language, id=public_id)
