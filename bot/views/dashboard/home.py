"""The Home tab: a member's own page; for the secretariat, the dashboard above it (queues,
figures, exports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.ambassador_figures import AmbassadorFigures
from bot.domain.dashboard import HomePage, MemberHome, QueueSummary
from bot.domain.secretariat_guests import GuestList
from bot.domain.statistics import Statistics
from bot.domain.transfers import TransferFigures
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.ambassadors.figures import ambassador_figures_blocks
from bot.views.ambassadors.home import ambassador_blocks
from bot.views.dashboard.common import (
    HOME_BLOCK_LIMIT,
    age,
    context,
    header,
    md,
    mention,
    number,
    section,
)
from bot.views.dashboard.statistics import statistics_blocks
from bot.views.knowledge.search import home_search_button
from bot.views.secretariat.guests import guest_blocks
from bot.views.secretariat.members import roles_home_button
from bot.views.transfers.figures import member_transfer_blocks, transfer_figures_blocks


def home_view(
    page: HomePage, language: Language, now: datetime, *, workspace_url: str | None = None
) -> View:
    """The secretariat's dashboard when the page carries its figures, else the member's page;
    an ambassador's section (in the room left under 100 blocks) above their own page."""

    def build(ambassador: Sequence[Block]) -> View:
        if page.statistics is None:
            return member_home_view(page.member, language, before_own_page=ambassador)
        return secretariat_home_view(
            page.member,
            page.queues,
            page.statistics,
            language,
            now,
            transfers=page.transfers,
            ambassadors=page.ambassadors,
            guests=page.guests,
            before_own_page=ambassador,
        )

    view = build(())
    if page.ambassador is None:
        return view
    room = HOME_BLOCK_LIMIT - len(view.blocks)
    return build(
        ambassador_blocks(page.ambassador, language, now, workspace_url=workspace_url, budget=room)
    )


# --- a member's own Home ------------------------------------------------------------------------


def member_blocks(home: MemberHome, language: Language) -> list[Block]:
    """Status, knowledge search, their move or departure, channels the member facilitates, and
    how to get help: at most 10 blocks."""
    status = t(f"home.status.{home.status or 'unknown'}", language)
    blocks: list[Block] = [
        header(t("home.title", language)),
        section(t("home.greeting", language, name=mention(home.user_id))),
    ]
    fields = [md(f"*{t('dashboard.member.status', language)}*\n{status}")]
    if home.status is not None:
        fields.append(
            md(
                f"*{t('dashboard.member.organisation', language)}*\n"
                + escape_mrkdwn(home.organisation or t("dashboard.member.unknown", language))
            )
        )
        if home.joined_at is not None:
            fields.append(
                md(f"*{t('dashboard.member.joined', language)}*\n{slack_date(home.joined_at)}")
            )
        rules = t(f"dashboard.member.rules.{home.rules_state or 'none'}", language)
        fields.append(md(f"*{t('dashboard.member.rules', language)}*\n{rules}"))
        if home.roles:
            roles = "、".join(t(f"dashboard.role.{r}", language) for r in home.roles)
            fields.append(md(f"*{t('dashboard.member.roles', language)}*\n{roles}"))
    blocks.append(SectionBlock(fields=fields))
    blocks.append(home_search_button(language))
    if home.status is not None:
        blocks.extend(member_transfer_blocks(home.transfers, language))
    if home.facilitated_total:
        lines = [f"• <#{c.slack_channel_id}>" for c in home.facilitated]
        hidden = home.facilitated_total - len(home.facilitated)
        if hidden > 0:
            lines.append(t("dashboard.more", language, count=number(hidden)))
        blocks.append(
            section(
                f"*{t('dashboard.member.facilitated', language, count=number(home.facilitated_total))}*"
                + "\n"
                + "\n".join(lines)
                + "\n"
                + t("dashboard.member.facilitated_hint", language)
            )
        )
    blocks.append(section(t("home.help", language)))
    blocks.append(context(t("dashboard.member.help_more", language)))
    return blocks


def member_home_view(
    home: MemberHome, language: Language, *, before_own_page: Sequence[Block] = ()
) -> View:
    return View(type="home", blocks=[*before_own_page, *member_blocks(home, language)])


# --- the secretariat's dashboard ----------------------------------------------------------------


def _queue_block(queue: QueueSummary, language: Language, now: datetime) -> SectionBlock:
    title = t(f"dashboard.queue.{queue.kind.value}", language)
    count = t("dashboard.queue.count", language, count=number(queue.count))
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
        text=md(f"{icon} *{title}*　*{count}*\n{oldest}"),
        accessory=ButtonElement(
            text=t("dashboard.queue.open", language),
            action_id=ids.DASHBOARD_OPEN_LIST,
            value=queue.kind.value,
        ),
    )


def queue_blocks(queues: Sequence[QueueSummary], language: Language, now: datetime) -> list[Block]:
    return [
        header(t("dashboard.title", language)),
        ContextBlock(
            elements=[md(t("dashboard.updated", language, at=slack_date(now)))],
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
        section(
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
            + [roles_home_button(language)]  # the secretariat's roles modal (issue 16)
        ),
    ]


def secretariat_home_view(
    home: MemberHome,
    queues: Sequence[QueueSummary],
    stats: Statistics,
    language: Language,
    now: datetime,
    *,
    transfers: TransferFigures | None = None,
    ambassadors: AmbassadorFigures | None = None,
    guests: GuestList | None = None,
    before_own_page: Sequence[Block] = (),
) -> View:
    blocks: list[Block] = [
        *queue_blocks(queues, language, now),
        DividerBlock(),
        *statistics_blocks(stats, language, full=True),
        DividerBlock(),
        *([*transfer_figures_blocks(transfers, language), DividerBlock()] if transfers else []),
        *(
            [*ambassador_figures_blocks(ambassadors, language), DividerBlock()]
            if ambassadors
            else []
        ),
        *([*guest_blocks(guests, language), DividerBlock()] if guests and guests.total else []),
        *export_blocks(language),
        DividerBlock(),
        *before_own_page,
        *member_blocks(home, language),
    ]
    return View(type="home", blocks=blocks[:HOME_BLOCK_LIMIT])
