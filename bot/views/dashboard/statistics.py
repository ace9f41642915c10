"""The figures: `/kyoso stats` and the dashboard's statistics section."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.domain.statistics import Statistics
from bot.i18n import Language, t
from bot.timefmt import JST, jst
from bot.views.blocks import field
from bot.views.dashboard.common import context, header, number, rate, section

PREFECTURES_PER_LINE = 3


def statistics_blocks(stats: Statistics, language: Language, *, full: bool) -> list[Block]:
    """The figures as at most 12 blocks. `full` adds what only the secretariat sees: members by
    status, moderation and applications."""
    blocks: list[Block] = [
        header(_label("title", language)),
        context(t("dashboard.stats.as_of", language, at=jst(stats.generated_at, JST))),
        _headline(stats, language),
        _by_kind(stats, language),
        _new_by_week(stats, language),
        _channels(stats, language),
    ]
    coverage = _coverage(stats, language)
    if coverage is not None:
        blocks.append(coverage)
    if full:
        blocks.extend(_secretariat_only(stats, language))
    blocks.append(context(_label("definitions", language)))
    return blocks


def statistics_text(stats: Statistics, language: Language) -> str:
    """The notification fallback of `/kyoso stats`."""
    return t(
        "dashboard.stats.text",
        language,
        members=number(stats.members),
        active=number(stats.active_30d),
        covered=number(stats.local_governments_covered),
        total=number(stats.local_governments),
    )


def _label(key: str, language: Language) -> str:
    return t(f"dashboard.stats.{key}", language)


def _field(key: str, value: str, language: Language) -> MarkdownTextObject:
    return field(_label(key, language), value)


def _titled(key: str, lines: list[str], language: Language) -> SectionBlock:
    """A section of lines under its bold title."""
    return section(f"*{_label(key, language)}*\n" + "\n".join(lines))


def _share(part: int, whole: int) -> str:
    """Part of a whole, e.g. 12 / 40（30.0%）."""
    return f"{number(part)} / {number(whole)}（{rate(part, whole)}）"


def _headline(stats: Statistics, language: Language) -> SectionBlock:
    active = f"{number(stats.active_30d)}（{rate(stats.active_30d, stats.members)}）"
    agencies = f"{number(stats.agencies_covered)} / {number(stats.agencies)}"
    return SectionBlock(
        fields=[
            _field("members", number(stats.members), language),
            _field("active_30d", active, language),
            _field(
                "local_governments",
                _share(stats.local_governments_covered, stats.local_governments),
                language,
            ),
            _field(
                "municipalities",
                _share(stats.municipalities_covered, stats.municipalities),
                language,
            ),
            _field("agencies", agencies, language),
            _field("channels", number(stats.active_channels), language),
            _field("new_7d", number(stats.new_members_7d), language),
        ]
    )


def _by_kind(stats: Statistics, language: Language) -> SectionBlock:
    lines = [
        t(
            "dashboard.stats.kind_line",
            language,
            kind=t(f"dashboard.kind.{k.kind}", language),
            members=number(k.members),
            active=number(k.active_30d),
        )
        for k in stats.members_by_kind
    ]
    return _titled("by_kind", lines, language)


def _new_by_week(stats: Statistics, language: Language) -> SectionBlock:
    weeks = "　".join(
        f"{w.week_start.month}/{w.week_start.day}〜 *{number(w.count)}*"
        if language == "ja"
        else f"{w.week_start:%b} {w.week_start.day}: *{number(w.count)}*"
        for w in stats.new_members_by_week
    )
    return _titled("new_by_week", [weeks], language)


def _channels(stats: Statistics, language: Language) -> SectionBlock:
    lines = [
        t(
            "dashboard.stats.channel_line",
            language,
            kind=t(f"dashboard.channel_kind.{c.category}", language),
            active=number(c.active),
            lively=number(c.lively),
            quiet=number(c.quiet),
            archived=number(c.archived),
        )
        for c in stats.channels
    ]
    return _titled("channels_by_kind", lines, language)


def _coverage(stats: Statistics, language: Language) -> SectionBlock | None:
    cells = [
        f"{p.name_en if language == 'en' and p.name_en else p.name} "
        f"{rate(p.covered, p.local_governments)}（{p.covered}/{p.local_governments}）"
        for p in stats.coverage_by_prefecture
    ]
    if not cells:
        return None
    lines = [
        "　".join(cells[i : i + PREFECTURES_PER_LINE])
        for i in range(0, len(cells), PREFECTURES_PER_LINE)
    ]
    return _titled("coverage_by_prefecture", lines, language)


def _secretariat_only(stats: Statistics, language: Language) -> list[Block]:
    moderation, applications = stats.moderation, stats.applications
    moderation_line = t(
        "dashboard.stats.moderation_line",
        language,
        open=number(moderation.open),
        opened=number(moderation.opened_30d),
        detections=number(moderation.detections_30d),
    )
    applications_line = t(
        "dashboard.stats.applications_line",
        language,
        awaiting=number(applications.awaiting_decision),
        submitted=number(applications.submitted_30d),
        approved=number(applications.approved_30d),
        rejected=number(applications.rejected_30d),
    )
    statuses = "　".join(
        f"{t(f'home.status.{status}', language)} {number(count)}"
        for status, count in stats.members_by_status.items()
    )
    return [
        SectionBlock(
            fields=[
                _field("moderation", moderation_line, language),
                _field("applications", applications_line, language),
            ]
        ),
        context(f"{_label('by_status', language)}: {statuses}"),
    ]
