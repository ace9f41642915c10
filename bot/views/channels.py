"""Channel messages and modals: pure builders of Block Kit objects in one language."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.channel_names import PREFIXES, max_suffix_length
from bot.i18n import Language, t
from bot.services.channels import (
    KIND_ORDER,
    MAX_FACILITATORS,
    PURPOSE_MAX,
    Listed,
    Similar,
    Step,
)
from bot.text import escape_mrkdwn, parse_int
from bot.timefmt import slack_date
from models import ChannelCategory

SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
OPTION_TEXT_MAX = 75
LIST_PAGE_SIZE = 60  # channels per page of `/kyoso channels`
DORMANCY_LIST_MAX = 40  # archive buttons per message (each a section): well inside 50 blocks
PURPOSE_SHOWN = 80  # characters of a purpose in a list line


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:SECTION_TEXT_MAX])


def _section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=_md(text), **kwargs)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_md(text)])


def _chunks(lines: Sequence[str], limit: int = SECTION_TEXT_MAX - 100) -> list[str]:
    """Lines packed into as few section texts as fit (3,000 characters each)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line[:limit]
        if current and size + len(line) + 1 > limit:
            out.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append("\n".join(current))
    return out


def mention(user_id: str) -> str:
    return f"<@{user_id}>" if user_id[:1] in ("U", "W") else escape_mrkdwn(user_id)


def channel_link(slack_channel_id: str) -> str:
    return f"<#{slack_channel_id}>"


def kind_label(category: ChannelCategory | str, language: Language) -> str:
    value = category.value if isinstance(category, ChannelCategory) else category
    return t(f"channels.kind.{value}", language)


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the request modal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDraft:
    """Values to prefill the modal with (a returned request being edited)."""

    category: ChannelCategory | None = None
    suffix: str = ""
    purpose: str = ""
    reason: str = ""
    prefecture: str | None = None
    organisation_id: int | None = None
    facilitator_ids: tuple[str, ...] = ()
    end_date: date | None = None


@dataclass(frozen=True)
class ModalMetadata:
    public_id: str | None  # set when a returned request is being edited
    language: Language

    def dump(self) -> str:
        return json.dumps({"r": self.public_id or "", "l": self.language})

    @classmethod
    def load(cls, text: str | None, default: Language) -> ModalMetadata:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        language: Language = "en" if data.get("l") == "en" else default
        if data.get("l") == "ja":
            language = "ja"
        return cls(public_id=str(data.get("r") or "") or None, language=language)


def _option(value: str, text: str, description: str | None = None) -> Option:
    return Option(
        value=value,
        text=_short(text, OPTION_TEXT_MAX),
        description=_short(description, OPTION_TEXT_MAX) if description else None,
    )


