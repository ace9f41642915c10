"""The secretariat's review message for one application, and its modals."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.applications import Decision, ReminderItem, ReviewItem
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import Choice, ModalMetadata, decision_row


class ReasonModal(ModalMetadata):
    """The reject / request-info modal: which application it decides."""

    public_id: str


def _mention(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") else escape_mrkdwn(actor)


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
        MarkdownTextObject(text=f"*{label('name')}*\n{escape_mrkdwn(item.name)}"),
        MarkdownTextObject(text=f"*{label('email')}*\n{escape_mrkdwn(item.email)}"),
        MarkdownTextObject(text=f"*{label('organisation')}*\n{escape_mrkdwn(organisation)}"),
        MarkdownTextObject(
            text=f"*{label('department')}*\n{escape_mrkdwn(item.department or '—')}"
        ),
        MarkdownTextObject(
            text=f"*{label('submitted')}*\n{slack_date(item.submitted_at)}"
            f"（{label('source.' + item.source)}）"
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
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=label("reapplication"))]))
    for decision in decisions:
        text = t(
            f"applications.decided.{decision.status}",
            language,
            actor=_mention(decision.actor),
            at=slack_date(decision.at),
            reason=escape_mrkdwn(decision.reason or ""),
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text[:3000])]))
    if open_for_decision:
        blocks.append(_decision_buttons(item, language))
    elif awaiting_invitation:
        todo = t("applications.invite.todo", language, email=escape_mrkdwn(item.email))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=todo)))
        blocks.append(
            ActionsBlock(
                block_id=ids.APPLICATION_REVIEW_BLOCK,
                elements=[
                    ButtonElement(
                        text=t("applications.button.mark_invited", language),
                        action_id=ids.APPLICATION_MARK_INVITED,
                        value=item.public_id,
                    )
                ],
            )
        )
    return blocks


def _decision_buttons(item: ReviewItem, language: Language) -> ActionsBlock:
    confirm = ConfirmObject(
        title=t("applications.confirm.title", language),
        text=t("applications.confirm.text", language, name=escape_mrkdwn(item.name[:100])),
        confirm=t("applications.confirm.yes", language),
        deny=t("applications.confirm.no", language),
    )
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


def reason_modal(
    *, callback_id: str, public_id: str, language: Language, title_key: str, label_key: str
) -> View:
    """Asks the secretariat for a reason; the application's id rides in private_metadata."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=ReasonModal(public_id=public_id).dump(),
        title=t(title_key, language),
        submit=t("applications.modal.submit", language),
        close=t("applications.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.APPLICATION_REASON_BLOCK,
                label=t(label_key, language),
                element=PlainTextInputElement(
                    action_id=ids.APPLICATION_REASON_INPUT, multiline=True, max_length=2000
                ),
            )
        ],
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
