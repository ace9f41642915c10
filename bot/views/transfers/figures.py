"""Moves and leavers on the Home tab: the secretariat's figures and a member's own state."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot import ids
from bot.domain.transfers import MemberTransfers, TransferFigures
from bot.i18n import Language, t
from bot.views.dashboard.common import context, header, md, number, section
from bot.views.transfers.season import season_banner_blocks

PREFECTURES_SHOWN = 12


def _month_lines(figures: TransferFigures, language: Language) -> str:
    return "\n".join(
        t(
            "transfers.figures.month",
            language,
            month=month.month,
            moves=number(month.confirmed_moves),
            leavers=number(month.leavers),
        )
        for month in figures.months
    )


def _unverified_line(figures: TransferFigures, language: Language) -> str:
    if not figures.unverified_total:
        return t("transfers.figures.unverified_none", language)
    shown = figures.unverified[:PREFECTURES_SHOWN]
    parts = [f"{prefecture} {number(count)}" for prefecture, count in shown]
    hidden = len(figures.unverified) - len(shown)
    if hidden > 0:
        parts.append(t("dashboard.more", language, count=number(hidden)))
    return " · ".join(parts)


def transfer_figures_blocks(figures: TransferFigures, language: Language) -> list[Block]:
    """At most four blocks for the secretariat's Home."""
    return [
        header(t("transfers.figures.title", language)),
        SectionBlock(
            fields=[
                md(
                    f"*{t('transfers.figures.pending', language)}*\n{number(figures.pending_moves)}"
                ),
                md(
                    f"*{t('transfers.figures.scheduled', language)}*\n"
                    f"{number(figures.scheduled_leavers)}"
                ),
                md(
                    f"*{t('transfers.figures.unverified', language)}*\n"
                    f"{number(figures.unverified_total)}"
                ),
            ]
        ),
        section(
            f"*{t('transfers.figures.by_month', language)}*\n{_month_lines(figures, language)}"
        ),
        context(
            f"*{t('transfers.figures.unverified_by_prefecture', language)}* "
            + _unverified_line(figures, language)
        ),
    ]


def transfer_report_block(figures: TransferFigures, language: Language) -> SectionBlock:
    """The weekly report's line on people moving."""
    latest = figures.months[-1] if figures.months else None
    return section(
        t(
            "transfers.figures.report",
            language,
            pending=number(figures.pending_moves),
            moves=number(latest.confirmed_moves if latest else 0),
            leavers=number(latest.leavers if latest else 0),
            unverified=number(figures.unverified_total),
        )
        + "\n"
        + _unverified_line(figures, language)
    )


def member_transfer_blocks(state: MemberTransfers, language: Language) -> list[Block]:
    """The season's question, the member's own move or departure in one line, and the two ways
    in: three blocks at most (the Home's block budget is shared with the rest of the page)."""
    lines = []
    if state.move_awaiting:
        lines.append(t("transfers.home.move_awaiting", language))
    elif state.move_in_review:
        lines.append(t("transfers.home.move_in_review", language))
    elif state.move_scheduled_on is not None:
        day = f"{state.move_scheduled_on:%Y/%m/%d}"
        lines.append(t("transfers.home.move_scheduled", language, date=day))
    if state.last_day is not None:
        lines.append(t("transfers.home.leaving", language, date=f"{state.last_day:%Y/%m/%d}"))
    actions = ActionsBlock(
        block_id=ids.TRANSFER_MOVE_HOME,
        elements=[
            ButtonElement(
                text=t("transfers.home.move_button", language),
                action_id=ids.TRANSFER_MOVE_HOME,
                value="open",
            ),
            ButtonElement(
                text=t("transfers.home.leave_button", language),
                action_id=ids.TRANSFER_LEAVE_HOME,
                value="open",
            ),
        ],
    )
    season = season_banner_blocks(state.season, language) if state.season is not None else []
    return [*season, *([context("\n".join(lines))] if lines else []), actions]
