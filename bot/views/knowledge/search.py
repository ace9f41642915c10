"""Finding knowledge in Slack: `/kyoso search`'s answer and the App Home's search modal (the
same result blocks, paged five at a time), the generated answer that may follow, the
suggestion under a question in a channel, and the secretariat's synonym editor and gaps.

Links to threads are built from the workspace's URL (Slack's permalink form), never fetched
one by one: a page of results costs no Web API call."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from pydantic import Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.knowledge import FoundEntry, SearchPage
from bot.i18n import Language, t
from bot.knowledge.generated import GeneratedAnswer
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import SECTION_TEXT_MAX, ModalMetadata, context, cut, section
from models import EntryKind

PAGE_SIZE = 5
MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
QUERY_SHOWN = 100  # characters of the query repeated in a heading
QUERY_MAX = 200  # characters of a query searched for (search.MAX_QUERY) and carried in buttons
PAGES_MAX = 50  # results a search keeps (search.MAX_RESULTS)
SYNONYMS_MAX = 3000  # a plain-text input holds at most this much
_CITATION = re.compile(r"\[(\d{1,2})\]")


# --- what the buttons carry ---------------------------------------------------------------------


class SearchValue(ModalMetadata):
    """A page button's value (the query and the page's first result) and, on 「役に立った」,
    the entry: enough to show the same page again after the click."""

    q: str = Field(default="", max_length=QUERY_MAX)
    o: int = Field(default=0, ge=0, le=PAGES_MAX)
    e: int | None = Field(default=None, ge=1)


def search_value(query: str, offset: int, entry_id: int | None = None) -> str:
    return SearchValue(q=query[:QUERY_MAX], o=offset, e=entry_id).dump()


def parse_search_value(value: str | None) -> SearchValue | None:
    found = SearchValue.load(value)
    return found if found is not None and found.q.strip() else None


# --- links ----------------------------------------------------------------------------------------


def thread_url(workspace_url: str | None, hit: FoundEntry) -> str | None:
    """The answer in its thread, in Slack's permalink form; None for an FAQ or a channel card,
    or when the workspace's URL is not known."""
    if not workspace_url or not hit.channel_id or not hit.thread_ts:
        return None
    ts = hit.answer_ts or hit.thread_ts
    return (
        f"{workspace_url.rstrip('/')}/archives/{hit.channel_id}/p{ts.replace('.', '')}"
        f"?thread_ts={hit.thread_ts}&cid={hit.channel_id}"
    )


# --- a page of results ----------------------------------------------------------------------------


def _where(hit: FoundEntry, language: Language) -> str:
    if hit.kind is EntryKind.FAQ:
        return t("knowledge.search.faq", language)
    return f"<#{hit.channel_id}>" if hit.channel_id else ""


def _hit_blocks(
    number: int, hit: FoundEntry, language: Language, *, query: str, offset: int, link: str | None
) -> list[Block]:
    title = escape_mrkdwn(" ".join(hit.title.split()))
    meta = t(
        "knowledge.search.meta",
        language,
        where=_where(hit, language),
        date=slack_date(hit.answered_at),
        checks=str(hit.checks),
        helpful=str(hit.helpful),
    )
    buttons: list[ButtonElement] = []
    if link is not None:
        buttons.append(
            ButtonElement(
                text=t("knowledge.search.open_thread", language),
                action_id=ids.KNOWLEDGE_SEARCH_OPEN_THREAD,
                url=link,
            )
        )
    buttons.append(
        ButtonElement(
            text=t("knowledge.search.helpful", language),
            action_id=ids.KNOWLEDGE_SEARCH_HELPFUL,
            value=search_value(query, offset, hit.entry_id),
        )
    )
    return [
        section(cut(f"*{number}. {title}*\n{hit.snippet}", SECTION_TEXT_MAX)),
        context(meta.strip()),
        ActionsBlock(block_id=f"knowledge_hit:{hit.entry_id}", elements=buttons),
    ]


def _paging(page: SearchPage, language: Language) -> list[Block]:
    buttons: list[ButtonElement] = []
    if page.offset > 0:
        buttons.append(
            ButtonElement(
                text=t("knowledge.search.previous", language),
                action_id=ids.KNOWLEDGE_SEARCH_PREVIOUS,
                value=search_value(page.query, max(0, page.offset - PAGE_SIZE)),
            )
        )
    if page.has_more:
        buttons.append(
            ButtonElement(
                text=t("knowledge.search.more", language),
                action_id=ids.KNOWLEDGE_SEARCH_NEXT,
                value=search_value(page.query, page.offset + len(page.hits)),
            )
        )
    return (
        [ActionsBlock(block_id=ids.KNOWLEDGE_SEARCH_PAGE_BLOCK, elements=buttons)]
        if buttons
        else []
    )


