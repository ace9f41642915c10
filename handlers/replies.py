from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block


def reply(respond: Callable[..., Any], blocks: Sequence[Block], text: str) -> None:
    """An ephemeral answer through response_url; `text` is the notification fallback."""
    respond(
        text=text,
        blocks=[block.to_dict() for block in blocks],
        response_type="ephemeral",
        replace_original=False,
    )


def ephemeral(respond: Callable[..., Any], text: str) -> None:
    """A short ephemeral answer beside the message the member clicked in (kept as it is)."""
    respond(text=text, response_type="ephemeral", replace_original=False)


def field_error(block_id: str, text: str) -> dict[str, Any]:
    """An ack's arguments that keep a modal open with `text` under one of its fields."""
    return {"response_action": "errors", "errors": {block_id: text}}
