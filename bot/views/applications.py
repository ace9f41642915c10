"""The secretariat's review message for one application, and its modals."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.applications import Decision, PossibleDuplicate, ReminderItem, ReviewItem
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import (
    Choice,
    ModalMetadata,
    confirm_dialog,
    context,
    decided_text,
    decision_row,
    field,
    reason_input_modal,
)


class ReasonModal(ModalMetadata):
    """The reject / request-info modal: which application it decides."""

    public_id: str


def review_blocks(
    item: ReviewItem,
    language: Language,
    *,
    decisions: tuple[Decision, ...] = (),
    open_for_decision: bool = True,
    awaiting_invitation: bool = False,
) -> list[Block]:
    def label(key: str) -> str:
        return t(f"applications.review.{key}", language)

    organisation = item.organisation or label("organisation_unknown")
    fields = [
        field(label("name"), escape_mrkdwn(item.name)),
        field(label("email"), escape_mrkdwn(item.email)),
        field(label("organisation"), escape_mrkdwn(organisation)),
        field(label("department"), escape_mrkdwn(item.department or "—")),
        field(
            label("submitted"),
            f"{slack_date(item.submitted_at)}（{label('source.' + item.source)}）",
        ),
    ]
    verdict = t(f"applications.outcome.{item.outcome}", language)
    reasons = "\n".join(f"• {escape_mrkdwn(r)}" for r in item.reasons)
    blocks: list[Block] = [
        HeaderBlock(text=label("title")),
        SectionBlock(fields=fields),
        SectionBlock(
            text=MarkdownTextObject(text=f"*{label('verdict')}*: {verdict}\n{reasons}"[:3000])
        ),
    ]
    if item.is_reapplication:
        blocks.append(context(label("reapplication")))
    if item.duplicate is not None:
        blocks.append(_duplicate_section(item.duplicate, language))
    for decision in decisions:
        text = decided_text(
            f"applications.decided.{decision.status}",
            language,
            actor=decision.actor,
            at=decision.at,
            reason=decision.reason,
        )
        blocks.append(context(text))
    if open_for_decision:
        blocks.append(_decision_buttons(item, language))
    elif awaiting_invitation:
        todo = t("applications.invite.todo", language, email=escape_mrkdwn(item.email))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=todo)))
        mark = Choice(t("applications.button.mark_invited", language), ids.APPLICATION_MARK_INVITED)
        blocks.append(
            decision_row(
                block_id=ids.APPLICATION_REVIEW_BLOCK, value=item.public_id, choices=[mark]
            )
        )
    return blocks


def _duplicate_section(duplicate: PossibleDuplicate, language: Language) -> SectionBlock:
    """既存メンバーと重複の可能性: the member (mentioned) and why."""
    lines = [f":warning: *{t('applications.review.duplicate.title', language)}*"]
    if duplicate.member_user_id:
        name = f"（{escape_mrkdwn(duplicate.member_name)}）" if duplicate.member_name else ""
        lines.append(
            t(
                "applications.review.duplicate.member",
                language,
                member=f"<@{duplicate.member_user_id}>{name}",
            )
        )
    hints = (t(f"applications.review.duplicate.hint.{h}", language) for h in duplicate.hints)
    lines += [f"• {text}" for text in hints]
    if duplicate.previous_email:
        lines.append(
            t(
                "applications.review.duplicate.previous_email",
                language,
                email=escape_mrkdwn(duplicate.previous_email),
            )
        )
    return SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000]))


def _decision_buttons(item: ReviewItem, language: Language) -> ActionsBlock:
    confirm = confirm_dialog("applications.confirm", language, name=escape_mrkdwn(item.name[:100]))
    return decision_row(
        block_id=ids.APPLICATION_REVIEW_BLOCK,
        value=item.public_id,
        choices=[
            Choice(
                t("applications.button.approve", language),
                ids.APPLICATION_APPROVE,
                "primary",
                confirm,
            ),
            Choice(t("applications.button.reject", language), ids.APPLICATION_REJECT, "danger"),
            Choice(t("applications.button.request_info", language), ids.APPLICATION_REQUEST_INFO),
        ],
    )


def reason_modal(*, callback_id: str, public_id: str, language: Language, kind: str) -> View:
    """Asks the secretariat for the reason (reject) or the question (info)."""
    return reason_input_modal(
        callback_id=callback_id,
        metadata=ReasonModal(public_id=public_id),
        texts="applications.modal",
        kind=kind,
        language=language,
        block_id=ids.APPLICATION_REASON_BLOCK,
        action_id=ids.APPLICATION_REASON_INPUT,
    )


def fallback_text(item: ReviewItem, language: Language) -> str:
    """Notification text for clients that do not render blocks."""
    title = t("applications.review.title", language)
    return f"{title}: {escape_mrkdwn(item.name)} ({escape_mrkdwn(item.email)})"


MAX_REMINDER_ITEMS = 40  # with the header and summary, well inside 50 blocks


def reminder_blocks(items: list[ReminderItem], language: Language) -> list[Block]:
    title = t("applications.reminder.title", language, count=str(len(items)))
    lines = []
    for item in items[:MAX_REMINDER_ITEMS]:
        name = escape_mrkdwn(item.name)
        line = t(
            "applications.reminder.item",
            language,
            name=f"<{item.link}|{name}>" if item.link else name,
            organisation=escape_mrkdwn(item.organisation or "—"),
            submitted=slack_date(item.submitted_at),
            days=str(item.business_days),
        )
        lines.append(line)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{title}*"))]
    # Several items per section: 3,000 characters each, and far fewer than 50 blocks.
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    hidden = len(items) - MAX_REMINDER_ITEMS
    if hidden > 0:
        more = t("applications.reminder.more", language, count=str(hidden))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def already_decided_text(status: str, language: Language) -> str:
    """Someone decided first: what the second click is told (nothing changed)."""
    label = t(f"applications.status.{status}", language)
    return t("applications.already_decided", language, status=label)