def shown_query(query: str) -> str:
    return escape_mrkdwn(cut(" ".join(query.split()), QUERY_SHOWN))


def result_blocks(
    page: SearchPage,
    language: Language,
    *,
    workspace_url: str | None,
    notice: str | None = None,
) -> list[Block]:
    """A page of results (or the polite "nothing found" with tips), `notice` on top: what the
    last click did."""
    blocks: list[Block] = [section(notice)] if notice else []
    query = shown_query(page.query)
    if not page.hits:
        blocks.append(section(t("knowledge.search.none", language, query=query)))
        blocks.append(context(t("knowledge.search.none_tips", language)))
        return blocks
    blocks.append(
        section(
            t(
                "knowledge.search.heading",
                language,
                query=query,
                total=str(page.total),
                start=str(page.offset + 1),
                end=str(page.offset + len(page.hits)),
            )
        )
    )
    for number, hit in enumerate(page.hits, start=page.offset + 1):
        blocks.append(DividerBlock())
        blocks.extend(
            _hit_blocks(
                number,
                hit,
                language,
                query=page.query,
                offset=page.offset,
                link=thread_url(workspace_url, hit),
            )
        )
    blocks.extend(_paging(page, language))
    return blocks[:MESSAGE_BLOCKS_MAX]


def result_text(page: SearchPage, language: Language) -> str:
    """The notification's fallback text."""
    query = shown_query(page.query)
    if not page.hits:
        return t("knowledge.search.none", language, query=query)
    return t("knowledge.search.summary", language, query=query, total=str(page.total))


def usage_text(language: Language) -> str:
    return t("knowledge.search.usage", language)


# --- the App Home's search modal ------------------------------------------------------------------


def search_modal(
    language: Language,
    *,
    page: SearchPage | None = None,
    workspace_url: str | None = None,
    notice: str | None = None,
) -> View:
    """The search field, and below it the results of the last search (none at first)."""
    query = page.query if page is not None else ""
    blocks: list[Block] = [
        InputBlock(
            block_id=ids.KNOWLEDGE_SEARCH_QUERY_BLOCK,
            label=t("knowledge.search.modal.label", language),
            hint=t("knowledge.search.modal.hint", language),
            element=PlainTextInputElement(
                action_id=ids.KNOWLEDGE_SEARCH_INPUT,
                initial_value=query[:QUERY_MAX] or None,
                placeholder=t("knowledge.search.modal.placeholder", language),
                max_length=QUERY_MAX,
            ),
        )
    ]
    if page is not None:
        blocks.extend(result_blocks(page, language, workspace_url=workspace_url, notice=notice))
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_SEARCH_MODAL,
        title=t("knowledge.search.modal.title", language),
        submit=t("knowledge.search.modal.submit", language),
        close=t("knowledge.search.modal.close", language),
        blocks=blocks[:MODAL_BLOCKS_MAX],
    )


def home_search_button(language: Language) -> ActionsBlock:
    """The App Home's way in: one actions block."""
    return ActionsBlock(
        block_id=ids.KNOWLEDGE_SEARCH_HOME,
        elements=[
            ButtonElement(
                text=t("knowledge.search.home_button", language),
                action_id=ids.KNOWLEDGE_SEARCH_HOME,
                value="open",
            )
        ],
    )


# --- the generated answer -------------------------------------------------------------------------


def _source_line(number: int, hit: FoundEntry, workspace_url: str | None) -> str:
    title = escape_mrkdwn(cut(" ".join(hit.title.split()), 80))
    link = thread_url(workspace_url, hit)
    return f"[{number}] <{link}|{title}>" if link else f"[{number}] {title}"


