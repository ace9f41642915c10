"""Normalisation and escaping shared by every comparison and every mrkdwn message."""

from __future__ import annotations

import re
import unicodedata


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_email(value: str) -> str:
    """NFKC folds full-width ＠ and digits; addresses compare case-insensitively here."""
    return nfkc(value).lower()


# `@channel`, `@here`, `@everyone` notify everyone when a message is sent with link_names;
# a word joiner after the `@` keeps the text readable and inert.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone))", re.IGNORECASE)


def escape_mrkdwn(value: str) -> str:
    """The one escape for member-written text in mrkdwn: Slack's three control characters,
    so it cannot mention, link or broadcast, and bare broadcast words made inert."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", escaped)


# Input hygiene: every path that takes text from outside (the web form, modals, slash
# commands, CSV imports) cleans it here before it is stored or compared. NUL is refused by
# PostgreSQL (a 500 where SQLite stores it); other controls and bidi overrides let a name
# hide or reverse what the secretariat reads.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _unwanted(char: str) -> bool:
    category = unicodedata.category(char)
    # Cc: C0/C1 controls (NUL, ESC, DEL…); Cs: lone surrogates, which no database can store;
    # a byte-order mark inside text is invisible and only ever an artefact.
    return category in ("Cc", "Cs") or char in _BIDI_CONTROLS or char == "\ufeff"


def clean_line(value: str) -> str:
    """A single-line field (a name, an e-mail, a code): line breaks and tabs become a space,
    every other control or bidi override is dropped, the ends are trimmed."""
    return _clean(value, line_break=" ", tab=" ")


def clean_multiline(value: str) -> str:
    """A multi-line field (a purpose, a note, a reason): ordinary newlines and tabs stay
    (any line break becomes "\\n"), every other control or bidi override is dropped."""
    return _clean(value, line_break="\n", tab="\t")


def _clean(value: str, *, line_break: str, tab: str) -> str:
    out = []
    for char in value.replace("\r\n", "\n"):
        if char in _LINE_BREAKS:
            out.append(line_break)
        elif char == "\t":
            out.append(tab)
        elif not _unwanted(char):
            out.append(char)
    return "".join(out).strip()


# PostgreSQL's `integer`: an id or a page beyond it names nothing, and would overflow there.
MAX_DB_INTEGER = 2**31 - 1


def parse_int(value: str | None, *, low: int = 0, high: int = MAX_DB_INTEGER) -> int | None:
    """A plain decimal number from a command or a button value, or None when it is not one
    or lies outside [low, high]. ASCII digits after NFKC only: `int()` would take "٣" but
    refuse "²" (which `isdigit()` accepts), and gives up past 4,300 digits."""
    text = nfkc(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(high)):
        return None
    number = int(significant)
    return number if low <= number <= high else None
