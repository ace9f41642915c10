"""NFKC normalisation that remembers where every normalised character came from.

Detectors match on normalised text (full-width digits, ＋, （）, ： and half-width katakana fold
to one form) but report spans into the text the member wrote. Most Japanese text is made of
characters NFKC leaves alone, so the text is split into runs of such characters (mapped one to
one) and short runs of other characters, which are normalised one grapheme at a time and mapped
as a block when their length changes (ｶﾞ → ガ, ㍼ → 昭和).

Two deliberate departures from plain NFKC: circled numbers become parenthesised (① → "(1)",
the way NFKC treats ⑴) so that a list marker never glues onto the digits after it, and ㊙
becomes 【秘】, the bracketed label it stands for.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# NFKC-stable characters that never compose with a neighbour (checked by the tests): ASCII,
# CJK punctuation, hiragana, katakana and CJK ideographs.
STABLE_RANGES = "\x00-\x7f\u3001-\u301f\u3041-\u3096\u30a1-\u30fe\u3400-\u4dbf\u4e00-\u9fff"
# Marks that attach to the preceding character (the half-width voiced marks NFKC turns into
# combining ones included).
COMBINING_RANGES = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a\uff9e\uff9f"
)

_SEGMENT = re.compile(
    rf"(?P<stable>[{STABLE_RANGES}]+(?![{COMBINING_RANGES}]))"
    rf"|(?P<other>(?:.[{COMBINING_RANGES}]+|[^{STABLE_RANGES}])+)",
    re.DOTALL,
)
_GRAPHEME = re.compile(rf".[{COMBINING_RANGES}]*", re.DOTALL)


def _special_forms() -> dict[str, str]:
    table = {"\u3299": "【秘】"}  # ㊙
    circled = [*range(0x2460, 0x2474), 0x24EA, *range(0x3251, 0x3260), *range(0x32B1, 0x32C0)]
    for code in circled:
        table[chr(code)] = f"({unicodedata.normalize('NFKC', chr(code))})"
    return table


_SPECIAL = _special_forms()


def _normalise_grapheme(grapheme: str) -> str:
    special = _SPECIAL.get(grapheme[0])
    if special is not None:
        return special + unicodedata.normalize("NFKC", grapheme[1:])
    return unicodedata.normalize("NFKC", grapheme)


# (normalised, start, end, linear) per chunk of a segment, offsets within the segment.
_Chunk = tuple[str, int, int, bool]


# Segments NFKC changes are short and come back again and again (full-width ！？（）, the
# ideographic space, full-width digits): normalised once, then looked up.
@functools.lru_cache(maxsize=4096)
def _normalise_segment(segment: str) -> tuple[_Chunk, ...]:
    """One grapheme at a time; consecutive one-to-one graphemes merged into one chunk."""
    chunks: list[_Chunk] = []
    for grapheme in _GRAPHEME.finditer(segment):
        raw = grapheme.group()
        norm = _normalise_grapheme(raw)
        start, end = grapheme.start(), grapheme.end()
        linear = len(raw) == 1 and len(norm) == 1
        if linear and chunks and chunks[-1][3] and chunks[-1][2] == start:
            previous = chunks[-1]
            chunks[-1] = (previous[0] + norm, previous[1], end, True)
        else:
            chunks.append((norm, start, end, linear))
    return tuple(chunks)


@dataclass(frozen=True, slots=True)
class _Piece:
    norm_start: int
    orig_start: int
    orig_end: int
    linear: bool  # one normalised character per original character


class Normalised:
    """Normalised text plus a map from its offsets back to the original text."""

    __slots__ = ("_pieces", "_starts", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        # Text NFKC leaves alone maps one to one (the special forms are never NFKC-stable).
        if original.isascii() or unicodedata.is_normalized("NFKC", original):
            self.text = original
            self._pieces: list[_Piece] | None = None
            self._starts: list[int] = []
            return
        parts: list[str] = []
        pieces: list[_Piece] = []
        norm_at = 0
        for segment in _SEGMENT.finditer(original):
            if segment.lastgroup == "stable":
                chunk = segment.group()
                norm_at = _add(pieces, parts, chunk, norm_at, segment.start(), segment.end(), True)
                continue
            base = segment.start()
            for norm, start, end, linear in _normalise_segment(segment.group()):
                norm_at = _add(pieces, parts, norm, norm_at, base + start, base + end, linear)
        self.text = "".join(parts)
        if len(pieces) == 1 and pieces[0].linear and self.text == original:
            self._pieces = None
            self._starts = []
        else:
            self._pieces = pieces
            self._starts = [piece.norm_start for piece in pieces]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span [start, end)."""
        if self._pieces is None:
            return start, end
        orig_start = self._orig_start(start)
        orig_end = self._orig_end(end) if end > start else orig_start
        return orig_start, max(orig_start, orig_end)

    def _orig_start(self, at: int) -> int:
        pieces = self._pieces
        assert pieces is not None
        if not pieces:
            return 0
        piece = pieces[max(0, bisect_right(self._starts, at) - 1)]
        if piece.linear:
            return min(piece.orig_start + (at - piece.norm_start), piece.orig_end)
        return piece.orig_start

    def _orig_end(self, at: int) -> int:
        pieces = self._pieces
        assert pieces is not None
        if not pieces:
            return 0
        last = at - 1
        piece = pieces[max(0, bisect_right(self._starts, last) - 1)]
        if piece.linear:
            return min(piece.orig_start + (last - piece.norm_start) + 1, piece.orig_end)
        return piece.orig_end


def _add(
    pieces: list[_Piece],
    parts: list[str],
    norm: str,
    norm_at: int,
    orig_start: int,
    orig_end: int,
    linear: bool,
) -> int:
    """Append one normalised chunk, merging consecutive one-to-one chunks into one piece."""
    parts.append(norm)
    if not norm:
        return norm_at
    if linear and pieces and pieces[-1].linear and pieces[-1].orig_end == orig_start:
        last = pieces[-1]
        pieces[-1] = _Piece(last.norm_start, last.orig_start, orig_end, True)
    else:
        pieces.append(_Piece(norm_at, orig_start, orig_end, linear))
    return norm_at + len(norm)
