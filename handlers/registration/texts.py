"""What the done and rules pages show besides the form: the promised decision date, and the
rules text as headings and paragraphs."""

from __future__ import annotations

import re
from datetime import date

from bot.i18n import Language, t

# The business days the secretariat promises to decide in (shown on the done page).
DECISION_BUSINESS_DAYS = 3
RULES_ITEMS = 9  # registration.rules.1 … .9


def format_date(day: date, language: Language) -> str:
    return t(
        "registration.date",
        language,
        year=day.year,
        month=t(f"registration.month.{day.month}", language),
        day=day.day,
        weekday=t(f"registration.weekday.{day.weekday()}", language),
    )


_MRKDWN_HEADING = re.compile(r"^\*([^*]+)\*$")


def rules_blocks(text: str) -> list[tuple[str, str]]:
    """The rules text (Slack mrkdwn, as the welcome DM shows it) as ("heading" | "para",
    text) pairs for the page: a line that is all bold becomes a heading."""
    blocks: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        heading = _MRKDWN_HEADING.match(stripped)
        if heading:
            blocks.append(("heading", heading.group(1).strip()))
        else:
            blocks.append(("para", stripped))
    return blocks
