"""Keeping knowledge: the capture modal (from the message shortcut or the ✅ offer), its
notices, the recorder's confirmation, `/kyoso forget`, a channel's choices and the
secretariat's FAQ modal. Texts from threads arrive here already masked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.knowledge import EntrySummary
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import ModalMetadata, confirm_dialog, context, cut, section

TITLE_MAX = 150  # the title field; the store keeps up to 200
TEXT_MAX = 3000  # question and answer: Slack's plain-text input limit, and the store's
TAGS_MAX = 300
PREFILLED_TITLE = 80  # a title cut from the question's first line
FORGET_LIMIT = 40  # one section per entry, under a message's 50 blocks
_CONFIRM_TITLE = 100  # of a confirm dialog's 300 characters

OPT_OUT = "opted_out"  # the channel modal's checkbox values
SUGGEST = "suggest"

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")
_TS = re.compile(r"^\d{9,12}\.\d{1,6}$")


class CaptureMetadata(ModalMetadata):
    """Which thread and which reply the modal keeps: Slack ids only, never its text."""

    channel_id: str
    thread_ts: str
    answer_ts: str
    asker_id: str | None = None
    answerer_id: str | None = None
    checks: int = 0  # ✅ the answer had when the form opened


class ChannelMetadata(ModalMetadata):
    channel_id: str


class FaqMetadata(ModalMetadata):
    """The FAQ's key, chosen when the modal opens: submitting twice updates one entry."""

    key: str


# ---- the capture modal ----------------------------------------------------------------------


def loading_modal(language: Language) -> View:
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL,
        title=t("knowledge.capture.title", language),
        close=t("knowledge.capture.close", language),
        blocks=[section(t("knowledge.capture.loading", language))],
    )


def notice_modal(language: Language, text: str) -> View:
    """One polite sentence and a close button: nothing to submit."""
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL,
        title=t("knowledge.capture.title", language),
        close=t("knowledge.capture.close", language),
        blocks=[section(text)],
    )


def capture_modal(
    language: Language,
    *,
    metadata: CaptureMetadata,
    title: str,
    question: str,
    answer: str,
    masked: Iterable[str],
) -> View:
    """Prefilled with the thread's masked text; `masked` says what the gate hid."""
    kinds = kind_labels(masked, language)
    notice = (
        t("knowledge.capture.masked_notice", language, kinds=kinds)
        if kinds
        else t("knowledge.capture.nothing_masked", language)
    )
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_CAPTURE_MODAL,
        private_metadata=metadata.dump(),
        title=t("knowledge.capture.title", language),
        submit=t("knowledge.capture.submit", language),
        close=t("knowledge.capture.cancel", language),
        blocks=[
            section(t("knowledge.capture.intro", language)),
            context(notice),
            *entry_inputs(language, title=title, question=question, answer=answer),
        ],
    )


def entry_inputs(
    language: Language, *, title: str = "", question: str = "", answer: str = ""
) -> list[Block]:
    """Title, question, answer and tags: the fields every kept entry has."""
    return [
        _text_input(
            ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK,
            t("knowledge.capture.field.title", language),
            initial=cut(title, TITLE_MAX),
            max_length=TITLE_MAX,
        ),
        _text_input(
            ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK,
            t("knowledge.capture.field.question", language),
            initial=cut(question, TEXT_MAX),
            max_length=TEXT_MAX,
            multiline=True,
        ),
        _text_input(
            ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK,
            t("knowledge.capture.field.answer", language),
            initial=cut(answer, TEXT_MAX),
            max_length=TEXT_MAX,
            multiline=True,
        ),
        _text_input(
            ids.KNOWLEDGE_CAPTURE_TAGS_BLOCK,
            t("knowledge.capture.field.tags", language),
            hint=t("knowledge.capture.field.tags_hint", language),
            max_length=TAGS_MAX,
            optional=True,
        ),
    ]


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    max_length: int,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=hint,
        optional=optional,
        element=PlainTextInputElement(
            action_id=ids.KNOWLEDGE_CAPTURE_INPUT,
            initial_value=initial or None,
            multiline=multiline,
            max_length=max_length,
        ),
    )


def title_from(question: str) -> str:
    """The question's first line that says something, cut."""
    for line in question.splitlines():
        line = " ".join(line.split())
        if line:
            return cut(line, PREFILLED_TITLE)
    return ""


# ---- what the gate found --------------------------------------------------------------------


def kind_labels(kinds: Iterable[str], language: Language) -> str:
    """What was masked, named in the member's language ("" for nothing)."""
    return _listed((f"knowledge.capture.kind.{kind}" for kind in sorted(set(kinds))), language)


def label_names(kinds: Iterable[str], language: Language) -> str:
    """The handling labels that refused an entry."""
    return _listed((f"knowledge.capture.label.{kind}" for kind in sorted(set(kinds))), language)


def _listed(keys: Iterable[str], language: Language) -> str:
    return t("knowledge.capture.list_separator", language).join(t(k, language) for k in keys)


def saved_text(
    language: Language, *, title: str, created: bool, masked: Iterable[str], faq: bool = False
) -> str:
    """The recorder's confirmation: what was kept, and what the gate hid."""
    prefix = "knowledge.capture.faq" if faq else "knowledge.capture"
    headline = t(f"{prefix}.{'saved' if created else 'updated'}", language, title=_quoted(title))
    kinds = kind_labels(masked, language)
    hidden = (
        t("knowledge.capture.saved_masked", language, kinds=kinds)
        if kinds
        else t("knowledge.capture.saved_clean", language)
    )
    return "\n".join((headline, hidden, t("knowledge.capture.saved_hint", language)))


def _quoted(title: str) -> str:
    return escape_mrkdwn(cut(title, TITLE_MAX))


