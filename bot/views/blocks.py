"""Block Kit pieces every feature uses: rendering, decision buttons, modal metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

# Slack keeps a modal's private_metadata up to 3,000 characters.
PRIVATE_METADATA_MAX = 3000


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Blocks as Slack's API takes them (`to_dict()` runs slack_sdk's limit checks)."""
    return [block.to_dict() for block in blocks]


@dataclass(frozen=True)
class Choice:
    """One button of a decision row: approve, reject, return, ask for information…"""

    text: str
    action_id: str
    style: Literal["primary", "danger"] | None = None
    confirm: ConfirmObject | None = None


def decision_row(*, block_id: str, value: str, choices: Sequence[Choice]) -> ActionsBlock:
    """The secretariat's buttons on one record; every button carries the record's id."""
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
