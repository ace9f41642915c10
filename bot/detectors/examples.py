"""Numbers that belong to nobody: placeholders and format examples.

Members explain forms and formats with made-up numbers (記入例, 入力例, 0000-0000-0000,
090-0000-0000, 1234 5678 9012). An all-zero twelve-digit number even passes the My Number check
digit. A placeholder's digits are one repeated digit, nearly all zeros, a run counting up or down,
or one group repeated; an example is announced by a word (例, 記入例, サンプル, のように…) on the
same line before the number or right after it, or by a short heading line above (記入例).
"""

from __future__ import annotations

import re
from itertools import pairwise

from bot.detectors.context import line_start

_EXAMPLE_BEFORE = re.compile(
    r"(?:記入|入力|記載|回答|作成|記述|表記|設定|書き方の|番号の)例|(?<![\u4e00-\u9fff])例(?!外|会|年|月|規|祭)"
    r"|サンプル|見本|ダミー|テスト(?:用|データ)|架空|仮の(?:番号|値)"
    r"|書式|フォーマット|xxxx",
    re.IGNORECASE,
)
_EXAMPLE_AFTER = re.compile(
    r"[ )」』]{0,3}(?:の|と|を)?(?:ように|ような|みたいに|みたいな|等の|などの|形式|書式|のフォーマット|"
    r"という(?:形|形式|書き方|ふう)|(?:\()?例)"
)
_EXAMPLE_REACH = 80
# A short line announcing an example, a few lines above: 【記入例】, 例), 入力例：
_EXAMPLE_HEADING = re.compile(
    r"^[^\n]{0,20}(?:記入|入力|記載|回答|作成)?例(?:です|を示します|:)?[\s】\])>:。]*$",
    re.MULTILINE,
)
_HEADING_REACH = 80


def is_blank(digits: str) -> bool:
    """One repeated digit or all zeros but one (0000-0000, 0000 0000 0001): a blank to fill in."""
    return len(digits) >= 4 and (len(set(digits)) == 1 or digits.count("0") >= len(digits) - 1)


def is_placeholder(digits: str) -> bool:
    """Digits nobody is given: blanks, a run counting up or down (123456789012), one group
    repeated (1234 1234 1234)."""
    if len(digits) < 4:
        return False
    if is_blank(digits):
        return True
    steps = [(int(b) - int(a)) % 10 for a, b in pairwise(digits)]
    if steps.count(1) >= len(steps) - 2 or steps.count(9) >= len(steps) - 2:
        return True
    return any(
        len(digits) % size == 0 and digits == digits[:size] * (len(digits) // size)
        for size in (1, 2, 3, 4, 6)
        if size < len(digits)
    )


def in_example(text: str, start: int, end: int) -> bool:
    """An example word on the value's line just before it or heading the lines above it
    (記入例\n住所：…), or an example phrase right after it."""
    line = line_start(text, start)
    low = max(line, start - _EXAMPLE_REACH)
    if _EXAMPLE_BEFORE.search(text, low, start) or _EXAMPLE_AFTER.match(text, end):
        return True
    heading = _EXAMPLE_HEADING.search(text, max(0, line - _HEADING_REACH), line)
    return heading is not None
