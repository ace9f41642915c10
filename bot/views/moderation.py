"""Moderation views: the report modal, the secretariat's case alert and its modals, the
poster's warning, DMs to an author, and the open-case list. Pure builders of Block Kit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.detectors import KIND_LABELS, FindingKind
from bot.i18n import Language, t
from bot.services.moderation import (
    OPEN_STATUSES,
    RULE_KEYS,
    CaseAction,
    CaseEvent,
    History,
    Report,
    ReportReason,
)
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from models import CaseStatus

SECTION_LIMIT = 3000
MAX_TRAIL_LINES = 15
MAX_NOTES = 3


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _mention(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") else escape_mrkdwn(actor)


def _cut(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason_label(code: str, language: Language) -> str:
    """A report reason or a detector's finding kind, in words."""
    if code in {r.value for r in ReportReason}:
        return t(f"moderation.reason.{code}", language)
    try:
        labels = KIND_LABELS[FindingKind(code)]
    except ValueError:
        return code
    return labels[0] if language == "ja" else labels[1]


def rule_text(rule: str, language: Language) -> str:
    return t(f"moderation.rule.{rule if rule in RULE_KEYS else 'general'}", language)


def status_label(status: CaseStatus, language: Language) -> str:
    return t(f"moderation.status.{status.value}", language)


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in escape_mrkdwn(text).splitlines() or [""])


# --------------------------------------------------------------------------------------
# Reporting (any member)


def report_modal(language: Language, *, private_metadata: str) -> View:
    options = [
        Option(value=reason.value, text=t(f"moderation.reason.{reason.value}", language))
        for reason in ReportReason
    ]
    return View(
        type="modal",
        callback_id=ids.MODERATION_REPORT_MODAL,
        private_metadata=private_metadata,
        title=t("moderation.report.title", language),
        submit=t("moderation.report.submit", language),
        close=t("moderation.modal.cancel", language),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=t("moderation.report.intro", language))),
            InputBlock(
                block_id=ids.MODERATION_REPORT_REASON_BLOCK,
                label=t("moderation.report.reason", language),
                element=RadioButtonsElement(action_id=ids.MODERATION_INPUT, options=options),
            ),
            InputBlock(
                block_id=ids.MODERATION_REPORT_NOTE_BLOCK,
                label=t("moderation.report.note", language),
                hint=t("moderation.report.note_hint", language),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.MODERATION_INPUT, multiline=True, max_length=1000
                ),
            ),
        ],
    )


def notice_modal(language: Language, key: str) -> View:
    """A modal with one polite sentence and a close button (no submission)."""
    return View(
        type="modal",
        callback_id=ids.MODERATION_NOTICE_MODAL,
        title=t("moderation.report.title", language),
        close=t("moderation.modal.close", language),
        blocks=[SectionBlock(text=MarkdownTextObject(text=t(key, language)))],
    )


def thanks_text(language: Language, *, reason: str, again: bool) -> str:
    key = "moderation.report.thanks_again" if again else "moderation.report.thanks"
    return t(key, language, reason=reason_label(reason, language))


# --------------------------------------------------------------------------------------
# The case alert in the review channel


@dataclass(frozen=True)
class CaseItem:
    public_id: str
    channel_id: str
    author_id: str
    posted_at: datetime | None
    created_at: datetime
    source: str  # CaseSource value
    status: CaseStatus
    excerpt: str  # masked; "" when withheld (機密性3)
    reasons: tuple[tuple[str, int], ...]  # (reason or finding kind, how many reported it)
    report_count: int
    notes: tuple[str, ...]  # reporters' masked notes, without names
    permalink: str | None
    claimed_by: str | None
    edit_deadline: datetime | None
    history: History
    events: tuple[CaseEvent, ...]


def _event_line(event: CaseEvent, item: CaseItem, language: Language) -> str:
    params = {
        "actor": _mention(event.actor),
        "at": slack_date(event.at),
        "reason": escape_mrkdwn(event.reason or ""),
        "author": _mention(item.author_id),
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
        MarkdownTextObject(text=f"*{label('channel')}*\n<#{item.channel_id}>"),
        MarkdownTextObject(text=f"*{label('author')}*\n<@{item.author_id}>"),
        MarkdownTextObject(text=f"*{label('posted')}*\n{posted}\n{link}"),
        MarkdownTextObject(
            text=f"*{label('status')}*\n{status_label(item.status, language)}"
            + (f"（{_mention(item.claimed_by)}）" if item.claimed_by else "")
        ),
    ]
    reasons = "、".join(
        f"{reason_label(code, language)}" + (f" ×{count}" if count > 1 else "")
        for code, count in item.reasons
    )
    source = label(f"source.{item.source}")
    summary = label("summary", source=source, reasons=reasons or "—", count=str(item.report_count))
    excerpt = _quote(item.excerpt) if item.excerpt else label("withheld")
    blocks: list[Block] = [
        HeaderBlock(text=_cut(label("title", id=item.public_id), 150)),
        SectionBlock(fields=fields),
        SectionBlock(text=MarkdownTextObject(text=_cut(summary))),
        SectionBlock(text=MarkdownTextObject(text=_cut(f"*{label('excerpt')}*\n{excerpt}"))),
    ]
    if item.notes:
        notes = "\n".join(_quote(note[:300]) for note in item.notes[:MAX_NOTES])
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=_cut(f"*{label('notes')}*\n{notes}")))
        )
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text=_cut(_history_text(item.history, language)))]
        )
    )
    lines = [_event_line(e, item, language) for e in item.events][-MAX_TRAIL_LINES:]
    if item.status is CaseStatus.EDIT_REQUESTED and item.edit_deadline is not None:
        lines.append(label("deadline", deadline=slack_date(item.edit_deadline)))
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut("\n".join(lines)))))
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


