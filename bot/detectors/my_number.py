"""マイナンバー (個人番号): 12 digits whose last digit is the official check digit.

The check digit (番号法施行令 第8条; the formula is in 総務省令第85号 (平成26年) 第5条):
P_n is the n-th of the first eleven digits counted from the RIGHT (n = 1 is the digit just
before the check digit), Q_n = n + 1 for 1 ≤ n ≤ 6 and n − 5 for 7 ≤ n ≤ 11; the check digit
is 11 − (Σ P_n × Q_n mod 11), or 0 when the remainder is 0 or 1. Read from the left, the
weights are 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2 (the tests check that both readings agree).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.detectors.context import HYPHENS, Protected, line_start, nearest_before, person_between
from bot.detectors.examples import in_example, is_placeholder
from bot.detectors.model import FindingKind, Hit, Rule, Severity

MASKED = "マイナンバー（12桁）"

_SEPARATORS = f" {HYPHENS}"
_CANDIDATE = re.compile(
    # Not glued to other digits, directly or through one separator (card numbers, 法人番号).
    rf"(?<![0-9])(?<![0-9][{_SEPARATORS}./,])"
    rf"(?P<a>[0-9]{{4}})(?P<sep>[{_SEPARATORS}]?)(?P<b>[0-9]{{4}})(?P=sep)(?P<c>[0-9]{{4}})"
    rf"(?![0-9])(?![{_SEPARATORS}./,][0-9])"
)
_POSITIVE = re.compile(r"マイナンバー|マイナ番号|個人番号|my ?number|個人no", re.IGNORECASE)
# Labels of other 12-digit numbers: when one of these is closer than a My Number word, the
# number is that other thing (order, parcel, account, meeting numbers…).
_NEGATIVE = re.compile(
    r"法人番号|会社法人等番号|電話|携帯|注文|発注|受注|受付(?:番号|no)|口座|会員|お客様番号|顧客|管理番号|伝票"
    r"|送り状|追跡|配送|問い?合わ?せ番号|整理番号|請求|契約番号|案件番号|申請番号|品番|型番"
    r"|製造番号|シリアル|登録番号|免許|保険証|被保険者(?:番号|証)|年金|証券|会議|ミーティング|パスコード"
    r"|科目|(?<!住民票)コード|予算|事業(?:番号|費)|歳出|歳入|見積|納品|請求書|インボイス|文書番号"
    r"|工事番号|物件番号|資産番号|備品|施設番号|口座|取引|決裁番号|起案番号"
    r"|(?<=[\u4e00-\u9fff])(?<!個人)番号(?!欄|カード)"
    r"|(?<![a-z])(?:tel|fax|jan|isbn|id|no)(?![a-z])",
    re.IGNORECASE,
)
# Without a My Number word: glued to an identifier (ARN "::", "id=", "ID1234…") or followed by a
# unit (件, 円, bytes…), twelve digits are an account ID or a quantity, not a person.
_IDENTIFIER_BEFORE = re.compile(r"(?:::|[A-Za-z_=])\Z")
_UNIT_AFTER = re.compile(
    r"[ ]?(?:円|件|人|個|枚|回|台|秒|行|桁|バイト|bytes?|[kmgt]b)", re.IGNORECASE
)
# 斎藤 拓海 4527 1886 3528: a family and a given name, then the number.
_FULL_NAME_BEFORE = re.compile(
    r"[\u4e00-\u9fff]{1,4} [\u4e00-\u9fff\u3041-\u3096\u30a1-\u30fa]{1,4}[ :]*$"
)
_PERSON_BEFORE = 40
_PERSON_AFTER = 30
_REACH_BEFORE = 24
_REACH_AFTER = 12


def modulus_11(digits: str) -> int:
    """The check digit over `digits` as the regulations state it: P_n is the n-th digit counted
    from the right, Q_n = n + 1 for n ≤ 6 and n − 5 above; 0 when the remainder is 0 or 1."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("ASCII digits expected")
    total = 0
    for n in range(1, len(digits) + 1):
        p_n = int(digits[len(digits) - n])
        q_n = n + 1 if n <= 6 else n - 5
        total += p_n * q_n
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def check_digit(first_eleven: str) -> int:
    """The My Number's check digit (総務省令第85号 第5条)."""
    if len(first_eleven) != 11:
        raise ValueError("eleven ASCII digits expected")
    return modulus_11(first_eleven)


