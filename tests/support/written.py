"""Everything Kyoso wrote during a test, as text, for checks that a value never left in clear."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from bot.db import SessionFactory
from models import Base
from tests.support.slack_emulator import SlackEmulator

KYOSO_TOKENS = ("xoxb-test", None)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def everything_written(
    *,
    logs: str,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    channels: Sequence[str | None],
) -> Iterator[tuple[str, str]]:
    """(where, text) for the logs, every Web API call Kyoso made (not the members' own posts),
    every opened view (private_metadata included), every response_url answer, the messages
    kept in `channels`, and every column of every table as stored."""
    yield "logs", logs
    for call in emulator.calls:
        if call.token in KYOSO_TOKENS:
            yield f"call {call.method}", _dump(call.params)
    for view in emulator.opened_views():
        yield f"view {view.get('callback_id')}", _dump(view)
    for url, body in emulator.all_responses():
        yield f"response_url {url}", _dump(body)
    for channel in channels:
        for message in emulator.messages(channel or ""):
            yield f"message in {channel}", _dump(message)
    with session_factory() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is not None and not isinstance(value, (int, float, bool)):
                        yield f"database {table.name}.{column}", _dump(value)
