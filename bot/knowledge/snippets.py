"""A short piece of an entry around what the query matched, the matches in bold.

Keys are found in the text as the tokenizer would find them, but every folded character
remembers where it came from, so the bold marks land on the text as written (full-width
letters and half-width kana included)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from functools import lru_cache
from itertools import pairwise

from bot.knowledge.tokens import Script, fold_kana, script_of

WINDOW = 110  # characters of the snippet
SCANNED = 1500  # characters looked at for it: a long answer's start says what it is about
# Slack renders *bold* only at word boundaries; Japanese has none, so zero-width spaces make one.
_BOLD_OPEN = "\u200b*"
_BOLD_CLOSE = "*\u200b"


def _folded_chars(text: str) -> tuple[list[tuple[str, int, Script | None]], dict[int, int]]:
    """Each folded character with the index of the character it came from and its script,
    and the characters folding dropped (ー, a half-width voicing mark) with the one before."""
    out: list[tuple[str, int, Script | None]] = []
    dropped: dict[int, int] = {}
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        if not folded:  # skipped, as in the keys: bold with what it follows
            dropped[index] = index - 1
        out.extend((norm, index, script) for norm, script in folded)
    return out, dropped


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> tuple[tuple[str, Script | None], ...]:
    out: list[tuple[str, Script | None]] = []
    for norm in unicodedata.normalize("NFKC", ch).casefold():
        script = script_of(norm)
        if script in (Script.HIRAGANA, Script.KATAKANA):
            norm = fold_kana(norm)
            if not norm:
                continue
        out.append((norm, script))
    return tuple(out)


def matched_positions(text: str, keys: Collection[str]) -> set[int]:
    chars, dropped = _folded_chars(text)
    marked = _matched(chars, keys)
    for index, before in sorted(dropped.items()):
        if before in marked:
            marked.add(index)
    return marked


def _matched(chars: list[tuple[str, int, Script | None]], keys: Collection[str]) -> set[int]:
    marked: set[int] = set()
    i = 0
    while i < len(chars):
        script = chars[i][2]
        j = i
        while j < len(chars) and chars[j][2] is script:
            j += 1
        if script is not None:
            run = chars[i:j]
            if script is Script.WORD:
                word = "".join(c for c, _, _ in run)
                if word in keys or word[:40] in keys:
                    marked.update(index for _, index, _ in run)
            elif len(run) == 1:
                if run[0][0] in keys:
                    marked.add(run[0][1])
            else:
                for a, b in pairwise(run):
                    if a[0] + b[0] in keys:
                        marked.update((a[1], b[1]))
        i = j
    return marked


def snippet(text: str, keys: Collection[str], *, window: int = WINDOW) -> str:
    """The densest window of `text` with matched characters in bold (Slack mrkdwn)."""
    text = " ".join(text[: SCANNED * 2].split())[:SCANNED]
    marked = matched_positions(text, keys)
    start = _best_start(len(text), marked, window)
    end = min(len(text), start + window)
    pieces: list[str] = ["…"] if start > 0 else []
    bold = False
    for index in range(start, end):
        if (index in marked) != bold:
            pieces.append(_BOLD_OPEN if not bold else _BOLD_CLOSE)
            bold = not bold
        pieces.append(_escape(text[index]))
    if bold:
        pieces.append(_BOLD_CLOSE)
    if end < len(text):
        pieces.append("…")
    return "".join(pieces)


def _best_start(length: int, marked: set[int], window: int) -> int:
    if length <= window or not marked:
        return 0
    positions = sorted(marked)
    best_start, best_count = 0, -1
    right = 0
    for left, first in enumerate(positions):
        while right < len(positions) and positions[right] < first + window:
            right += 1
        if right - left > best_count:
            best_start, best_count = first, right - left
    # A little context before the first match, never past the end.
    return max(0, min(best_start - window // 6, length - window))


def _escape(ch: str) -> str:
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "＊"}.get(ch, ch)
