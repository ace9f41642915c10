"""The ambassador's section of the Home tab: one block per prefecture they serve (a whole
region fits), each within Slack's 3,000 characters, and the CSV export of the municipalities
with no member. Lists show their first few and how many more."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot import ids
from bot.domain.ambassadors import AmbassadorSection, PrefectureOverview
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import jst, slack_date
from bot.views.blocks import cut
from bot.views.dashboard.common import (
    SECTION_TEXT_LIMIT,
    context,
    header,
    mention,
    number,
    rate,
    section,
)

UNANSWERED_BUSINESS_DAYS = 3  # as bot/services/ambassadors/overview.py counts them
FIXED_BLOCKS = 4  # header, context, the export button, the divider below
# How much of each list one prefecture shows, by how many prefectures share the section;
# each step down is tried when the text would not fit in one block.
_SHOWN: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    "one": ((30, 10, 5, 5), (15, 6, 3, 3), (6, 3, 2, 2), (0, 0, 0, 0)),
    "few": ((15, 6, 3, 3), (6, 3, 2, 2), (0, 0, 0, 0)),
    "many": ((6, 3, 2, 2), (3, 2, 1, 1), (0, 0, 0, 0)),
}


def ambassador_blocks(
    ambassador: AmbassadorSection,
    language: Language,
    now: datetime,
    *,
    workspace_url: str | None = None,
    budget: int = 100,
) -> list[Block]:
    """At most `budget` blocks: prefectures beyond it are named by count (the CSV has all)."""
    prefectures = ambassador.prefectures
    room = max(budget - FIXED_BLOCKS, 1)
    shown = prefectures if len(prefectures) <= room else prefectures[: room - 1]
    size = "one" if len(prefectures) == 1 else "few" if len(prefectures) <= 3 else "many"
    blocks: list[Block] = [
        header(t("ambassadors.home.title", language)),
        context(
            t(
                "ambassadors.home.updated",
                language,
                at=slack_date(now),
                days=UNANSWERED_BUSINESS_DAYS,
            )
        ),
        *(section(_fitted(p, language, workspace_url=workspace_url, size=size)) for p in shown),
    ]
    hidden = len(prefectures) - len(shown)
    if hidden:
        blocks.append(
            context(t("ambassadors.home.more_prefectures", language, count=number(hidden)))
        )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t("ambassadors.home.export_button", language),
                    action_id=ids.AMBASSADORS_EXPORT_UNCOVERED,
                    value="uncovered",
                )
            ]
        )
    )
    blocks.append(DividerBlock())
    return blocks


def _fitted(
    overview: PrefectureOverview, language: Language, *, workspace_url: str | None, size: str
) -> str:
    """The prefecture's text with as much of each list as fits in one section."""
    text = ""
    for limits in _SHOWN[size]:
        text = prefecture_text(overview, language, workspace_url=workspace_url, limits=limits)
        if len(text) <= SECTION_TEXT_LIMIT:
            return text
    return cut(text, SECTION_TEXT_LIMIT)


def prefecture_text(
    overview: PrefectureOverview,
    language: Language,
    *,
    workspace_url: str | None,
    limits: tuple[int, int, int, int],
) -> str:
    uncovered_shown, newcomers_shown, questions_shown, gaps_shown = limits
    name = overview.name_en if language == "en" and overview.name_en else overview.prefecture
    government = "yes" if overview.government_covered else "no"
    lines = [
        f"*{escape_mrkdwn(name)}*",
        t(
            "ambassadors.home.members",
            language,
            members=number(overview.members),
            active=number(overview.active),
        )
        + "　"
        + t(
            "ambassadors.home.coverage",
            language,
            covered=number(overview.municipalities_covered),
            total=number(overview.municipalities),
            rate=rate(overview.municipalities_covered, overview.municipalities),
        )
        + "　"
        + t(f"ambassadors.home.government.{government}", language),
    ]

    if overview.newcomers_total:
        people = [
            t("ambassadors.home.greeted", language, newcomer=mention(n.user_id), by=mention(by))
            if (by := n.greeted_by)
            else t("ambassadors.home.waiting", language, newcomer=mention(n.user_id))
            for n in overview.newcomers[:newcomers_shown]
        ]
        heading = t(
            "ambassadors.home.newcomers",
            language,
            count=number(overview.newcomers_total),
            greeted=number(overview.newcomers_greeted),
        )
        lines.append(_listed(heading, people, overview.newcomers_total, language, "　"))
    else:
        lines.append(t("ambassadors.home.newcomers_none", language))

    if overview.questions_total:
        heading = t(
            "ambassadors.home.questions",
            language,
            days=UNANSWERED_BUSINESS_DAYS,
            count=number(overview.questions_total),
        )
        asked = [
            t(
                "ambassadors.home.question",
                language,
                asker=mention(q.user_id),
                link=_question_link(
                    q.channel_id, q.message_ts, jst(q.asked_at), language, workspace_url
                ),
                days=number(q.business_days),
            )
            for q in overview.questions[:questions_shown]
        ]
        lines.append(_listed(heading, asked, overview.questions_total, language, "\n"))
    else:
        lines.append(t("ambassadors.home.questions_none", language))

    if overview.uncovered_total:
        places = [
            f"<{m.homepage}|{escape_mrkdwn(m.name)}>"
            if _linkable(m.homepage)
            else escape_mrkdwn(m.name)
            for m in overview.uncovered[:uncovered_shown]
        ]
        heading = t("ambassadors.home.uncovered", language, count=number(overview.uncovered_total))
        lines.append(_listed(heading, places, overview.uncovered_total, language, "、"))
    else:
        lines.append(t("ambassadors.home.uncovered_none", language))

    gaps = overview.gaps[:gaps_shown]
    if gaps:
        words = [
            t("ambassadors.home.gap", language, query=escape_mrkdwn(g.query), times=g.times)
            for g in gaps
        ]
        lines.append(
            _listed(t("ambassadors.home.gaps", language), words, len(gaps), language, "、")
        )
    return "\n".join(lines)


def _listed(heading: str, items: Sequence[str], total: int, language: Language, joiner: str) -> str:
    """The heading, the items shown, and how many more there are."""
    if not items:
        return heading
    more = total - len(items)
    shown = [*items, _more(more, language)] if more > 0 else list(items)
    separator = "\n" if joiner == "\n" else ": "
    return heading + separator + joiner.join(shown)


def _more(count: int, language: Language) -> str:
    return t("ambassadors.home.more", language, count=number(count))


def _question_link(
    channel_id: str, ts: str, date: str, language: Language, workspace_url: str | None
) -> str:
    label = t("ambassadors.home.question_link", language, date=date)
    if not workspace_url:
        return f"<#{channel_id}> {label}"
    url = f"{workspace_url.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"
    return f"<#{channel_id}> <{url}|{label}>"


def _linkable(url: str | None) -> bool:
    """A master-data homepage that can sit inside <url|text> unchanged."""
    return (
        bool(url)
        and str(url).startswith(("https://", "http://"))
        and not any(c in str(url) for c in "<>| ")
    )
