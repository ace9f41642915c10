"""Logs that carry no personal data and stay readable: a redaction filter as the last line
of defence (the first is never logging request bodies or SQL parameters), a bound on the
length of every line, and an optional JSON format for log collectors."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Literal

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_LINE_CHARS = 4000
MAX_LINES = 200

# At DEBUG these print whole payloads (Slack's requests and answers, Bolt's bodies): they
# stay at INFO or above whatever level Kyoso runs at. (SQLAlchemy keeps its own WARNING,
# and its engines hide bound parameters: bot/db.py.)
QUIET_LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "urllib3")

_DIGIT = "[0-9０-９]"
# The hyphens of bot/detectors/context.py and the full-width one (logs are not normalised).
_HYPHENS = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"
# Spaces (half- and full-width) and every hyphen, dash and minus a keyboard or IME types.
_SEPARATOR = f"[ \u3000{_HYPHENS}]"
# Twelve digits, as one run or grouped 4-4-4, not glued to other digits.
_MY_NUMBER = re.compile(
    rf"(?<!{_DIGIT}){_DIGIT}{{4}}{_SEPARATOR}?{_DIGIT}{{4}}{_SEPARATOR}?{_DIGIT}{{4}}(?!{_DIGIT})"
)
# Japanese numbers: 0 and 9-10 more digits (10-11 in all), or +81 and 9-10 digits, with
# spaces, hyphens or brackets between digits; not part of an identifier (U0123456789).
_PHONE_SEPARATOR = f"[ \u3000{_HYPHENS}()（）]"
_PHONE = re.compile(
    rf"(?<![0-9０-９A-Za-z_])(?:[+＋][8８][1１]{_PHONE_SEPARATOR}{{0,2}}{_DIGIT}|[0０]{_DIGIT})"
    rf"(?:{_PHONE_SEPARATOR}{{0,2}}{_DIGIT}){{8,9}}(?![0-9０-９A-Za-z_])"
)
_EMAIL = re.compile(r"[\w.+\-－＋．]+[@＠][\w\-－]+(?:[.．][\w\-－]+)+")

# PostgreSQL's errors quote row values after DETAIL ("Key (email)=(…)", "Failing row
# contains (…)"): names and emails that no parameter hiding removes.
_POSTGRES_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)

MASKS = (
    (_POSTGRES_DETAIL, "DETAIL: [redacted]"),
    (_MY_NUMBER, "[redacted number]"),
    (_PHONE, "[redacted phone]"),
    (_EMAIL, "[redacted email]"),
)


def redact(text: str) -> str:
    for pattern, mask in MASKS:
        text = pattern.sub(mask, text)
    return text


def _clean_line(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return redact(line)
    # Cut before matching (a 100 MB line costs no regex time), with a margin so that a
    # number straddling the cut is still seen whole.
    head = redact(line[: MAX_LINE_CHARS + 64])[:MAX_LINE_CHARS]
    return f"{head}… [cut {len(line) - MAX_LINE_CHARS} characters]"


def clean(text: str) -> str:
    """Masked, every line at most MAX_LINE_CHARS, at most MAX_LINES lines (head and tail:
    a traceback ends with the exception)."""
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        keep = MAX_LINES // 2
        skipped = len(lines) - 2 * keep
        lines = [*lines[:keep], f"… [cut {skipped} lines]", *lines[-keep:]]
    return "\n".join(_clean_line(line) for line in lines)


class RedactingFilter(logging.Filter):
    """Rewrites the record's message and exception text, masked and bounded, so that every
    handler after it (a file, a collector) sees only the cleaned text."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when it is set instead of formatting exc_info again.
            record.exc_text = clean(record.exc_text)
        if record.stack_info:
            record.stack_info = clean(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def make_handler(log_format: LogFormat = "text", stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    return handler
