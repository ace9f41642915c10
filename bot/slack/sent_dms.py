"""Whether Slack took a DM whose answer was lost (a crash, a timeout): the bot's DMs carry a
block_id made from their idempotency key, looked for in the member's IM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

Call = Callable[..., Any]


def _direct(method: Call, **kwargs: Any) -> Any:
    return method(**kwargs)


def bot_dm_carries(
    client: WebClient, slack_user_id: str, block_id: str, *, call: Call = _direct
) -> bool:
    """True when one of the last 100 messages of the bot's DM with the member has a block
    `block_id`. `call` runs each Slack call (a sender passes its pacing)."""
    opened = call(client.conversations_open, users=slack_user_id)
    history = call(client.conversations_history, channel=opened["channel"]["id"], limit=100)
    messages: list[dict[str, Any]] = history.get("messages") or []
    return any(
        block.get("block_id") == block_id
        for message in messages
        if message.get("bot_id")
        for block in message.get("blocks") or []
    )
