"""The fields every kept entry has (title, question, answer, tags), as the capture modal and
the secretariat's FAQ modal submit them, and what is wrong with them before anything is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack

from bot import ids
from bot.i18n import Language, t
from bot.services.knowledge.entries import clean_tags
from bot.services.knowledge.privacy import Refused, gate
from bot.views.knowledge.capture import label_names
from handlers.modal_values import typed_text
from handlers.replies import field_error

_TAG_SEPARATORS = ("、", "，", "\n")


@dataclass(frozen=True)
class Typed:
    """What the recorder left in the modal's fields (clean; tags split on commas)."""

    title: str
    question: str
    answer: str
    tags: tuple[str, ...]

    def by_block(self) -> dict[str, str]:
        return {
            ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK: self.title,
            ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK: self.question,
            ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK: self.answer,
            ids.KNOWLEDGE_CAPTURE_TAGS_BLOCK: ", ".join(self.tags),
        }


def typed_entry(view: dict[str, Any]) -> Typed:
    values = (view.get("state") or {}).get("values") or {}

    def text(block_id: str, *, multiline: bool = False) -> str:
        return typed_text(values, block_id, ids.KNOWLEDGE_CAPTURE_INPUT, multiline=multiline)

    tags = text(ids.KNOWLEDGE_CAPTURE_TAGS_BLOCK)
    for separator in _TAG_SEPARATORS:
        tags = tags.replace(separator, ",")
    return Typed(
        title=text(ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK),
        question=text(ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK, multiline=True),
        answer=text(ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK, multiline=True),
        tags=clean_tags(tags.split(",")),
    )


def problem(typed: Typed, language: Language) -> dict[str, Any] | None:
    """The ack that keeps the modal open with what is wrong under its field, or None: an
    empty field, or a handling label (the recorder may have typed one)."""
    fields = typed.by_block()
    for block_id, value in fields.items():
        if not value and block_id != ids.KNOWLEDGE_CAPTURE_TAGS_BLOCK:
            return field_error(block_id, t("knowledge.capture.error.required", language))
    for block_id, value in fields.items():
        try:
            gate(value)
        except Refused as exc:
            return field_error(block_id, refusal_text(exc, language))
    return None


def submitted_entry(ack: Ack, view: dict[str, Any], language: Language) -> Typed | None:
    """The submitted fields, or None once `ack` kept the modal open with what is wrong."""
    typed = typed_entry(view)
    wrong = problem(typed, language)
    if wrong is not None:
        ack(**wrong)
        return None
    return typed


def stale_error(language: Language) -> dict[str, Any]:
    """The ack for a submission whose metadata Kyoso did not write: nothing is kept."""
    stale = t("knowledge.capture.error.stale", language)
    return field_error(ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK, stale)


def refusal_text(exc: Refused, language: Language) -> str:
    labels = label_names(exc.kinds, language)
    return t("knowledge.capture.error.label", language, labels=labels)