def is_valid(digits: str) -> bool:
    """True for twelve ASCII digits whose last digit is the check digit."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return check_digit(digits[:11]) == int(digits[11])


def _looks_like_timestamp(digits: str) -> bool:
    """YYYYMMDDhhmm, as in log lines and file names."""
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    hour, minute = int(digits[8:10]), int(digits[10:12])
    return (
        1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    digits: str
    valid: bool
    grouped: bool  # written 4-4-4 with separators, the way the card prints it
    context: int  # +1 a My Number word is the closest label, -1 another number's label, 0 none


def candidates(text: str, protected: Protected) -> Iterator[Candidate]:
    """Every 12-digit group in normalised text, outside URLs, with its check and context."""
    for match in _CANDIDATE.finditer(text):
        start, end = match.span()
        if protected.covers(start, end):
            continue
        digits = match.group("a") + match.group("b") + match.group("c")
        positive = nearest_before(text, start, _POSITIVE, _REACH_BEFORE)
        line = line_start(text, start)  # another number's label labels its own line only
        negative = nearest_before(text, start, _NEGATIVE, min(_REACH_BEFORE, start - line))
        if positive >= 0 and positive >= negative:  # on a tie (個人No) the My Number word wins
            context = 1
        elif negative > positive:
            context = -1
        elif _POSITIVE.search(text, end, min(len(text), end + _REACH_AFTER)):
            context = 1
        else:
            context = 0
        grouped = bool(match.group("sep"))
        yield Candidate(start, end, digits, is_valid(digits), grouped, context)


def detect(text: str, protected: Protected) -> Iterator[Hit]:
    for candidate in candidates(text, protected):
        if not candidate.valid or candidate.context < 0 or is_placeholder(candidate.digits):
            continue
        if in_example(text, candidate.start, candidate.end):
            continue
        if candidate.context > 0:
            severity, confidence = Severity.CASE, 0.97
        elif _not_a_person(text, candidate):
            continue
        elif candidate.grouped and _person_near(text, candidate):
            severity, confidence = Severity.CASE, 0.85
        else:  # a bare number that only passes the check digit: a gentle warning, no case
            severity, confidence = Severity.WARN, 0.5
        yield Hit(
            FindingKind.MY_NUMBER,
            Rule.PERSONAL_INFORMATION,
            severity,
            candidate.start,
            candidate.end,
            MASKED,
            confidence,
        )


def _person_near(text: str, candidate: Candidate) -> bool:
    """Someone named or meant around the number, the line above included (氏名 / 番号 lists)."""
    low, high = max(0, candidate.start - _PERSON_BEFORE), candidate.end + _PERSON_AFTER
    if _FULL_NAME_BEFORE.search(text, max(0, candidate.start - 12), candidate.start):
        return True
    return person_between(text, low, min(len(text), high))


def _not_a_person(text: str, candidate: Candidate) -> bool:
    return (
        len(set(candidate.digits)) == 1
        or _looks_like_timestamp(candidate.digits)
        or _IDENTIFIER_BEFORE.search(text, max(0, candidate.start - 2), candidate.start) is not None
        or _UNIT_AFTER.match(text, candidate.end) is not None
    )


def mask_spans(text: str, protected: Protected) -> Iterator[tuple[int, int]]:
    """Wider than detect(), for excerpts: any number passing the check digit whatever its
    label, and any 12 digits next to a My Number word even with a typo in them."""
    for candidate in candidates(text, protected):
        if candidate.valid or candidate.context > 0:
            yield candidate.start, candidate.end