# --------------------------------------------------------------------------------------
# The secretariat's action modals


def action_metadata(public_id: str, action: CaseAction) -> str:
    return json.dumps({"case": public_id, "action": action.value})


def parse_action_metadata(private_metadata: str) -> tuple[str, CaseAction]:
    data = json.loads(private_metadata)
    return str(data["case"]), CaseAction(data["action"])


def action_modal(
    action: CaseAction,
    *,
    public_id: str,
    language: Language,
    default_rule: str,
    explanation: str,
) -> View:
    key = f"moderation.modal.{action.value}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_cut(explanation))),
    ]
    if action in (CaseAction.WARN, CaseAction.REQUEST_EDIT):
        options = [
            Option(value=rule, text=t(f"moderation.rule_name.{rule}", language))
            for rule in RULE_KEYS
        ]
        initial = next(o for o in options if o.value == default_rule)
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
        private_metadata=action_metadata(public_id, action),
        title=t(f"{key}.title", language),
        submit=t(f"{key}.submit", language),
        close=t("moderation.modal.cancel", language),
        blocks=blocks,
    )


# --------------------------------------------------------------------------------------
# To the poster and the author


def warning_blocks(
    language: Language,
    *,
    kinds: Sequence[str],
    rules: Sequence[str],
    case_opened: bool,
    in_file_name: bool,
) -> list[Block]:
    """The poster's ephemeral warning: what was found (never the value), the rule, what to do."""
    link_only = list(kinds) == [FindingKind.LINK_ONLY.value]
    labels = "、".join(reason_label(kind, language) for kind in kinds)
    if link_only:
        lead = t("moderation.warning.link_only", language)
    else:
        lead = t("moderation.warning.found", language, labels=labels)
    rule_lines = "\n".join(_quote(rule_text(rule, language)) for rule in rules)
    parts = [lead, f"*{t('moderation.warning.rule', language)}*\n{rule_lines}"]
    if not link_only:
        parts.append(
            t("moderation.warning.how_file" if in_file_name else "moderation.warning.how", language)
        )
    if case_opened:
        parts.append(t("moderation.warning.case_opened", language))
    return [SectionBlock(text=MarkdownTextObject(text=_cut("\n\n".join(parts))))]


def warning_text(language: Language, *, kinds: Sequence[str]) -> str:
    if list(kinds) == [FindingKind.LINK_ONLY.value]:
        return t("moderation.warning.link_only", language)
    labels = "、".join(reason_label(kind, language) for kind in kinds)
    return t("moderation.warning.found", language, labels=labels)


def author_dm_blocks(
    action: CaseAction,
    language: Language,
    *,
    channel_id: str,
    permalink: str | None,
    rule: str,
    comment: str,
    deadline: datetime | None,
) -> list[Block]:
    """A polite DM citing the rule. It never says who reported the message, or that anyone did."""
    key = f"moderation.dm.{action.value}.lead"
    message = permalink or t("moderation.dm.your_message", language)
    lead = t(
        key,
        language,
        channel=f"<#{channel_id}>",
        message=f"<{permalink}|{t('moderation.dm.your_message', language)}>"
        if permalink
        else message,
        deadline=slack_date(deadline) if deadline else "",
    )
    parts = [lead, _quote(rule_text(rule, language))]
    if comment.strip():
        parts.append(f"*{t('moderation.dm.comment', language)}*\n{_quote(comment)}")
    if action is CaseAction.REQUEST_EDIT:
        parts.append(t("moderation.warning.how", language))
    parts.append(t("moderation.dm.footer", language))
    return [SectionBlock(text=MarkdownTextObject(text=_cut("\n\n".join(parts))))]


def author_dm_text(action: CaseAction, language: Language) -> str:
    return t(f"moderation.dm.{action.value}.title", language)


# --------------------------------------------------------------------------------------
# /kyoso cases and the reporters of a case


@dataclass(frozen=True)
class CaseLine:
    public_id: str
    channel_id: str
    author_id: str
    created_at: datetime
    status: CaseStatus
    reasons: tuple[str, ...]
    report_count: int
    earlier_cases: int
    alert_link: str | None


CASES_PAGE_SIZE = 10  # one section per case: far inside 50 blocks
MAX_CASES_PAGE = 100_000  # a page number beyond it is answered, not looked up


def cases_blocks(
    lines: Sequence[CaseLine],
    language: Language,
    *,
    title: str,
    page: int,
    pages: int,
    total: int,
    next_hint: str | None,
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=_cut(title, 150))]
    if not lines:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=t("moderation.cases.none", language)))
        )
        return blocks
    for line in lines[:CASES_PAGE_SIZE]:
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
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut(text))))
    footer = t(
        "moderation.cases.page", language, page=str(page), pages=str(pages), total=str(total)
    )
    if next_hint:
        footer += " " + next_hint
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
        + (f"\n{_quote(r.note[:500])}" if r.note else "")
        for r in reports[:40]
    ]
    head = t("moderation.reporters.title", language, id=public_id)
    body = "\n".join(lines) or t("moderation.reporters.none", language)
    return [
        SectionBlock(text=MarkdownTextObject(text=_cut(f"*{head}*\n{body}"))),
        ContextBlock(
            elements=[MarkdownTextObject(text=t("moderation.reporters.private", language))]
        ),
    ]
