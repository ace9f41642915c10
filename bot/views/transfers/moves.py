"""The move form, the code modal, the member's DMs and the secretariat's review message
about a move (pure: plain data and a language in, blocks out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.transfers_moves import MoveSummary, OrganisationChoice
from bot.eligibility.verdict import ReasonCode, Severity
from bot.i18n import Language, t
from bot.i18n.reasons import stored_reason_text
from bot.text import escape_mrkdwn
from bot.views.blocks import Choice, ModalMetadata, context, decision_row, field, mention, section
from models import MoveStatus

EMAIL_MAX = 254
DEPARTMENT_MAX = 200
ERROR_TEXT_MAX = 1500
# Reasons that only describe (the domain is an lg.jp one…): not shown to the member.
_SHOWN = (Severity.FLAG.value, Severity.REFUSE.value)


class MoveModalMetadata(ModalMetadata):
    source: str  # a MoveSource value
    language: Language


class CodeModalMetadata(ModalMetadata):
    public_id: str
    language: Language


def move_modal(*, source: str, language: Language, effective_on: date | None = None) -> View:
    return View(
        type="modal",
        callback_id=ids.TRANSFER_MOVE_MODAL,
        private_metadata=MoveModalMetadata(source=source, language=language).dump(),
        title=t("transfers.move.modal.title", language),
        submit=t("transfers.move.modal.submit", language),
        close=t("transfers.move.modal.cancel", language),
        blocks=[
            section(t("transfers.move.modal.intro", language)),
            InputBlock(
                block_id=ids.TRANSFER_MOVE_ORGANISATION_BLOCK,
                label=t("transfers.move.modal.organisation", language),
                hint=t("transfers.move.modal.organisation_hint", language),
                element=ExternalDataSelectElement(
                    action_id=ids.TRANSFER_MOVE_ORGANISATION,
                    placeholder=t("transfers.move.modal.organisation_placeholder", language),
                    min_query_length=1,
                ),
            ),
            InputBlock(
                block_id=ids.TRANSFER_MOVE_EMAIL_BLOCK,
                label=t("transfers.move.modal.email", language),
                hint=t("transfers.move.modal.email_hint", language),
                element=PlainTextInputElement(
                    action_id=ids.TRANSFER_MOVE_INPUT, max_length=EMAIL_MAX
                ),
            ),
            InputBlock(
                block_id=ids.TRANSFER_MOVE_DEPARTMENT_BLOCK,
                label=t("transfers.move.modal.department", language),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.TRANSFER_MOVE_INPUT, max_length=DEPARTMENT_MAX
                ),
            ),
            InputBlock(
                block_id=ids.TRANSFER_MOVE_EFFECTIVE_BLOCK,
                label=t("transfers.move.modal.effective", language),
                optional=True,
                element=DatePickerElement(
                    action_id=ids.TRANSFER_MOVE_EFFECTIVE,
                    initial_date=effective_on.isoformat() if effective_on else None,
                ),
            ),
        ],
    )


def organisation_options(choices: Sequence[OrganisationChoice]) -> list[dict[str, Any]]:
    return [
        Option(value=c.value, text=PlainTextObject(text=c.label)).to_dict() for c in choices[:100]
    ]


def _reason_text(reason: dict[str, Any], language: Language) -> str:
    if reason.get("code") == ReasonCode.DOMAIN_OTHER.value:
        domain = str((reason.get("params") or {}).get("domain", ""))
        return t("transfers.move.refused.domain.other", language, domain=domain)
    return stored_reason_text(reason, language)


def shown_reasons(reasons: Sequence[dict[str, Any]], language: Language) -> list[str]:
    return [_reason_text(r, language) for r in reasons if r.get("severity") in _SHOWN]


def refusal_text(reasons: Sequence[dict[str, Any]], language: Language) -> str:
    """Why the address cannot be used, under the form's email field (plain text)."""
    lines = [
        t("transfers.move.refused.lead", language),
        *shown_reasons(reasons, language),
        t("transfers.move.refused.help", language),
    ]
    text = "\n".join(lines)
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"


def code_button_row(public_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"{ids.TRANSFER_MOVE_CODE_BLOCK}:{public_id}",
        elements=[
            ButtonElement(
                text=t("transfers.move.sent.code_button", "ja"),
                action_id=ids.TRANSFER_MOVE_CODE_OPEN,
                value=public_id,
                style="primary",
            )
        ],
    )


def sent_blocks(*, public_id: str, email: str, expires: str, language: Language) -> list[Block]:
    body = t("transfers.move.sent.body", language, email=escape_mrkdwn(email), expires=expires)
    return [section(body), code_button_row(public_id)]


def code_modal(*, public_id: str, language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.TRANSFER_MOVE_CODE_MODAL,
        private_metadata=CodeModalMetadata(public_id=public_id, language=language).dump(),
        title=t("transfers.move.code.title", language),
        submit=t("transfers.move.code.submit", language),
        close=t("transfers.move.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.TRANSFER_MOVE_CODE_BLOCK,
                label=t("transfers.move.code.label", language),
                element=PlainTextInputElement(
                    action_id=ids.TRANSFER_MOVE_INPUT, min_length=6, max_length=12
                ),
            )
        ],
    )


def notice_modal(text: str, language: Language) -> View:
    """What a submitted code modal turns into: the outcome, and a close button."""
    return View(
        type="modal",
        callback_id=ids.TRANSFER_MOVE_CODE_MODAL,
        title=t("transfers.move.done.title", language),
        close=t("transfers.move.done.close", language),
        blocks=[section(text)],
    )


