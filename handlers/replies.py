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
