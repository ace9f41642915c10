"""What a member typed into a modal (a view_submission's `view.state.values`).

Every typed value is read here, so each goes through bot.text's input hygiene before a
service stores or compares it: multi-line inputs keep their newlines and tabs, single-line
ones lose every control character."""

from __future__ import annotations

from typing import Any

from bot.text import clean_line, clean_multiline


def _element(values: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    block = values.get(block_id)
    entered = block.get(action_id) if isinstance(block, dict) else None
    return entered if isinstance(entered, dict) else {}


def typed_text(
    values: dict[str, Any], block_id: str, action_id: str, *, multiline: bool = False
) -> str:
    """A plain_text_input's value, clean and trimmed ("" when left empty)."""
    raw = str(_element(values, block_id, action_id).get("value") or "")
    return clean_multiline(raw) if multiline else clean_line(raw)


def selected_value(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The value of a select's chosen option, or None."""
    option = _element(values, block_id, action_id).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and option.get("value") else None
