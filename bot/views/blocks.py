"""Block Kit pieces every feature uses: text within Slack's limits, mentions, rendering,
decision buttons, modal metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date

# Slack keeps a modal's private_metadata up to 3,000 characters, and a section's text too.
PRIVATE_METADATA_MAX = 3000
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000  # one of a section's fields
REASON_MAX = 2000  # what the secretariat may type to explain a decision


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Blocks as Slack's API takes them (`to_dict()` runs slack_sdk's limit checks)."""
    return [block.to_dict() for block in blocks]


def cut(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """`text` within `limit` characters, an ellipsis marking what was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:SECTION_TEXT_MAX])


def section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=md(text), **kwargs)


def context(text: str, **kwargs: Any) -> ContextBlock:
    return ContextBlock(elements=[md(text)], **kwargs)


def field(label: str, value: str) -> MarkdownTextObject:
    """A labelled field of a section: the label in bold, the value below."""
    return MarkdownTextObject(text=f"*{label}*\n{value}"[:FIELD_TEXT_MAX])


def mention(user_id: str) -> str:
    """A Slack user's mention; anyone else (the system, the CLI) by name."""
    return f"<@{user_id}>" if user_id[:1] in ("U", "W") else escape_mrkdwn(user_id)


def decided_text(
    key: str, language: Language, *, actor: str, at: datetime, reason: str | None
) -> str:
    """One line of a record's history: `key`'s decision, by whom, when and why."""
    return t(
        key, language, actor=mention(actor), at=slack_date(at), reason=escape_mrkdwn(reason or "")
    )


@dataclass(frozen=True)
class Choice:
    """One button of a decision row: approve, reject, return, ask for information…"""

    text: str
    action_id: str
    style: Literal["primary", "danger"] | None = None
    confirm: ConfirmObject | None = None


def decision_row(
    *, block_id: str | None = None, value: str, choices: Sequence[Choice]
) -> ActionsBlock:
    """The buttons on one record (a request, a round, the rules' version); every button
    carries the record's id."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=choice.text,
                action_id=choice.action_id,
                value=value,
                style=choice.style,
                confirm=choice.confirm,
            )
            for choice in choices
        ],
    )


def confirm_dialog(prefix: str, language: Language, **params: Any) -> ConfirmObject:
    """The "are you sure?" of a button, from the catalogue's `<prefix>.title`, `.text`
    (with `params`), `.yes` and `.no`."""
    return ConfirmObject(
        title=t(f"{prefix}.title", language),
        text=t(f"{prefix}.text", language, **params),
        confirm=t(f"{prefix}.yes", language),
        deny=t(f"{prefix}.no", language),
    )


class ModalMetadata(BaseModel):
    """What a modal carries from its opening to its submission, typed and named.

    Subclass it per modal; `load` gives None for anything that is not what was sent, so a
    forged or stale submission is refused politely instead of raising deep in a listener."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def dump(self) -> str:
        text = self.model_dump_json(exclude_none=True)
        if len(text) > PRIVATE_METADATA_MAX:
            raise ValueError(f"private_metadata of {len(text)} characters (Slack keeps 3,000)")
        return text

    @classmethod
    def load(cls, text: str | None) -> Self | None:
        if not text:
            return None
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            return None


def reason_input_modal(
    *,
    callback_id: str,
    metadata: ModalMetadata,
    texts: str,
    kind: str,
    language: Language,
    block_id: str,
    action_id: str,
) -> View:
    """One multi-line field asking the secretariat why: a reason, a comment, a question.
    Its words: `<texts>.<kind>.title` and `.label`, `<texts>.submit` and `.cancel`."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata.dump(),
        title=t(f"{texts}.{kind}.title", language),
        submit=t(f"{texts}.submit", language),
        close=t(f"{texts}.cancel", language),
        blocks=[
            InputBlock(
                block_id=block_id,
                label=t(f"{texts}.{kind}.label", language),
                element=PlainTextInputElement(
                    action_id=action_id, multiline=True, max_length=REASON_MAX
                ),
            )
        ],
    )