def request_modal(
    language: Language,
    *,
    organisations: Sequence[tuple[int, str]],
    prefectures: Sequence[str],
    draft: RequestDraft | None = None,
    public_id: str | None = None,
) -> View:
    draft = draft or RequestDraft()

    def tr(key: str, **params: str) -> str:
        return t(f"channels.form.{key}", language, **params)

    kinds = [
        _option(
            kind.value,
            f"{kind_label(kind, language)}（{PREFIXES[kind]}…）",
            t(f"channels.kind.{kind.value}.description", language),
        )
        for kind in PREFIXES
    ]
    kind_initial = next(
        (o for o in kinds if draft.category and o.value == draft.category.value), None
    )
    organisation_options = [_option(str(i), name) for i, name in organisations][:100]
    organisation_initial = next(
        (o for o in organisation_options if o.value == str(draft.organisation_id)), None
    )
    prefecture_options = [_option(p, p) for p in prefectures][:100]
    prefecture_initial = next((o for o in prefecture_options if o.value == draft.prefecture), None)
    blocks: list[Block] = [
        _section(tr("intro")),
        InputBlock(
            block_id=ids.CHANNEL_KIND_BLOCK,
            label=tr("kind"),
            element=RadioButtonsElement(
                action_id=ids.CHANNEL_INPUT, options=kinds, initial_option=kind_initial
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_NAME_BLOCK,
            label=tr("name"),
            hint=tr("name_hint"),
            element=PlainTextInputElement(
                action_id=ids.CHANNEL_INPUT,
                initial_value=draft.suffix or None,
                placeholder=tr("name_placeholder"),
                max_length=max(max_suffix_length(k) for k in PREFIXES) + 12,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_PURPOSE_BLOCK,
            label=tr("purpose"),
            hint=tr("purpose_hint"),
            element=PlainTextInputElement(
                action_id=ids.CHANNEL_INPUT,
                multiline=True,
                max_length=PURPOSE_MAX,
                initial_value=draft.purpose or None,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_ORGANISATION_BLOCK,
            label=tr("organisation"),
            hint=tr("organisation_hint"),
            optional=True,
            element=StaticSelectElement(
                action_id=ids.CHANNEL_INPUT,
                placeholder=tr("organisation_placeholder"),
                options=organisation_options,
                initial_option=organisation_initial,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_FACILITATORS_BLOCK,
            label=tr("facilitators"),
            hint=tr("facilitators_hint"),
            optional=True,
            element=UserMultiSelectElement(
                action_id=ids.CHANNEL_INPUT,
                initial_users=list(draft.facilitator_ids) or None,
                max_selected_items=MAX_FACILITATORS,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_PREFECTURE_BLOCK,
            label=tr("prefecture"),
            hint=tr("prefecture_hint"),
            optional=True,
            element=StaticSelectElement(
                action_id=ids.CHANNEL_INPUT,
                placeholder=tr("prefecture_placeholder"),
                options=prefecture_options,
                initial_option=prefecture_initial,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_REASON_BLOCK,
            label=tr("reason"),
            element=PlainTextInputElement(
                action_id=ids.CHANNEL_INPUT,
                multiline=True,
                max_length=2000,
                initial_value=draft.reason or None,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_END_DATE_BLOCK,
            label=tr("end_date"),
            hint=tr("end_date_hint"),
            optional=True,
            element=DatePickerElement(
                action_id=ids.CHANNEL_INPUT,
                initial_date=draft.end_date.isoformat() if draft.end_date else None,
            ),
        ),
        InputBlock(
            block_id=ids.CHANNEL_DISTINCT_BLOCK,
            label=tr("distinct"),
            optional=True,
            element=CheckboxesElement(
                action_id=ids.CHANNEL_INPUT,
                options=[_option("yes", tr("distinct_option"))],
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.CHANNEL_REQUEST_MODAL,
        private_metadata=ModalMetadata(public_id, language).dump(),
        title=tr("title_edit" if public_id else "title"),
        submit=tr("submit"),
        close=tr("cancel"),
        blocks=blocks,
    )


def form_error(code: str, params: Mapping[str, str], language: Language) -> str:
    """Inline error text (plain text: Slack shows modal errors without formatting)."""
    return t(f"channels.form.error.{code}", language, **params)


def similar_blocks(similar: Sequence[Similar], language: Language) -> list[Block]:
    """A DM beside the modal's error: links to the similar channels, so the member can join."""
    lines = []
    for s in similar:
        how = t(f"channels.likeness.{s.likeness.value}", language)
        if s.slack_channel_id is None:
            lines.append(
                t("channels.similar.request_line", language, name=escape_mrkdwn(s.name), how=how)
            )
        elif s.archived:
            lines.append(
                t("channels.similar.archived_line", language, name=escape_mrkdwn(s.name), how=how)
            )
        else:
            lines.append(
                t(
                    "channels.similar.line",
                    language,
                    channel=channel_link(s.slack_channel_id),
                    how=how,
                )
            )
    return [
        _section(t("channels.similar.title", language)),
        *[_section(chunk) for chunk in _chunks(lines)],
        _context(t("channels.similar.footer", language)),
    ]


# --- the secretariat's review message ------------------------------------------------------------


@dataclass(frozen=True)
class RequestItem:
    public_id: str
    requester: str
    name: str
    category: ChannelCategory
    purpose: str
    reason: str | None
    prefecture: str | None
    organisation: str | None
    facilitators: tuple[str, ...]
    end_date: date | None
    created_at: datetime
    status: str
    slack_channel_id: str | None = None
    done: frozenset[Step] = frozenset()
    failure: tuple[str, str] | None = None  # (step, Slack error)
    announce: bool = True  # an announcements channel is configured
    similar: tuple[Similar, ...] = ()


@dataclass(frozen=True)
class HistoryLine:
    kind: str  # resubmitted | approved | returned | rejected | provisioned
    actor: str
    at: datetime
    reason: str | None = None


def _request_fields(item: RequestItem, language: Language) -> list[MarkdownTextObject]:
    def label(key: str) -> str:
        return t(f"channels.review.{key}", language)

    dash = "—"
    facilitators = " ".join(mention(u) for u in item.facilitators) or dash
    fields = [
        _md(f"*{label('name')}*\n{escape_mrkdwn(item.name)}"),
        _md(f"*{label('kind')}*\n{kind_label(item.category, language)}"),
        _md(f"*{label('requester')}*\n{mention(item.requester)}"),
        _md(f"*{label('facilitators')}*\n{facilitators}"),
        _md(f"*{label('organisation')}*\n{escape_mrkdwn(item.organisation or dash)}"),
    ]
    if item.category is ChannelCategory.RE or item.prefecture:
        fields.append(_md(f"*{label('prefecture')}*\n{escape_mrkdwn(item.prefecture or dash)}"))
    fields.append(
        _md(
            f"*{label('end_date')}*\n"
            + (item.end_date.strftime("%Y/%m/%d") if item.end_date else label("no_end_date"))
        )
    )
    fields.append(_md(f"*{label('submitted')}*\n{slack_date(item.created_at)}"))
    return fields[:10]


def review_blocks(
    item: RequestItem, language: Language, *, history: Sequence[HistoryLine] = ()
) -> list[Block]:
    def label(key: str, **params: str) -> str:
        return t(f"channels.review.{key}", language, **params)

    blocks: list[Block] = [
        HeaderBlock(text=label("title")),
        SectionBlock(fields=_request_fields(item, language)),
        _section(f"*{label('purpose')}*\n{escape_mrkdwn(item.purpose)}"),
        _section(f"*{label('reason')}*\n{escape_mrkdwn(item.reason or '—')}"),
    ]
    if item.similar:
        names = "、".join(
            channel_link(s.slack_channel_id) if s.slack_channel_id else escape_mrkdwn(s.name)
            for s in item.similar
        )
        blocks.append(_context(label("similar", channels=names)))
    for line in history:
        text = t(
            f"channels.decided.{line.kind}",
            language,
            actor=mention(line.actor),
            at=slack_date(line.at),
            reason=escape_mrkdwn(line.reason or ""),
        )
        blocks.append(_context(text))
    if item.status == "pending":
        blocks.append(_decision_buttons(item, language))
    elif item.status == "returned":
        blocks.append(_context(label("awaiting_resubmission")))
        blocks.append(
            ActionsBlock(
                block_id=ids.CHANNEL_REVIEW_BLOCK,
                elements=[_reject_button(item, language)],
            )
        )
    elif item.status in ("approved", "provisioned"):
        blocks.extend(provisioning_blocks(item, language))
    return blocks[:MESSAGE_BLOCKS_MAX]


def _reject_button(item: RequestItem, language: Language) -> ButtonElement:
    return ButtonElement(
        text=t("channels.button.reject", language),
        action_id=ids.CHANNEL_REJECT,
        value=item.public_id,
        style="danger",
    )


def _decision_buttons(item: RequestItem, language: Language) -> ActionsBlock:
    confirm = ConfirmObject(
        title=t("channels.confirm.title", language),
        text=t("channels.confirm.text", language, name=escape_mrkdwn(item.name[:100])),
        confirm=t("channels.confirm.yes", language),
        deny=t("channels.confirm.no", language),
    )
    return ActionsBlock(
        block_id=ids.CHANNEL_REVIEW_BLOCK,
        elements=[
            ButtonElement(
                text=t("channels.button.approve", language),
                action_id=ids.CHANNEL_APPROVE,
                value=item.public_id,
                style="primary",
                confirm=confirm,
            ),
            ButtonElement(
                text=t("channels.button.return", language),
                action_id=ids.CHANNEL_RETURN,
                value=item.public_id,
            ),
            _reject_button(item, language),
        ],
    )


STEPS_SHOWN = (Step.CREATE, Step.PURPOSE, Step.INVITE, Step.WELCOME, Step.ANNOUNCE)


def provisioning_blocks(item: RequestItem, language: Language) -> list[Block]:
    marks = []
    for step in STEPS_SHOWN:
        if step is Step.ANNOUNCE and not item.announce:
            icon = "➖"
        elif step in item.done:
            icon = "✅"
        elif item.failure and item.failure[0] == step.value:
            icon = "⚠️"
        else:
            icon = "⏳"
        marks.append(f"{icon} {t(f'channels.step.{step.value}', language)}")
    blocks: list[Block] = [_context("　".join(marks))]
    if item.status == "provisioned" and item.slack_channel_id:
        blocks.append(
            _section(
                t(
                    "channels.review.provisioned",
                    language,
                    channel=channel_link(item.slack_channel_id),
                )
            )
        )
        return blocks
    if item.failure is not None:
        failed, error = item.failure
        blocks.append(_section(failure_text(failed, error, item.name, language)))
        blocks.append(
            ActionsBlock(
                block_id=ids.CHANNEL_REVIEW_BLOCK,
                elements=[
                    ButtonElement(
                        text=t("channels.button.retry", language),
                        action_id=ids.CHANNEL_RETRY,
                        value=item.public_id,
                        style="primary",
                    )
                ],
            )
        )
    return blocks


# Slack errors with their own explanation; anything else gets the generic one.
EXPLAINED_ERRORS = frozenset(
    {
        "name_taken",
        "restricted_action",
        "missing_scope",
        "not_in_channel",
        "is_archived",
        "channel_not_found",
        "ratelimited",
        "connection",
        "invalid_name_specials",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "too_long",
    }
)


def failure_text(step: str, error: str, name: str, language: Language) -> str:
    key = error if error in EXPLAINED_ERRORS else "other"
    return (
        t(
            "channels.failure.title",
            language,
            step=t(f"channels.step.{step}", language) if step in {s.value for s in Step} else step,
            error=escape_mrkdwn(error),
        )
        + "\n"
        + t(
            f"channels.failure.{key}",
            language,
            name=escape_mrkdwn(name),
            error=escape_mrkdwn(error),
        )
    )


def review_text(item: RequestItem, language: Language) -> str:
    return t("channels.review.fallback", language, name=item.name)


def decision_modal(*, callback_id: str, public_id: str, language: Language, kind: str) -> View:
    """Asks the secretariat for a comment (return) or a reason (reject)."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=public_id,
        title=t(f"channels.modal.{kind}.title", language),
        submit=t("channels.modal.submit", language),
        close=t("channels.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.CHANNEL_DECISION_BLOCK,
                label=t(f"channels.modal.{kind}.label", language),
                element=PlainTextInputElement(
                    action_id=ids.CHANNEL_INPUT, multiline=True, max_length=2000
                ),
            )
        ],
    )


# --- the requester's DMs -------------------------------------------------------------------------


def decision_dm_blocks(
    kind: str,
    *,
    public_id: str,
    name: str,
    language: Language,
    reason: str | None = None,
    slack_channel_id: str | None = None,
) -> list[Block]:
    text = t(
        f"channels.dm.{kind}",
        language,
        name=escape_mrkdwn(name),
        reason=escape_mrkdwn(reason or ""),
        channel=channel_link(slack_channel_id) if slack_channel_id else escape_mrkdwn(name),
    )
    blocks: list[Block] = [_section(text)]
    if kind == "returned":
        blocks.append(
            ActionsBlock(
                block_id=ids.CHANNEL_REVIEW_BLOCK,
                elements=[
                    ButtonElement(
                        text=t("channels.button.resubmit", language),
                        action_id=ids.CHANNEL_RESUBMIT,
                        value=public_id,
                        style="primary",
                    )
                ],
            )
        )
    return blocks


def decision_dm_text(kind: str, name: str, language: Language) -> str:
    return t(f"channels.dm.{kind}.fallback", language, name=name)


# --- the new channel's first message and its announcement ----------------------------------------


def welcome_blocks(
    *, purpose: str, facilitators: Sequence[str], requester: str, language: Language
) -> list[Block]:
    people = " ".join(mention(u) for u in facilitators) or mention(requester)
    return [
        _section(t("channels.welcome.title", language)),
        _section(f"*{t('channels.welcome.purpose', language)}*\n{escape_mrkdwn(purpose)}"),
        _section(t("channels.welcome.facilitators", language, people=people)),
        _section(
            f"*{t('channels.welcome.rules_title', language)}*\n{t('channels.welcome.rules', language)}"
        ),
    ]


def welcome_text(language: Language) -> str:
    return t("channels.welcome.title", language)


def topic_text(
    *,
    category: ChannelCategory,
    organisation: str | None,
    end_date: date | None,
    language: Language,
) -> str:
    parts = [kind_label(category, language)]
    if organisation:
        parts.append(t("channels.topic.organisation", language, organisation=organisation))
    if end_date:
        parts.append(t("channels.topic.until", language, date=end_date.strftime("%Y/%m/%d")))
    return " ｜ ".join(parts)[:PURPOSE_MAX]


def announcement_blocks(
    *, slack_channel_id: str, category: ChannelCategory, purpose: str, language: Language
) -> list[Block]:
    return [
        _section(
            t(
                "channels.announce.text",
                language,
                channel=channel_link(slack_channel_id),
                kind=kind_label(category, language),
            )
        ),
        _section(f"> {escape_mrkdwn(_short(purpose, 500))}"),
        _context(t("channels.announce.footer", language)),
    ]


def announcement_text(slack_channel_id: str, language: Language) -> str:
    return t("channels.announce.fallback", language, channel=channel_link(slack_channel_id))


# --- `/kyoso channels` ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingPage:
    word: str
    offset: int
    total: int
    channels: Sequence[Listed]  # this page only
    counts: Mapping[ChannelCategory, int] = field(default_factory=dict)  # over all matches
    managed: Sequence[Listed] = ()  # channels the viewer facilitates (edit buttons)


def page_value(word: str, offset: int) -> str:
    return json.dumps({"q": word[:100], "o": offset}, ensure_ascii=False)


def parse_page_value(value: str | None) -> tuple[str, int]:
    try:
        data = json.loads(value or "{}")
        offset = parse_int(str(data.get("o") or 0)) or 0
        return str(data.get("q") or ""), offset
    except (ValueError, TypeError, AttributeError):
        return "", 0


def listing_blocks(page: ListingPage, language: Language) -> list[Block]:
    def tr(key: str, **params: str) -> str:
        return t(f"channels.list.{key}", language, **params)

    if page.total == 0:
        key = "empty_word" if page.word else "empty"
        return [_section(tr(key, word=escape_mrkdwn(page.word)))]
    title = tr("title_word", word=escape_mrkdwn(page.word)) if page.word else tr("title")
    counts = "　".join(
        f"{kind_label(kind, language)} {page.counts.get(kind, 0)}"
        for kind in KIND_ORDER
        if page.counts.get(kind)
    )
    blocks: list[Block] = [
        _section(f"*{title}*\n" + tr("summary", total=str(page.total), counts=counts)),
    ]
    for kind in KIND_ORDER:
        lines = [
            tr(
                "line",
                channel=channel_link(c.slack_channel_id),
                purpose=escape_mrkdwn(_short(c.purpose, PURPOSE_SHOWN)) if c.purpose else "",
            ).rstrip(" —")
            for c in page.channels
            if c.category is kind
        ]
        if not lines:
            continue
        blocks.append(_section(f"*{kind_label(kind, language)}*"))
        blocks.extend(_section(chunk) for chunk in _chunks(lines))
    end = page.offset + len(page.channels)
    blocks.append(
        _context(tr("range", start=str(page.offset + 1), end=str(end), total=str(page.total)))
    )
    buttons = []
    if page.offset > 0:
        buttons.append(
            ButtonElement(
                text=tr("previous"),
                action_id=ids.CHANNELS_PAGE_PREVIOUS,
                value=page_value(page.word, max(0, page.offset - LIST_PAGE_SIZE)),
            )
        )
    if end < page.total:
        buttons.append(
            ButtonElement(
                text=tr("next"),
                action_id=ids.CHANNELS_PAGE_NEXT,
                value=page_value(page.word, end),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=ids.CHANNELS_PAGE_BLOCK, elements=buttons))
    if page.managed:
        blocks.append(DividerBlock())
        blocks.append(_section(tr("managed")))
        for listed in page.managed[:5]:
            blocks.append(
                _section(
                    channel_link(listed.slack_channel_id),
                    accessory=ButtonElement(
                        text=tr("edit"),
                        action_id=ids.CHANNEL_EDIT_OPEN,
                        value=listed.slack_channel_id,
                    ),
                )
            )
    if not page.word and page.total > LIST_PAGE_SIZE:
        blocks.append(_context(tr("narrow")))
    return blocks[:MESSAGE_BLOCKS_MAX]


# --- editing a channel ---------------------------------------------------------------------------


def edit_modal(
    *,
    slack_channel_id: str,
    name: str,
    purpose: str | None,
    facilitators: Sequence[str],
    end_date: date | None,
    language: Language,
) -> View:
    def tr(key: str, **params: str) -> str:
        return t(f"channels.edit.{key}", language, **params)

    return View(
        type="modal",
        callback_id=ids.CHANNEL_EDIT_MODAL,
        private_metadata=json.dumps({"c": slack_channel_id, "l": language}),
        title=tr("title"),
        submit=tr("submit"),
        close=tr("cancel"),
        blocks=[
            _section(tr("intro", name=escape_mrkdwn(name))),
            InputBlock(
                block_id=ids.CHANNEL_PURPOSE_BLOCK,
                label=t("channels.form.purpose", language),
                element=PlainTextInputElement(
                    action_id=ids.CHANNEL_INPUT,
                    multiline=True,
                    max_length=PURPOSE_MAX,
                    initial_value=purpose or None,
                ),
            ),
            InputBlock(
                block_id=ids.CHANNEL_FACILITATORS_BLOCK,
                label=t("channels.form.facilitators", language),
                optional=True,
                element=UserMultiSelectElement(
                    action_id=ids.CHANNEL_INPUT,
                    initial_users=list(facilitators) or None,
                    max_selected_items=MAX_FACILITATORS,
                ),
            ),
            InputBlock(
                block_id=ids.CHANNEL_END_DATE_BLOCK,
                label=t("channels.form.end_date", language),
                optional=True,
                element=DatePickerElement(
                    action_id=ids.CHANNEL_INPUT,
                    initial_date=end_date.isoformat() if end_date else None,
                ),
            ),
        ],
    )


# --- dormant and finished channels ---------------------------------------------------------------


@dataclass(frozen=True)
class DormantItem:
    review_id: int
    slack_channel_id: str
    name: str
    reason: str  # quiet | ended | unknown
    last_activity_at: datetime | None
    end_date: date | None
    dormant_days: int
    gone_facilitators: tuple[str, ...] = ()
    outcome: str = "asked"
    decided_by: str | None = None
    decided_at: datetime | None = None


def _dormant_reason(item: DormantItem, language: Language) -> str:
    if item.reason == "ended" and item.end_date:
        return t("channels.dormant.reason.ended", language, date=item.end_date.strftime("%Y/%m/%d"))
    if item.last_activity_at is not None:
        return t(
            "channels.dormant.reason.quiet",
            language,
            days=str(item.dormant_days),
            at=slack_date(item.last_activity_at),
        )
    return t("channels.dormant.reason.never", language, days=str(item.dormant_days))


def dormancy_ask_blocks(
    item: DormantItem, language: Language, *, reminder: bool, to_secretariat: bool
) -> list[Block]:
    key = "reminder" if reminder else "ask"
    blocks: list[Block] = [
        _section(
            t(f"channels.dormant.{key}", language, channel=channel_link(item.slack_channel_id))
            + "\n"
            + _dormant_reason(item, language)
        )
    ]
    if to_secretariat:
        blocks.append(_context(t("channels.dormant.no_facilitators", language)))
    if item.gone_facilitators:
        gone = " ".join(mention(u) for u in item.gone_facilitators)
        blocks.append(_context(t("channels.dormant.gone", language, people=gone)))
    blocks.append(
        ActionsBlock(
            block_id=ids.DORMANCY_BLOCK,
            elements=[
                ButtonElement(
                    text=t("channels.button.keep", language),
                    action_id=ids.DORMANCY_KEEP,
                    value=str(item.review_id),
                    style="primary",
                ),
                ButtonElement(
                    text=t("channels.button.archive_agree", language),
                    action_id=ids.DORMANCY_ARCHIVE,
                    value=str(item.review_id),
                ),
            ],
        )
    )
    return blocks


def dormancy_ask_text(item: DormantItem, language: Language, *, reminder: bool) -> str:
    key = "reminder" if reminder else "ask"
    return t(f"channels.dormant.{key}", language, channel=channel_link(item.slack_channel_id))


def dormancy_answered_blocks(item: DormantItem, language: Language) -> list[Block]:
    """The ask message once answered: the buttons give way to who decided what."""
    return [
        _section(
            t("channels.dormant.ask", language, channel=channel_link(item.slack_channel_id))
            + "\n"
            + _dormant_reason(item, language)
        ),
        _context(
            t(
                f"channels.dormant.outcome.{item.outcome}",
                language,
                actor=mention(item.decided_by or "system"),
                at=slack_date(item.decided_at) if item.decided_at else "",
            )
        ),
    ]


def dormancy_list_blocks(items: Sequence[DormantItem], language: Language) -> list[Block]:
    """The secretariat's list: one archive button per channel, decided ones marked."""
    blocks: list[Block] = [
        _section(t("channels.dormant.list.title", language, count=str(len(items))))
    ]
    for item in items[:DORMANCY_LIST_MAX]:
        head = f"{channel_link(item.slack_channel_id)}（{escape_mrkdwn(item.name)}）"
        detail = _dormant_reason(item, language)
        if item.gone_facilitators:
            gone = " ".join(mention(u) for u in item.gone_facilitators)
            detail += "\n" + t("channels.dormant.gone", language, people=gone)
        if item.outcome in ("listed", "archive"):
            note = t(
                "channels.dormant.list.agreed"
                if item.outcome == "archive"
                else "channels.dormant.list.unanswered",
                language,
            )
            blocks.append(
                _section(
                    f"{head}\n{detail}\n{note}",
                    block_id=f"{ids.DORMANCY_BLOCK}_{item.review_id}",
                    accessory=ButtonElement(
                        text=t("channels.button.archive_now", language),
                        action_id=ids.DORMANCY_ARCHIVE_NOW,
                        value=str(item.review_id),
                        style="danger",
                        confirm=ConfirmObject(
                            title=t("channels.confirm.archive_title", language),
                            text=t(
                                "channels.confirm.archive_text",
                                language,
                                name=escape_mrkdwn(item.name[:100]),
                            ),
                            confirm=t("channels.confirm.archive_yes", language),
                            deny=t("channels.confirm.no", language),
                        ),
                    ),
                )
            )
        else:
            outcome = t(
                f"channels.dormant.outcome.{item.outcome}",
                language,
                actor=mention(item.decided_by or "system"),
                at=slack_date(item.decided_at) if item.decided_at else "",
            )
            blocks.append(
                _section(f"{head}\n{outcome}", block_id=f"{ids.DORMANCY_BLOCK}_{item.review_id}")
            )
    hidden = len(items) - DORMANCY_LIST_MAX
    if hidden > 0:
        blocks.append(_context(t("channels.dormant.list.more", language, count=str(hidden))))
    return blocks


def dormancy_list_text(count: int, language: Language) -> str:
    return t("channels.dormant.list.title", language, count=str(count))


def left_facilitators_blocks(
    rows: Sequence[tuple[str, Sequence[str]]], language: Language
) -> list[Block]:
    lines = [
        t(
            "channels.dormant.left.line",
            language,
            channel=channel_link(channel),
            people=" ".join(mention(u) for u in people),
        )
        for channel, people in rows
    ]
    return [
        _section(t("channels.dormant.left.title", language, count=str(len(rows)))),
        *[_section(chunk) for chunk in _chunks(lines)][: MESSAGE_BLOCKS_MAX - 1],
    ]


# --- facilitator tools ---------------------------------------------------------------------------


def point_modal(*, channel_id: str, message_ts: str, author: str, language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.CHANNEL_POINT_MODAL,
        private_metadata=json.dumps(
            {"c": channel_id, "ts": message_ts, "a": author, "l": language}
        ),
        title=t("channels.point.title", language),
        submit=t("channels.point.submit", language),
        close=t("channels.modal.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.CHANNEL_POINT_TARGET_BLOCK,
                label=t("channels.point.target", language),
                element=ExternalDataSelectElement(
                    action_id=ids.CHANNEL_POINT_TARGET,
                    placeholder=t("channels.point.placeholder", language),
                    min_query_length=0,
                ),
            ),
            InputBlock(
                block_id=ids.CHANNEL_POINT_NOTE_BLOCK,
                label=t("channels.point.note", language),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.CHANNEL_INPUT, multiline=True, max_length=500
                ),
            ),
        ],
    )


def point_options(channels: Sequence[Listed], language: Language) -> list[dict[str, Any]]:
    """Options for the external select (at most 100)."""
    return [
        _option(
            c.slack_channel_id,
            f"#{c.name}",
            _short(c.purpose, OPTION_TEXT_MAX) if c.purpose else kind_label(c.category, language),
        ).to_dict()
        for c in channels[:100]
    ]


def pointer_text(*, author: str, target: str, note: str, language: Language) -> str:
    text = t("channels.point.reply", language, author=mention(author), channel=channel_link(target))
    if note.strip():
        text += "\n> " + escape_mrkdwn(note.strip()).replace("\n", "\n> ")
    return text
