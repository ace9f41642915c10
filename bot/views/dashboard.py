"""App Home (a member's own page; the secretariat's dashboard), queue lists, statistics and the
weekly report, as Block Kit. Pure functions of plain data and a language.

Every builder stays within Slack's limits however many items there are: the Home tab holds
at most 100 blocks and a message 50, so long lists are summarised ("and 9,990 more") or paged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.i18n import Language, t
from bot.services.dashboard import MemberHome, QueueItem, QueueKind, QueuePage, QueueSummary
from bot.services.statistics import Headline, Statistics
from bot.text import escape_mrkdwn
from bot.timefmt import JST, jst, slack_date

HOME_BLOCK_LIMIT = 100
MESSAGE_BLOCK_LIMIT = 50
SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
PREFECTURES_PER_LINE = 3


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_fit(text, SECTION_TEXT_LIMIT))


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_md(text))


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=_fit(text, HEADER_LIMIT))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_md(text)])


def _n(value: int) -> str:
    return f"{value:,}"


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def age(at: datetime, now: datetime, language: Language) -> str:
    """How long ago, in whole days past the first day: 3日 / 3 days."""
    elapsed = max(now - at, timedelta(0))
    if elapsed >= timedelta(days=1):
        return t("dashboard.age.days", language, days=_n(elapsed.days))
    if elapsed >= timedelta(hours=1):
        return t("dashboard.age.hours", language, hours=str(elapsed.seconds // 3600))
    return t("dashboard.age.minutes", language)


def _mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else ""


# --- a member's own Home ------------------------------------------------------------------------


def member_blocks(home: MemberHome, language: Language) -> list[Block]:
    """Status, channels the member facilitates, and how to get help: at most 6 blocks."""
    status = t(f"home.status.{home.status or 'unknown'}", language)
    blocks: list[Block] = [
        _header(t("home.title", language)),
        _section(t("home.greeting", language, name=_mention(home.user_id))),
    ]
    fields = [_md(f"*{t('dashboard.member.status', language)}*\n{status}")]
    if home.status is not None:
        fields.append(
            _md(
                f"*{t('dashboard.member.organisation', language)}*\n"
                + escape_mrkdwn(home.organisation or t("dashboard.member.unknown", language))
            )
        )
        if home.joined_at is not None:
            fields.append(
                _md(f"*{t('dashboard.member.joined', language)}*\n{slack_date(home.joined_at)}")
            )
        rules = t(f"dashboard.member.rules.{home.rules_state or 'none'}", language)
        fields.append(_md(f"*{t('dashboard.member.rules', language)}*\n{rules}"))
        if home.roles:
            roles = "、".join(t(f"dashboard.role.{r}", language) for r in home.roles)
            fields.append(_md(f"*{t('dashboard.member.roles', language)}*\n{roles}"))
    blocks.append(SectionBlock(fields=fields))
    if home.facilitated_total:
        lines = [f"• <#{c.slack_channel_id}>" for c in home.facilitated]
        hidden = home.facilitated_total - len(home.facilitated)
        if hidden > 0:
            lines.append(t("dashboard.more", language, count=_n(hidden)))
        blocks.append(
            _section(
                f"*{t('dashboard.member.facilitated', language, count=_n(home.facilitated_total))}*"
                + "\n"
                + "\n".join(lines)
                + "\n"
                + t("dashboard.member.facilitated_hint", language)
            )
        )
    blocks.append(_section(t("home.help", language)))
    blocks.append(_context(t("dashboard.member.help_more", language)))
    return blocks


def member_home_view(home: MemberHome, language: Language) -> View:
    return View(type="home", blocks=member_blocks(home, language))


# --- the secretariat's dashboard ----------------------------------------------------------------


def _queue_block(queue: QueueSummary, language: Language, now: datetime) -> SectionBlock:
    title = t(f"dashboard.queue.{queue.kind.value}", language)
    count = t("dashboard.queue.count", language, count=_n(queue.count))
    if queue.oldest_at is not None and queue.count:
        oldest = t(
            "dashboard.queue.oldest",
            language,
            age=age(queue.oldest_at, now, language),
            date=slack_date(queue.oldest_at),
        )
    else:
        oldest = t("dashboard.queue.empty", language)
    icon = ":large_orange_circle:" if queue.count else ":white_check_mark:"
    return SectionBlock(
        text=_md(f"{icon} *{title}*　*{count}*\n{oldest}"),
        accessory=ButtonElement(
            text=t("dashboard.queue.open", language),
            action_id=ids.DASHBOARD_OPEN_LIST,
            value=queue.kind.value,
        ),
    )


def queue_blocks(queues: Sequence[QueueSummary], language: Language, now: datetime) -> list[Block]:
    return [
        _header(t("dashboard.title", language)),
        ContextBlock(
            elements=[_md(t("dashboard.updated", language, at=slack_date(now)))],
        ),
        *(_queue_block(q, language, now) for q in queues),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t("dashboard.refresh", language),
                    action_id=ids.DASHBOARD_HOME,
                    value="refresh",
                )
            ]
        ),
    ]


def export_blocks(language: Language) -> list[Block]:
    return [
        _section(
            f"*{t('dashboard.export.title', language)}*\n{t('dashboard.export.hint', language)}"
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t(f"dashboard.export.button.{kind}", language),
                    action_id=action_id,
                    value=kind,
                )
                for kind, action_id in ids.DASHBOARD_EXPORTS.items()
            ]
        ),
    ]


def secretariat_home_view(
    home: MemberHome,
    queues: Sequence[QueueSummary],
    stats: Statistics,
    language: Language,
    now: datetime,
) -> View:
    blocks: list[Block] = [
        *queue_blocks(queues, language, now),
        DividerBlock(),
        *statistics_blocks(stats, language, full=True),
        DividerBlock(),
        *export_blocks(language),
        DividerBlock(),
        *member_blocks(home, language),
    ]
    return View(type="home", blocks=blocks[:HOME_BLOCK_LIMIT])


# --- a queue's list, page by page ----------------------------------------------------------------


def _item_block(
    kind: QueueKind, item: QueueItem, language: Language, now: datetime
) -> SectionBlock:
    title = escape_mrkdwn(item.title) or t("dashboard.member.unknown", language)
    head = f"*{title}*"
    if item.user_id and kind in (QueueKind.FLAGGED, QueueKind.ONBOARDING):
        head = f"{_mention(item.user_id)}　{head}"
    if kind not in (QueueKind.FLAGGED, QueueKind.ONBOARDING):
        head += f"　`{escape_mrkdwn(item.reference)}`"
    facts: list[str] = []
    if item.detail:
        if kind is QueueKind.CHANNEL_REQUESTS:
            detail = t(f"dashboard.channel_kind.{item.detail}", language)
        elif kind is QueueKind.MODERATION:
            detail = t(f"dashboard.case_source.{item.detail}", language)
        else:
            detail = escape_mrkdwn(item.detail)
        facts.append(t(f"dashboard.detail.{kind.value}", language, detail=detail))
    if kind is QueueKind.CHANNEL_REQUESTS and item.user_id:
        facts.append(t("dashboard.item.requester", language, user=_mention(item.user_id)))
    if kind is QueueKind.MODERATION:
        if item.user_id:
            facts.append(t("dashboard.item.author", language, user=_mention(item.user_id)))
        if item.channel_id:
            facts.append(f"<#{item.channel_id}>")
    if item.status and kind in (QueueKind.APPLICATIONS, QueueKind.MODERATION):
        facts.append(t(f"dashboard.status.{kind.value}.{item.status}", language))
    since = t(
        f"dashboard.item.since.{kind.value}",
        language,
        date=slack_date(item.at),
        age=age(item.at, now, language),
    )
    facts.append(since)
    if kind is QueueKind.FLAGGED:
        seen = (
            slack_date(item.last_seen_at)
            if item.last_seen_at is not None
            else t("dashboard.item.never", language)
        )
        facts.append(t("dashboard.item.last_seen", language, date=seen))
    if item.business_days is not None:
        facts.append(t("dashboard.item.business_days", language, days=str(item.business_days)))
    return _section(head + "\n" + " · ".join(facts))


def _page_button(
    label_key: str, action_id: str, kind: QueueKind, page: int, language: Language
) -> ButtonElement:
    return ButtonElement(
        text=t(label_key, language), action_id=action_id, value=f"{kind.value}:{page}"
    )


def queue_list_view(page: QueuePage, language: Language, now: datetime) -> View:
    """One page of a queue (at most PAGE_SIZE items), with paging and a way back."""
    kind = page.kind
    blocks: list[Block] = [
        _header(t(f"dashboard.queue.{kind.value}", language)),
        _context(
            t(
                "dashboard.list.summary",
                language,
                total=_n(page.total),
                page=_n(page.page),
                pages=_n(page.pages),
            )
        ),
        DividerBlock(),
    ]
    if not page.items:
        blocks.append(_section(t("dashboard.list.empty", language)))
    blocks.extend(_item_block(kind, item, language, now) for item in page.items)
    blocks.append(_context(t(f"dashboard.list.where.{kind.value}", language)))
    buttons = []
    if page.page > 1:
        buttons.append(
            _page_button("dashboard.list.first", ids.DASHBOARD_PAGE_FIRST, kind, 1, language)
        )
        buttons.append(
            _page_button(
                "dashboard.list.previous",
                ids.DASHBOARD_PAGE_PREVIOUS,
                kind,
                page.page - 1,
                language,
            )
        )
    if page.page < page.pages:
        buttons.append(
            _page_button(
                "dashboard.list.next", ids.DASHBOARD_PAGE_NEXT, kind, page.page + 1, language
            )
        )
        buttons.append(
            _page_button("dashboard.list.last", ids.DASHBOARD_PAGE_LAST, kind, page.pages, language)
        )
    buttons.append(
        ButtonElement(
            text=t("dashboard.list.back", language), action_id=ids.DASHBOARD_HOME, value="back"
        )
    )
    blocks.append(ActionsBlock(elements=buttons))
    return View(type="home", blocks=blocks[:HOME_BLOCK_LIMIT])


# --- statistics ----------------------------------------------------------------------------------


def _prefecture_name(name: str, name_en: str | None, language: Language) -> str:
    return name_en if language == "en" and name_en else name


def statistics_blocks(stats: Statistics, language: Language, *, full: bool) -> list[Block]:
    """The figures as at most 12 blocks. `full` adds what only the secretariat sees: members by
    status, moderation and applications."""

    def label(key: str) -> str:
        return t(f"dashboard.stats.{key}", language)

    headline = [
        _md(f"*{label('members')}*\n{_n(stats.members)}"),
        _md(
            f"*{label('active_30d')}*\n{_n(stats.active_30d)}"
            f"（{_rate(stats.active_30d, stats.members)}）"
        ),
        _md(
            f"*{label('local_governments')}*\n"
            f"{_n(stats.local_governments_covered)} / {_n(stats.local_governments)}"
            f"（{_rate(stats.local_governments_covered, stats.local_governments)}）"
        ),
        _md(
            f"*{label('municipalities')}*\n"
            f"{_n(stats.municipalities_covered)} / {_n(stats.municipalities)}"
            f"（{_rate(stats.municipalities_covered, stats.municipalities)}）"
        ),
        _md(f"*{label('agencies')}*\n{_n(stats.agencies_covered)} / {_n(stats.agencies)}"),
        _md(f"*{label('channels')}*\n{_n(stats.active_channels)}"),
        _md(f"*{label('new_7d')}*\n{_n(stats.new_members_7d)}"),
    ]
    blocks: list[Block] = [
        _header(label("title")),
        _context(t("dashboard.stats.as_of", language, at=jst(stats.generated_at, JST))),
        SectionBlock(fields=headline),
    ]

    kinds = "\n".join(
        t(
            "dashboard.stats.kind_line",
            language,
            kind=t(f"dashboard.kind.{k.kind}", language),
            members=_n(k.members),
            active=_n(k.active_30d),
        )
        for k in stats.members_by_kind
    )
    blocks.append(_section(f"*{label('by_kind')}*\n{kinds}"))

    weeks = "　".join(
        f"{w.week_start.month}/{w.week_start.day}〜 *{_n(w.count)}*"
        if language == "ja"
        else f"{w.week_start:%b} {w.week_start.day}: *{_n(w.count)}*"
        for w in stats.new_members_by_week
    )
    blocks.append(_section(f"*{label('new_by_week')}*\n{weeks}"))

    channels = "\n".join(
        t(
            "dashboard.stats.channel_line",
            language,
            kind=t(f"dashboard.channel_kind.{c.category}", language),
            active=_n(c.active),
            lively=_n(c.lively),
            quiet=_n(c.quiet),
            archived=_n(c.archived),
        )
        for c in stats.channels
    )
    blocks.append(_section(f"*{label('channels_by_kind')}*\n{channels}"))

    cells = [
        f"{_prefecture_name(p.name, p.name_en, language)} {_rate(p.covered, p.local_governments)}"
        f"（{p.covered}/{p.local_governments}）"
        for p in stats.coverage_by_prefecture
    ]
    if cells:
        lines = [
            "　".join(cells[i : i + PREFECTURES_PER_LINE])
            for i in range(0, len(cells), PREFECTURES_PER_LINE)
        ]
        blocks.append(_section(f"*{label('coverage_by_prefecture')}*\n" + "\n".join(lines)))

    if full:
        moderation = stats.moderation
        applications = stats.applications
        blocks.append(
            SectionBlock(
                fields=[
                    _md(
                        f"*{label('moderation')}*\n"
                        + t(
                            "dashboard.stats.moderation_line",
                            language,
                            open=_n(moderation.open),
                            opened=_n(moderation.opened_30d),
                            detections=_n(moderation.detections_30d),
                        )
                    ),
                    _md(
                        f"*{label('applications')}*\n"
                        + t(
                            "dashboard.stats.applications_line",
                            language,
                            awaiting=_n(applications.awaiting_decision),
                            submitted=_n(applications.submitted_30d),
                            approved=_n(applications.approved_30d),
                            rejected=_n(applications.rejected_30d),
                        )
                    ),
                ]
            )
        )
        statuses = "　".join(
            f"{t(f'home.status.{status}', language)} {_n(count)}"
            for status, count in stats.members_by_status.items()
        )
        blocks.append(_context(f"{label('by_status')}: {statuses}"))
    blocks.append(_context(label("definitions")))
    return blocks


def statistics_text(stats: Statistics, language: Language) -> str:
    """The notification fallback of `/kyoso stats`."""
    return t(
        "dashboard.stats.text",
        language,
        members=_n(stats.members),
        active=_n(stats.active_30d),
        covered=_n(stats.local_governments_covered),
        total=_n(stats.local_governments),
    )


# --- the weekly report --------------------------------------------------------------------------

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
    return f"（{sign}{_n(abs(delta))}）"


def weekly_report_blocks(
    current: Headline,
    previous: Headline | None,
    language: Language,
    *,
    now: datetime,
    previous_at: datetime | None,
    zone: ZoneInfo = JST,
) -> list[Block]:
    today = now.astimezone(zone).date()
    values = current.to_dict()
    before = previous.to_dict() if previous is not None else {}
    fields = [
        _md(
            f"*{t(f'dashboard.report.figure.{key}', language)}*\n"
            f"{_n(values[key])}{_change(values[key], before.get(key))}"
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
        _header(t("dashboard.report.title", language, date=f"{today:%Y/%m/%d}")),
        SectionBlock(fields=fields[:10]),
        _context(compared + "\n" + t("dashboard.stats.definitions", language)),
        _context(t("dashboard.report.charts", language)),
    ]


def weekly_report_text(current: Headline, previous: Headline | None, language: Language) -> str:
    before = previous.members if previous is not None else None
    return t(
        "dashboard.report.text",
        language,
        members=_n(current.members) + _change(current.members, before),
        active=_n(current.active_30d),
    )


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in blocks]