def generated_blocks(
    answer: GeneratedAnswer,
    hits: Sequence[FoundEntry],
    language: Language,
    *,
    workspace_url: str | None,
) -> list[Block]:
    """The endpoint's answer, its citations linking to the threads they cite. Its text is
    escaped like any member's: a model's output may not mention, link or broadcast."""
    numbered = dict(enumerate(hits, start=1))

    def linked(match: re.Match[str]) -> str:
        hit = numbered.get(int(match.group(1)))
        link = thread_url(workspace_url, hit) if hit is not None else None
        return f"<{link}|[{match.group(1)}]>" if link else match.group(0)

    text = _CITATION.sub(linked, escape_mrkdwn(cut(answer.text, SECTION_TEXT_MAX - 500)))
    cited = [
        _source_line(number, numbered[number], workspace_url)
        for number in answer.cited
        if number in numbered
    ]
    blocks: list[Block] = [
        section(f"*{t('knowledge.generated.label', language)}*"),
        section(cut(text, SECTION_TEXT_MAX)),
    ]
    if cited:
        label = t("knowledge.generated.sources", language)
        blocks.append(context(cut(f"{label}: " + "　".join(cited), SECTION_TEXT_MAX)))
    blocks.append(context(t("knowledge.generated.caution", language)))
    return blocks


def nothing_relevant_blocks(language: Language) -> list[Block]:
    return [
        section(f"*{t('knowledge.generated.label', language)}*"),
        section(t("knowledge.generated.nothing", language)),
    ]


def generated_text(language: Language) -> str:
    return t("knowledge.generated.label", language)


# --- a suggestion under a question ----------------------------------------------------------------


def suggestion_blocks(
    hits: Sequence[FoundEntry], language: Language, *, workspace_url: str | None
) -> list[Block]:
    lines = []
    for hit in hits:
        title = escape_mrkdwn(cut(" ".join(hit.title.split()), 150))
        link = thread_url(workspace_url, hit)
        where = _where(hit, language)
        line = f"• <{link}|{title}>" if link else f"• *{title}*"
        lines.append(f"{line}　{where}".rstrip())
    return [
        section(
            f"*{t('knowledge.suggest.title', language)}*\n{t('knowledge.suggest.intro', language)}"
        ),
        section(cut("\n".join(lines), SECTION_TEXT_MAX)),
        context(t("knowledge.suggest.footer", language)),
    ]


def suggestion_text(language: Language) -> str:
    return t("knowledge.suggest.title", language)


# --- the secretariat's synonym list ---------------------------------------------------------------


def synonyms_modal(text: str, language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_SYNONYMS_MODAL,
        title=t("knowledge.synonyms.title", language),
        submit=t("knowledge.synonyms.submit", language),
        close=t("knowledge.synonyms.close", language),
        blocks=[
            section(t("knowledge.synonyms.intro", language)),
            InputBlock(
                block_id=ids.KNOWLEDGE_SYNONYMS_BLOCK,
                label=t("knowledge.synonyms.label", language),
                hint=t("knowledge.synonyms.hint", language),
                optional=True,  # an empty list means: the shipped list again
                element=PlainTextInputElement(
                    action_id=ids.KNOWLEDGE_SYNONYMS_INPUT,
                    multiline=True,
                    initial_value=text or None,
                    max_length=SYNONYMS_MAX,
                ),
            ),
        ],
    )


def synonyms_saved_modal(groups: int, language: Language) -> View:
    return View(
        type="modal",
        title=t("knowledge.synonyms.title", language),
        close=t("knowledge.synonyms.done", language),
        blocks=[section(t("knowledge.synonyms.saved", language, count=str(groups)))],
    )


# --- the secretariat's gaps -----------------------------------------------------------------------


def gap_line(
    query: str, prefecture: str, times: int, last_seen_at: datetime, language: Language
) -> str:
    return t(
        "knowledge.gaps.line",
        language,
        query=escape_mrkdwn(cut(" ".join(query.split()), QUERY_SHOWN)),
        times=str(times),
        prefecture=escape_mrkdwn(prefecture) or t("knowledge.gaps.unknown_prefecture", language),
        date=slack_date(last_seen_at),
    )


def gaps_title(language: Language, *, prefecture: str | None) -> str:
    if prefecture:
        return t("knowledge.gaps.title_prefecture", language, prefecture=escape_mrkdwn(prefecture))
    return t("knowledge.gaps.title", language)


def gaps_blocks(lines: Sequence[str], language: Language, *, prefecture: str | None) -> list[Block]:
    title = gaps_title(language, prefecture=prefecture)
    if not lines:
        return [section(f"*{title}*\n{t('knowledge.gaps.none', language)}")]
    blocks: list[Block] = [section(f"*{title}*")]
    text = ""
    for line in lines:
        if text and len(text) + len(line) + 1 > SECTION_TEXT_MAX - 100:
            blocks.append(section(text))
            text = ""
        text = f"{text}\n{line}" if text else line
    blocks.append(section(text))
    blocks.append(context(t("knowledge.gaps.footer", language)))
    return blocks[:MESSAGE_BLOCKS_MAX]