# ---- the ✅ offer ---------------------------------------------------------------------------


def offer_value(channel_id: str, ts: str) -> str:
    return f"{channel_id}:{ts}"


def parse_offer_value(value: str | None) -> tuple[str, str] | None:
    """(channel, reply ts) of an offer's button, or None for anything Kyoso did not send."""
    channel_id, _, ts = (value or "").partition(":")
    if _CHANNEL_ID.match(channel_id) and _TS.match(ts):
        return channel_id, ts
    return None


def offer_blocks(language: Language, *, channel_id: str, ts: str) -> list[Block]:
    return [
        section(t("knowledge.capture.offer.text", language)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t("knowledge.capture.offer.button", language),
                    action_id=ids.KNOWLEDGE_CAPTURE_OFFER,
                    value=offer_value(channel_id, ts),
                    style="primary",
                )
            ]
        ),
    ]


def offer_text(language: Language) -> str:
    return t("knowledge.capture.offer.text", language)


# ---- /kyoso forget --------------------------------------------------------------------------


def remove_button(
    language: Language, *, entry_id: int, title: str, secretariat: bool = False
) -> ButtonElement:
    """The 「削除」 of an entry (「削除（事務局）」 for the secretariat's copy), with its
    confirmation: handlers/knowledge/removal.py answers it."""
    label = "secretariat_button" if secretariat else "button"
    return ButtonElement(
        text=t(f"knowledge.capture.forget.{label}", language),
        action_id=ids.KNOWLEDGE_REMOVE,
        value=str(entry_id),
        style="danger",
        confirm=confirm_dialog(
            "knowledge.capture.forget.confirm",
            language,
            title=escape_mrkdwn(cut(title, _CONFIRM_TITLE)),
        ),
    )


def forget_blocks(
    language: Language, entries: Sequence[EntrySummary], *, note: str | None = None
) -> list[Block]:
    """A member's own entries, each with its 「削除」; `note` says what the last click did."""
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(HeaderBlock(text=t("knowledge.capture.forget.header", language)))
    if not entries:
        blocks.append(section(t("knowledge.capture.forget.empty", language)))
        return blocks
    blocks.append(context(t("knowledge.capture.forget.intro", language, limit=FORGET_LIMIT)))
    for entry in entries[:FORGET_LIMIT]:
        blocks.append(
            SectionBlock(
                block_id=f"{ids.KNOWLEDGE_FORGET_BLOCK}:{entry.entry_id}",
                text=_entry_line(entry, language),
                accessory=remove_button(language, entry_id=entry.entry_id, title=entry.title),
            )
        )
    return blocks


def _entry_line(entry: EntrySummary, language: Language) -> str:
    facts = [t(f"knowledge.capture.entry_kind.{entry.kind.value}", language)]
    if entry.channel_id:
        facts.append(t("knowledge.capture.forget.in_channel", language, channel=entry.channel_id))
    facts.append(slack_date(entry.answered_at))
    return f"*{_quoted(entry.title)}*\n" + " · ".join(facts)


def forget_text(language: Language, entries: Sequence[EntrySummary]) -> str:
    key = "knowledge.capture.forget.header" if entries else "knowledge.capture.forget.empty"
    return t(key, language)


def removed_text(language: Language, title: str) -> str:
    return t("knowledge.capture.removed", language, title=_quoted(title))


# ---- a channel's choices --------------------------------------------------------------------


def channel_modal(
    language: Language, *, metadata: ChannelMetadata, opted_out: bool, suggest: bool
) -> View:
    options = {
        OPT_OUT: Option(value=OPT_OUT, text=t("knowledge.capture.channel.opt_out", language)),
        SUGGEST: Option(value=SUGGEST, text=t("knowledge.capture.channel.suggest", language)),
    }
    chosen = [options[k] for k, on in ((OPT_OUT, opted_out), (SUGGEST, suggest)) if on]
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_CHANNEL_MODAL,
        private_metadata=metadata.dump(),
        title=t("knowledge.capture.channel.title", language),
        submit=t("knowledge.capture.channel.submit", language),
        close=t("knowledge.capture.cancel", language),
        blocks=[
            section(t("knowledge.capture.channel.intro", language, channel=metadata.channel_id)),
            InputBlock(
                block_id=ids.KNOWLEDGE_CHANNEL_CHOICES_BLOCK,
                label=t("knowledge.capture.channel.label", language),
                optional=True,
                element=CheckboxesElement(
                    action_id=ids.KNOWLEDGE_CHANNEL_CHOICES,
                    options=list(options.values()),
                    initial_options=chosen or None,
                ),
            ),
            context(t("knowledge.capture.channel.opt_out_warning", language)),
        ],
    )


def channel_saved_text(
    language: Language, *, channel_id: str, opted_out: bool, suggest: bool, removed: int
) -> str:
    recording = (
        t("knowledge.capture.channel.saved_opted_out", language, channel=channel_id, count=removed)
        if opted_out
        else t("knowledge.capture.channel.saved_recording", language, channel=channel_id)
    )
    suggesting = t(
        f"knowledge.capture.channel.saved_suggest_{'on' if suggest else 'off'}", language
    )
    return f"{recording}\n{suggesting}"


# ---- the secretariat's FAQ ------------------------------------------------------------------


def faq_modal(language: Language, *, metadata: FaqMetadata) -> View:
    return View(
        type="modal",
        callback_id=ids.KNOWLEDGE_FAQ_MODAL,
        private_metadata=metadata.dump(),
        title=t("knowledge.capture.faq.title", language),
        submit=t("knowledge.capture.faq.submit", language),
        close=t("knowledge.capture.cancel", language),
        blocks=[section(t("knowledge.capture.faq.intro", language)), *entry_inputs(language)],
    )
