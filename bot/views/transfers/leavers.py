"""Block Kit for leavers: the leaving form, the member's confirmation (with change and cancel
buttons), the goodbye DM, and the secretariat's messages in the review channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    RadioButtonsElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.transfers_leavers import (
    CHANNEL_PICKERS,
    END_OF_BUSINESS,
    DepartureSummary,
    HandoverLine,
    LeavingForm,
)
from bot.i18n import Language, t
from bot.views.blocks import (
    Choice,
    ModalMetadata,
    confirm_dialog,
    context,
    cut,
    decision_row,
    mention,
    section,
)
from models import HandoverKind, KnowledgeChoice

LABEL_MAX = 2000  # an input block's label
TIME = END_OF_BUSINESS.strftime("%H:%M")


class LeaveModalMetadata(ModalMetadata):
    language: Language
    member: str  # whose leaving: the opener, or the member the secretariat named
    pickers: tuple[str, ...] = ()  # channels shown with their own successor picker


def day_text(day: date) -> str:
    return day.strftime("%Y/%m/%d")


def channel_link(slack_channel_id: str) -> str:
    return f"<#{slack_channel_id}>"


def leaving_modal(
    form: LeavingForm, language: Language, *, opener: str, last_day: date | None = None
) -> View:
    """The form, prefilled from a scheduled departure (or the day the survey gave)."""

    def tr(key: str, **params: object) -> str:
        return t(f"transfers.leave.modal.{key}", language, **params)

    current = form.current
    day = last_day or (current.last_day if current else None)
    successors = current.successors if current else {}
    intro = (
        tr("intro", time=TIME)
        if opener == form.slack_user_id
        else tr("intro_for", member=mention(form.slack_user_id), time=TIME)
    )
    knowledge_options = [
        Option(value=choice.value, text=tr(f"knowledge_{choice.value}"))
        for choice in KnowledgeChoice
    ]
    chosen = current.knowledge if current else KnowledgeChoice.ATTRIBUTED
    blocks: list[Block] = [
        section(intro),
        InputBlock(
            block_id=ids.TRANSFER_LEAVE_LAST_DAY_BLOCK,
            label=tr("last_day"),
            hint=tr("last_day_hint", time=TIME),
            element=DatePickerElement(
                action_id=ids.TRANSFER_LEAVE_INPUT,
                initial_date=day.isoformat() if day else None,
            ),
        ),
        InputBlock(
            block_id=ids.TRANSFER_LEAVE_KNOWLEDGE_BLOCK,
            label=tr("knowledge", count=form.knowledge_entries),
            element=RadioButtonsElement(
                action_id=ids.TRANSFER_LEAVE_INPUT,
                options=knowledge_options,
                initial_option=next(o for o in knowledge_options if o.value == chosen.value),
            ),
        ),
    ]
    shown = form.channels[:CHANNEL_PICKERS]
    for channel in shown:
        blocks.append(
            _successor(
                ids.TRANSFER_LEAVE_CHANNEL_BLOCK + channel.slack_channel_id,
                cut(tr("channel", channel=f"#{channel.name}"), LABEL_MAX),
                successors.get((HandoverKind.CHANNEL, channel.slack_channel_id)),
                language,
            )
        )
    rest = form.channels[CHANNEL_PICKERS:]
    if rest:
        first = successors.get((HandoverKind.CHANNEL, rest[0].slack_channel_id))
        blocks.append(
            _successor(
                ids.TRANSFER_LEAVE_OTHER_CHANNELS_BLOCK,
                tr("other_channels", count=len(rest)),
                first,
                language,
            )
        )
    if form.requests:
        blocks.append(
            _successor(
                ids.TRANSFER_LEAVE_REQUESTS_BLOCK,
                tr("requests", count=len(form.requests)),
                _first_successor(successors, HandoverKind.REQUEST),
                language,
            )
        )
    if form.cases:
        blocks.append(
            _successor(
                ids.TRANSFER_LEAVE_CASES_BLOCK,
                tr("cases", count=len(form.cases)),
                _first_successor(successors, HandoverKind.CASE),
                language,
            )
        )
    if form.roles:
        separator = "、" if language == "ja" else ", "
        roles = separator.join(t(f"transfers.leave.role.{r}", language) for r in form.roles)
        blocks.append(context(tr("roles", roles=roles)))
    if not (form.channels or form.requests or form.cases):
        blocks.append(context(tr("nothing")))
    metadata = LeaveModalMetadata(
        language=language,
        member=form.slack_user_id,
        pickers=tuple(c.slack_channel_id for c in shown),
    )
    return View(
        type="modal",
        callback_id=ids.TRANSFER_LEAVE_MODAL,
        private_metadata=metadata.dump(),
        title=tr("title"),
        submit=tr("submit"),
        close=tr("close"),
        blocks=blocks,
    )


def _successor(block_id: str, label: str, initial: str | None, language: Language) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=t("transfers.leave.modal.successor_hint", language),
        optional=True,
        element=UserSelectElement(action_id=ids.TRANSFER_LEAVE_INPUT, initial_user=initial),
    )


def _first_successor(
    successors: dict[tuple[HandoverKind, str], str | None], kind: HandoverKind
) -> str | None:
    return next((s for (k, _), s in successors.items() if k is kind and s), None)


def form_error(code: str, language: Language) -> str:
    return t(f"transfers.leave.error.{code}", language)


# --- the member's confirmation ------------------------------------------------------------------


def confirmation_blocks(
    summary: DepartureSummary, language: Language, *, actor: str
) -> list[Block]:
    def tr(key: str, **params: object) -> str:
        return t(f"transfers.leave.confirm.{key}", language, **params)

    if actor != summary.slack_user_id:
        head = tr("by_secretariat", actor=mention(actor))
    else:
        head = tr("changed" if summary.changed else "scheduled")
    lines = [tr("when", day=day_text(summary.last_day), time=TIME)]
    lines += [_plan_line(line, language) for line in summary.handovers]
    lines.append(tr(f"knowledge_{summary.knowledge.value}", count=summary.knowledge_entries))
    lines.append(tr("end"))
    return [
        section(head),
        section(cut("\n".join(lines))),
        context(tr("footer")),
        decision_row(
            value=summary.public_id,
            choices=[
                Choice(text=tr("change"), action_id=ids.TRANSFER_LEAVE_CHANGE),
                Choice(
                    text=tr("cancel"),
                    action_id=ids.TRANSFER_LEAVE_CANCEL,
                    style="danger",
                    confirm=confirm_dialog("transfers.leave.cancel_confirm", language),
                ),
            ],
        ),
    ]


def confirmation_text(summary: DepartureSummary, language: Language) -> str:
    return t("transfers.leave.confirm.when", language, day=day_text(summary.last_day), time=TIME)


def _plan_line(line: HandoverLine, language: Language) -> str:
    successor = (
        mention(line.successor)
        if line.successor
        else t("transfers.leave.confirm.secretariat", language)
    )
    if line.kind is HandoverKind.CHANNEL:
        return t(
            "transfers.leave.confirm.channel",
            language,
            channel=channel_link(line.label),
            successor=successor,
        )
    if line.kind is HandoverKind.REQUEST:
        return t("transfers.leave.confirm.request", language, name=line.label, successor=successor)
    if line.kind is HandoverKind.CASE:
        return t("transfers.leave.confirm.case", language, case=line.label, successor=successor)
    role = t(f"transfers.leave.role.{line.label}", language)
    return t("transfers.leave.confirm.role", language, role=role)


def cancelled_text(summary: DepartureSummary, language: Language) -> str:
    return t("transfers.leave.cancelled", language, day=day_text(summary.last_day))


def already_text(status: str, language: Language) -> str:
    shown = t(f"transfers.leave.status.{status}", language)
    return t("transfers.leave.already", language, status=shown)


def recorded_for_text(summary: DepartureSummary, language: Language) -> str:
    return t(
        "transfers.leave.recorded_for",
        language,
        member=mention(summary.slack_user_id),
        day=day_text(summary.last_day),
    )


# --- the last day ---------------------------------------------------------------------------------


def goodbye_blocks(public_id: str, language: Language) -> list[Block]:
    return [
        section(
            t("transfers.leave.goodbye", language),
            block_id=ids.TRANSFER_LEAVE_GOODBYE_BLOCK + public_id,
        )
    ]


def goodbye_text(language: Language) -> str:
    return t("transfers.leave.goodbye", language)


def secretariat_blocks(
    *,
    public_id: str,
    member: str,
    last_day: date,
    lines: Sequence[HandoverLine],
    invite_failures: Sequence[tuple[str, str, str]],  # (channel, successor, Slack's error)
    language: Language,
) -> list[Block]:
    """What came to the secretariat with a member's departure (and invitations Slack
    refused); the block id finds the message again after a crash."""

    def tr(key: str, **params: object) -> str:
        return t(f"transfers.leave.secretariat.{key}", language, **params)

    rows = []
    for line in lines:
        if line.kind is HandoverKind.CHANNEL:
            rows.append(tr("channel", channel=channel_link(line.label)))
        elif line.kind is HandoverKind.REQUEST:
            rows.append(tr("request", name=line.label))
        elif line.kind is HandoverKind.CASE:
            rows.append(tr("case", case=line.label))
    rows += [
        tr("invite_failed", successor=mention(s), channel=channel_link(c), error=e)
        for c, s, e in invite_failures
    ]
    return [
        section(
            tr("title", member=mention(member), day=day_text(last_day)),
            block_id=ids.TRANSFER_LEAVE_HANDOVER_BLOCK + public_id,
        ),
        section(cut("\n".join(rows))),
    ]


def secretariat_text(member: str, last_day: date, language: Language) -> str:
    return t(
        "transfers.leave.secretariat.title",
        language,
        member=mention(member),
        day=day_text(last_day),
    )


def to_do_blocks(
    *, public_id: str, member: str, last_day: date, error: str | None, language: Language
) -> list[Block]:
    return [
        section(
            to_do_text(member, last_day, error, language),
            block_id=ids.TRANSFER_LEAVE_TODO_BLOCK + public_id,
        )
    ]


def to_do_text(member: str, last_day: date, error: str | None, language: Language) -> str:
    detail = t("transfers.leave.todo_error", language, error=error) if error else ""
    return t(
        "transfers.leave.todo",
        language,
        member=mention(member),
        day=day_text(last_day),
        error=detail,
    )


def usage_text(language: Language) -> str:
    return t("transfers.leave.command.usage", language)


def gone_text(language: Language) -> str:
    return t("transfers.leave.gone", language)
