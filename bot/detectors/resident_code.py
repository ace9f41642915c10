"""住民票コード: the eleven-digit code of a resident record (住民基本台帳法 第7条第13号).

Its last digit is a check digit (住民基本台帳法施行規則 第1条): modulus 11 over the first ten
digits with weights 2–7 from the right (Q_n = n + 1 for 1 ≤ n ≤ 6, n − 5 for 7 ≤ n ≤ 10), 0 when
the remainder is 0 or 1 — the same formula as the My Number's, one digit shorter.

Eleven digits are also a mobile number's length, so only a number labelled as a resident code
(住民票コード, 住基コード…, before it or right after it) closer than any other label is flagged, when it passes the check
digit and is not a placeholder or an example. mask() hides any eleven digits next to the label,
a typo included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.context import HYPHENS, Protected, nearest_before
from bot.detectors.examples import in_example, is_placeholder
from bot.detectors.model import FindingKind, Hit, personal_warning
from bot.detectors.my_number import modulus_11

MASKED = "住民票コード（11桁）"

_SEPARATORS = f" {HYPHENS}"
_CANDIDATE = re.compile(
    rf"(?<![0-9])(?<![0-9][{_SEPARATORS}])[0-9](?:[{_SEPARATORS}]?[0-9]){{10}}"
    rf"(?![0-9])(?![{_SEPARATORS}][0-9])"
)
_LABEL = re.compile(r"住民票コード|住民票番号|住基(?:ネット)?コード|住民基本台帳コード")
_OTHER_LABEL = re.compile(
    r"電話|携帯|tel|fax|個人番号|マイナンバー|法人番号|注文|口座|会員|伝票|管理番号", re.IGNORECASE
)
_LABEL_AFTER = re.compile(rf"[ )]?(?:という|の|は|が|:)?[ ]?(?:{_LABEL.pattern})")
_REACH = 48  # the label may come a clause earlier: 住民票コードの通知…、コードは…


def check_digit(first_ten: str) -> int:
    if len(first_ten) != 10:
        raise ValueError("ten ASCII digits expected")
    return modulus_11(first_ten)


def is_valid(digits: str) -> bool:
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    return check_digit(digits[:10]) == int(digits[10])


def _labelled(text: str, protected: Protected) -> Iterator[tuple[int, int, str]]:
    for match in _CANDIDATE.finditer(text):
        start, end = match.span()
        if protected.covers(start, end):
            continue
        label = nearest_before(text, start, _LABEL, _REACH)
        if label < 0 and _LABEL_AFTER.match(text, end):
            label = start  # 68031592740 という住民票コード
        if label < 0 or nearest_before(text, start, _OTHER_LABEL, _REACH) > label:
            continue
        digits = "".join(ch for ch in match.group() if ch.isdigit())
        yield start, end, digits


def detect(text: str, protected: Protected) -> Iterator[Hit]:
    if "住" not in text:
        return
    for start, end, digits in _labelled(text, protected):
        if not is_valid(digits) or is_placeholder(digits) or in_example(text, start, end):
            continue
        yield personal_warning(FindingKind.RESIDENT_CODE, start, end, MASKED, 0.9)


def mask_spans(text: str, protected: Protected) -> Iterator[tuple[int, int]]:
    """Any eleven digits labelled as a resident code, whether or not they pass the check."""
    if "住" not in text:
        return
    for start, end, _ in _labelled(text, protected):
        yield start, end
