"""Ambassadors in the secretariat's figures: the App Home section and the weekly report's line."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from bot.domain.ambassador_figures import AmbassadorFigures, CoverageChange
from bot.i18n import Language, t
from bot.regions import region_name
from bot.views.dashboard.common import context, header, md, number, section

COVERAGE_LINES = 20


def _median(figures: AmbassadorFigures, language: Language) -> str:
    if figures.median_hours_to_greet is None:
        return "—"
    return t("ambassadors.figures.hours", language, hours=f"{figures.median_hours_to_greet:.1f}")


def _change(change: CoverageChange, language: Language) -> str:
    delta = change.now - change.at_start
    sign = "+" if delta > 0 else ("±" if delta == 0 else "−")
    return t(
        "ambassadors.figures.coverage_line",
        language,
        prefecture=change.prefecture,
        before=number(change.at_start),
        now=number(change.now),
        change=f"{sign}{number(abs(delta))}",
        since=f"{change.since:%Y/%m/%d}",
    )


def _without(figures: AmbassadorFigures, language: Language) -> str:
    if not figures.prefectures_without:
        return t("ambassadors.figures.without_none", language)
    return t(
        "ambassadors.figures.without",
        language,
        count=number(len(figures.prefectures_without)),
        prefectures="、".join(figures.prefectures_without),
    )


def ambassador_figures_blocks(figures: AmbassadorFigures, language: Language) -> list[Block]:
    """At most five blocks for the secretariat's Home."""
    regions = " · ".join(
        f"{region_name(key, language)} {number(count)}" for key, count in figures.by_region
    )
    blocks: list[Block] = [
        header(t("ambassadors.figures.title", language)),
        SectionBlock(
            fields=[
                md(
                    f"*{t('ambassadors.figures.serving', language)}*\n{number(figures.ambassadors)}"
                ),
                md(
                    f"*{t('ambassadors.figures.greetings', language)}*\n"
                    + t(
                        "ambassadors.figures.greetings_value",
                        language,
                        claimed=number(figures.greetings_claimed),
                        waiting=number(figures.greetings_open),
                    )
                ),
                md(f"*{t('ambassadors.figures.median', language)}*\n{_median(figures, language)}"),
            ]
        ),
        section(f"*{t('ambassadors.figures.by_region', language)}*\n{regions}"),
        context(_without(figures, language)),
    ]
    if figures.coverage:
        lines = [_change(c, language) for c in figures.coverage[:COVERAGE_LINES]]
        hidden = len(figures.coverage) - COVERAGE_LINES
        if hidden > 0:
            lines.append(t("dashboard.more", language, count=number(hidden)))
        blocks.append(
            section(f"*{t('ambassadors.figures.coverage', language)}*\n" + "\n".join(lines))
        )
    return blocks


def ambassador_report_block(figures: AmbassadorFigures, language: Language) -> SectionBlock:
    return section(
        t(
            "ambassadors.figures.report",
            language,
            serving=number(figures.ambassadors),
            without=number(len(figures.prefectures_without)),
            claimed=number(figures.greetings_claimed),
            waiting=number(figures.greetings_open),
            median=_median(figures, language),
        )
    )