def day_text(day: date | None) -> str:
    return f"{day:%Y/%m/%d}" if day else "-"


def status_text(status: MoveStatus, language: Language) -> str:
    return t(f"transfers.move.status.{status.value}", language)


# ---- the member's DMs --------------------------------------------------------------------


def applied_blocks(
    summary: MoveSummary, *, slack_email: str, due: str | None, language: Language
) -> list[Block]:
    """slack_email: "scim" (Kyoso changed it), "instructions" (the member should), or
    "unchanged"."""
    organisation = escape_mrkdwn(summary.new_organisation or "-")
    blocks: list[Block] = [
        section(t("transfers.move.applied.body", language, organisation=organisation))
    ]
    if slack_email == "scim":
        blocks.append(section(t("transfers.move.applied.scim", language)))
    elif slack_email == "instructions":
        text = t(
            "transfers.move.applied.instructions",
            language,
            email=escape_mrkdwn(summary.new_email),
            due=due or "-",
        )
        blocks.append(section(text))
    else:
        blocks.append(context(t("transfers.move.applied.unchanged", language)))
    return blocks


def scheduled_blocks(summary: MoveSummary, *, language: Language) -> list[Block]:
    """The move is confirmed and applies on its effective date; until then it can be
    cancelled."""
    organisation = escape_mrkdwn(summary.new_organisation or "-")
    day = day_text(summary.effective_on)
    return [
        section(t("transfers.move.scheduled.body", language, date=day, organisation=organisation)),
        ActionsBlock(
            block_id=f"{ids.TRANSFER_MOVE_CANCEL}:{summary.public_id}",
            elements=[
                ButtonElement(
                    text=t("transfers.move.scheduled.cancel_button", language),
                    action_id=ids.TRANSFER_MOVE_CANCEL,
                    value=summary.public_id,
                    confirm=ConfirmObject(
                        title=t("transfers.move.scheduled.cancel_title", language),
                        text=t("transfers.move.scheduled.cancel_confirm", language),
                        confirm=t("transfers.move.scheduled.cancel_yes", language),
                        deny=t("transfers.move.scheduled.cancel_no", language),
                    ),
                )
            ],
        ),
    ]


def refused_blocks(
    summary: MoveSummary, *, by_secretariat: bool, language: Language
) -> list[Block]:
    if by_secretariat:
        return [section(t("transfers.move.refused_dm.secretariat", language))]
    reasons = "\n".join(f"• {escape_mrkdwn(r)}" for r in shown_reasons(summary.reasons, language))
    blocks: list[Block] = [section(t("transfers.move.refused_dm.body", language))]
    if reasons:
        blocks.append(section(reasons))
    blocks.append(context(t("transfers.move.refused.help", language)))
    return blocks


# ---- the secretariat ---------------------------------------------------------------------


def review_text(summary: MoveSummary, language: Language) -> str:
    return t("transfers.move.review.text", language, member=mention(summary.slack_user_id))


def review_blocks(summary: MoveSummary, language: Language) -> list[Block]:
    none = t("transfers.move.review.none", language)

    def value(text: str | None) -> str:
        return escape_mrkdwn(text) if text else none

    heading = t("transfers.move.review.heading", language, member=mention(summary.slack_user_id))
    blocks: list[Block] = [
        section(heading),
        SectionBlock(
            fields=[
                field(t("transfers.move.review.old", language), value(summary.old_organisation)),
                field(t("transfers.move.review.new", language), value(summary.new_organisation)),
                field(t("transfers.move.review.email", language), value(summary.new_email)),
                field(t("transfers.move.review.department", language), value(summary.department)),
                field(
                    t("transfers.move.review.effective", language),
                    summary.effective_on.isoformat() if summary.effective_on else none,
                ),
            ]
        ),
    ]
    reasons = shown_reasons(summary.reasons, language)
    if reasons:
        lines = "\n".join(f"• {escape_mrkdwn(r)}" for r in reasons)
        blocks.append(section(t("transfers.move.review.reasons", language) + "\n" + lines))
    status = status_text(summary.status, language)
    if summary.status is MoveStatus.REVIEW:
        blocks.append(context(t("transfers.move.review.status", language, status=status)))
        blocks.append(
            decision_row(
                block_id=ids.TRANSFER_MOVE_REVIEW_BLOCK,
                value=summary.public_id,
                choices=[
                    Choice(
                        t("transfers.move.review.approve", language),
                        ids.TRANSFER_MOVE_APPROVE,
                        style="primary",
                    ),
                    Choice(
                        t("transfers.move.review.refuse", language),
                        ids.TRANSFER_MOVE_REFUSE,
                        style="danger",
                    ),
                ],
            )
        )
    else:
        actor = mention(summary.decided_by) if summary.decided_by else "-"
        text = t("transfers.move.review.decided", language, status=status, actor=actor)
        blocks.append(context(text))
    return blocks


def todo_blocks(summary: MoveSummary, *, days: int, language: Language) -> list[Block]:
    text = t(
        "transfers.move.todo.body",
        language,
        member=mention(summary.slack_user_id),
        organisation=escape_mrkdwn(summary.new_organisation or "-"),
        email=escape_mrkdwn(summary.new_email),
        days=days,
    )
    return [section(text, block_id=f"{ids.TRANSFER_MOVE_TODO_BLOCK}{summary.public_id}")]


def todo_text(summary: MoveSummary, language: Language) -> str:
    return t("transfers.move.todo.text", language, member=mention(summary.slack_user_id))
