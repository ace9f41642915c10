"""The weekly report's message: the headline figures and their change since last week."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, SectionBlock

from bot.domain.ambassador_figures import AmbassadorFigures
from bot.domain.statistics import Headline
from bot.domain.transfers import TransferFigures
from bot.i18n import Language, t
from bot.timefmt import JST
from bot.views.ambassadors.figures import ambassador_report_block
from bot.views.dashboard.common import context, header, md, number
from bot.views.transfers.figures import transfer_report_block

_HEADLINE_ORDER = (
    "members",
    "active_30d",
    "local_governments_covered",
    "municipalities_covered",
    "agencies_covered",
    "channels",
    "new_members_7d",
    "open_cases",
    "applications_awaiting",
)


def _change(current: int, previous: int | None) -> str:
    if previous is None:
        return ""
    delta = current - previous
    if delta == 0:
        return "（±0）"
    sign = "+" if delta > 0 else "−"
    return f"（{sign}{number(abs(delta))}）"


def weekly_report_blocks(
    current: Headline,
    previous: Headline | None,
    language: Language,
    *,
    now: datetime,
    previous_at: datetime | None,
    zone: ZoneInfo = JST,
    transfers: TransferFigures | None = None,
    ambassadors: AmbassadorFigures | None = None,
) -> list[Block]:
    today = now.astimezone(zone).date()
    values = current.to_dict()
    before = previous.to_dict() if previous is not None else {}
    fields = [
        md(
            f"*{t(f'dashboard.report.figure.{key}', language)}*\n"
            f"{number(values[key])}{_change(values[key], before.get(key))}"
        )
        for key in _HEADLINE_ORDER
    ]
    if previous_at is not None:
        compared = t(
            "dashboard.report.compared",
            language,
            date=f"{previous_at.astimezone(zone):%Y/%m/%d}",
        )
    else:
        compared = t("dashboard.report.first", language)
    return [
        header(t("dashboard.report.title", language, date=f"{today:%Y/%m/%d}")),
        SectionBlock(fields=fields[:10]),
        *([transfer_report_block(transfers, language)] if transfers is not None else []),
        *([ambassador_report_block(ambassadors, language)] if ambassadors is not None else []),
        context(compared + "\n" + t("dashboard.stats.definitions", language)),
        context(t("dashboard.report.charts", language)),
    ]


def weekly_report_text(current: Headline, previous: Headline | None, language: Language) -> str:
    before = previous.members if previous is not None else None
    return t(
        "dashboard.report.text",
        language,
        members=number(current.members) + _change(current.members, before),
        active=number(current.active_30d),
    )
