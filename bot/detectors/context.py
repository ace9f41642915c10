"""Helpers shared by the detectors: Slack markup, sentences, nearby keywords."""

from __future__ import annotations

import re
from bisect import bisect_right

# Slack sends links as <https://…> or <https://…|label>, mentions as <@U…>, <#C…|name>, <!here>.
SLACK_LINK = re.compile(r"<(?P<url>(?:https?|mailto|tel):[^|>\s]*)(?:\|(?P<label>[^>]*))?>")
SLACK_TOKEN = re.compile(r"<[@#!][^>\s]*>")
BARE_URL = re.compile(
    r"(?<![\w/.:])(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE
)

# Hyphen-like characters people put between digit groups (after NFKC; ー is an IME favourite).
HYPHENS = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc"

_SENTENCE_END = re.compile(r"[。!?\n]")

# Someone in particular: a name with an honorific, or a word for the person a record is about.
_PERSON = re.compile(
    r"(?P<name>[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]{1,6})[ ]?(?:様|さん|氏(?!名)|君|ちゃん)"
    r"|氏名|名前|本人|住民(?!税|票コード)|世帯主|申請者|相談者|利用者|対象者|被扶養者|扶養|保護者"
    r"|児童|生徒|園児|乳幼児|入所者|寄附者|納税者|受給者"
    r"|(?<![\u4e00-\u9fff])(?:母|父|妻|夫|息子|娘|祖母|祖父|両親|義母|義父)(?![\u4e00-\u9fff])"
    r"|の方(?!法|針|向|面|式)"
)
_EVERYONE = ("皆", "みな", "各位", "皆々", "お客", "職員の皆", "担当者")


def person_between(text: str, start: int, end: int) -> bool:
    """Whether someone in particular is named or meant in text[start:end] (not 皆さん)."""
    for match in _PERSON.finditer(text, start, end):
        name = match.group("name")
        if name is None or not name.endswith(_EVERYONE):
            return True
    return False


class Protected:
    """Regions where personal-data detectors must not look: URLs and Slack IDs.

    Link labels stay visible (a member can type a phone number as a link's text)."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, text: str) -> None:
        spans: list[tuple[int, int]] = []
        if "<" in text or "http" in text or "www." in text:
            for match in SLACK_LINK.finditer(text):
                spans.append((match.start(), match.end("url")))
            for match in SLACK_TOKEN.finditer(text):
                spans.append(match.span())
            for match in BARE_URL.finditer(text):
                spans.append(match.span())
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def covers(self, start: int, end: int) -> bool:
        """True when [start, end) overlaps a protected region."""
        index = bisect_right(self._starts, end - 1) - 1
        return index >= 0 and self._ends[index] > start


def sentence(text: str, start: int, end: int, reach: int = 80) -> tuple[int, int]:
    """Bounds of the sentence around [start, end), at most `reach` characters either side."""
    low = max(0, start - reach)
    sentence_start = low
    for match in _SENTENCE_END.finditer(text, low, start):
        sentence_start = match.end()
    high = min(len(text), end + reach)
    found = _SENTENCE_END.search(text, end, high)
    sentence_end = found.start() if found else high
    return sentence_start, sentence_end


def nearest_before(text: str, start: int, pattern: re.Pattern[str], reach: int) -> int:
    """End offset of the last match of `pattern` in the `reach` characters before `start`, or -1."""
    best = -1
    for match in pattern.finditer(text, max(0, start - reach), start):
        best = match.end()
    return best


def line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1
