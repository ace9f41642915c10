"""Block Kit for the secretariat's appointments: the roster (`/kyoso ambassadors`, an
ephemeral message, a page at a time), the appointment and extension modals, what they
show when done, and the review channel's reminder that a term ends within a month."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.ambassadors_appointments import (
    ROSTER_PAGE_SIZE,
    RosterLine,
    RosterPage,
    TermReminder,
)
from bot.i18n import Language, t
from bot.regions import PREFECTURES, REGION_KEYS, region_name
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

K = "ambassadors.appointments"


class AppointModalMetadata(ModalMetadata):
    language: Language
    public_id: str  # chosen when the form opened: a second submit finds the first


class ExtendModalMetadata(ModalMetadata):
    language: Language
    public_id: str


def day_text(day: date) -> str:
    return day.strftime("%Y/%m/%d")


def area_text(prefectures: tuple[str, ...], region: str | None, language: Language) -> str:
    if region:
        return t(f"{K}.region_area", language, region=region_name(region, language))
    return "・".join(prefectures)


def _term(line: RosterLine | TermReminder, starts_on: date, language: Language) -> str:
    return t(f"{K}.term", language, start=day_text(starts_on), end=day_text(line.ends_on))


def _active_text(line: RosterLine, today: date, language: Language) -> str:
    if line.starts_on > today:
        when = t(f"{K}.starts_later", language, start=day_text(line.starts_on))
    else:
        when = t(f"{K}.days_left", language, days=(line.ends_on - today).days)
    return cut(
        f"{mention(line.slack_user_id)} — *{area_text(line.prefectures, line.region, language)}*"
        f"\n{_term(line, line.starts_on, language)} · {when}"
    )


def _ended_text(line: RosterLine, language: Language) -> str:
    reason = t(f"{K}.reason.{line.end_reason or 'ended'}", language)
    return cut(
        f"{mention(line.slack_user_id)} — {area_text(line.prefectures, line.region, language)}"
        f" · {_term(line, line.starts_on, language)} · {reason}"
    )


def roster_blocks(page: RosterPage, language: Language) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=t(f"{K}.title", language)),
        section(t(f"{K}.summary", language, serving=page.serving, total=page.total)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t(f"{K}.appoint", language),
                    action_id=ids.AMBASSADORS_APPOINT,
                    style="primary",
                )
            ]
        ),
        DividerBlock(),
    ]
    if not page.lines:
        blocks.append(context(t(f"{K}.empty", language)))
    history_shown = False
    for line in page.lines:
        if line.active:
            blocks.append(section(_active_text(line, page.today, language)))
            blocks.append(
                decision_row(
                    block_id=ids.AMBASSADORS_ROSTER_BLOCK + line.public_id,
                    value=line.public_id,
                    choices=[
                        Choice(t(f"{K}.extend", language), ids.AMBASSADORS_EXTEND),
                        Choice(
                            t(f"{K}.end", language),
                            ids.AMBASSADORS_END,
                            style="danger",
                            confirm=confirm_dialog(
                                f"{K}.end_confirm",
                                language,
                                area=area_text(line.prefectures, line.region, language),
                            ),
                        ),
                    ],
                )
            )
            continue
        if not history_shown:
            blocks.append(section(t(f"{K}.history", language)))
            history_shown = True
        blocks.append(context(_ended_text(line, language)))
    pager = []
    if page.has_previous:
        pager.append(
            ButtonElement(
                text=t(f"{K}.previous", language),
                action_id=ids.AMBASSADORS_PAGE_PREVIOUS,
                value=str(max(page.offset - ROSTER_PAGE_SIZE, 0)),
            )
        )
    if page.has_next:
        pager.append(
            ButtonElement(
                text=t(f"{K}.next", language),
                action_id=ids.AMBASSADORS_PAGE_NEXT,
                value=str(page.offset + len(page.lines)),
            )
        )
    if pager:
        shown = f"{page.offset + 1}–{page.offset + len(page.lines)}"
        blocks.append(context(t(f"{K}.page", language, shown=shown, total=page.total)))
        blocks.append(ActionsBlock(elements=pager))
    return blocks


def roster_text(language: Language) -> str:
    return t(f"{K}.title", language)


def _option(text: str, value: str) -> Option:
    return Option(text=text, value=value)


def appoint_modal(
    language: Language, *, public_id: str, today: date, member: str | None = None
) -> View:
    prefectures = [_option(p, p) for p in PREFECTURES]
    regions = [_option(region_name(key, language), key) for key in REGION_KEYS]
    return View(
        type="modal",
        callback_id=ids.AMBASSADORS_APPOINT_MODAL,
        private_metadata=AppointModalMetadata(language=language, public_id=public_id).dump(),
        title=t(f"{K}.modal.title", language),
        submit=t(f"{K}.modal.submit", language),
        close=t(f"{K}.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.AMBASSADORS_MEMBER_BLOCK,
                label=t(f"{K}.modal.member", language),
                element=UserSelectElement(action_id=ids.AMBASSADORS_INPUT, initial_user=member),
            ),
            InputBlock(
                block_id=ids.AMBASSADORS_PREFECTURES_BLOCK,
                label=t(f"{K}.modal.prefectures", language),
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=ids.AMBASSADORS_INPUT,
                    placeholder=t(f"{K}.modal.prefectures_placeholder", language),
                    options=prefectures,
                ),
            ),
            InputBlock(
                block_id=ids.AMBASSADORS_REGION_BLOCK,
                label=t(f"{K}.modal.region", language),
                hint=t(f"{K}.modal.area_hint", language),
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.AMBASSADORS_INPUT,
                    placeholder=t(f"{K}.modal.region_placeholder", language),
                    options=regions,
                ),
            ),
            InputBlock(
                block_id=ids.AMBASSADORS_STARTS_BLOCK,
                label=t(f"{K}.modal.starts", language),
                element=DatePickerElement(
                    action_id=ids.AMBASSADORS_INPUT, initial_date=today.isoformat()
                ),
            ),
            InputBlock(
                block_id=ids.AMBASSADORS_ENDS_BLOCK,
                label=t(f"{K}.modal.ends", language),
                hint=t(f"{K}.modal.ends_hint", language),
                element=DatePickerElement(action_id=ids.AMBASSADORS_INPUT),
            ),
        ],
    )


def extend_modal(line: RosterLine, language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.AMBASSADORS_EXTEND_MODAL,
        private_metadata=ExtendModalMetadata(language=language, public_id=line.public_id).dump(),
        title=t(f"{K}.extend_modal.title", language),
        submit=t(f"{K}.extend_modal.submit", language),
        close=t(f"{K}.modal.cancel", language),
        blocks=[
            section(
                f"{mention(line.slack_user_id)} — "
                f"*{area_text(line.prefectures, line.region, language)}*\n"
                f"{_term(line, line.starts_on, language)}"
            ),
            InputBlock(
                block_id=ids.AMBASSADORS_ENDS_BLOCK,
                label=t(f"{K}.extend_modal.ends", language),
                element=DatePickerElement(
                    action_id=ids.AMBASSADORS_INPUT, initial_date=line.ends_on.isoformat()
                ),
            ),
        ],
    )


def done_modal(line: RosterLine, key: str, language: Language) -> View:
    """What a modal shows once saved: the appointment as it now stands."""
    return View(
        type="modal",
        title=t(f"{K}.modal.title", language),
        close=t(f"{K}.done.close", language),
        blocks=[
            section(
                t(
                    f"{K}.done.{key}",
                    language,
                    member=mention(line.slack_user_id),
                    area=area_text(line.prefectures, line.region, language),
                    term=_term(line, line.starts_on, language),
                )
            )
        ],
    )


def form_error(code: str, language: Language) -> str:
    return t(f"{K}.error.{code}", language)


def note_text(key: str, language: Language) -> str:
    return t(f"{K}.note.{key}", language)


def reminder_blocks(
    reminder: TermReminder, today: date, language: Language
) -> tuple[list[Block], str]:
    text = t(
        f"{K}.reminder",
        language,
        member=mention(reminder.slack_user_id),
        area=area_text(reminder.prefectures, reminder.region, language),
        end=day_text(reminder.ends_on),
        days=(reminder.ends_on - today).days,
    )
    blocks: list[Block] = [
        section(text, block_id=ids.AMBASSADORS_REMINDER_BLOCK + reminder.public_id),
        context(t(f"{K}.reminder_how", language)),
    ]
    return blocks, text
