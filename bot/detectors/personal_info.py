"""Personal phone numbers and dates of birth (addresses: address.py).

Policies (see the package docstring for the reasons):
- Mobile numbers (070/080/090 + 8 digits, domestic or +81) are flagged unless labelled as a
  work-issued phone (公用携帯, 業務用携帯…) or as another kind of number (注文番号…).
- Landlines, 0120/0570 and 050 (IP phone) numbers are office numbers unless the text says they
  are private (自宅, 実家, 私用, プライベート…).
- A date of birth is a full date (year, month, day; 西暦 or 和暦) after a birth keyword
  (生年月日, 誕生日, DOB…) or followed by 生まれ/生; not dates of mascots, municipalities or
  eligibility ranges (…生まれの方).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.context import HYPHENS, Protected, nearest_before
from bot.detectors.examples import in_example, is_blank, is_placeholder
from bot.detectors.model import FindingKind, Hit, personal_warning

# ---------------------------------------------------------------------------------- phones
_SEP = rf"(?:[ ]?[{HYPHENS}.][ ]?|[ ]{{1,2}})?"
_NOT_AFTER_DIGIT = rf"(?<![0-9+])(?<![0-9][{HYPHENS}.])"
_NOT_BEFORE_DIGIT = rf"(?![0-9])(?![{HYPHENS}.][0-9])"
_MOBILE = re.compile(
    rf"{_NOT_AFTER_DIGIT}"
    rf"(?:\([ ]?(?P<p1>0[789]0)[ ]?\)[ ]?[0-9]{{4}}{_SEP}"
    rf"|(?P<p2>0[789]0)(?:{_SEP}[0-9]{{4}}{_SEP}|\([0-9]{{4}}\)))"  # 090(1234)5678 too
    rf"[0-9]{{4}}{_NOT_BEFORE_DIGIT}"
)
_MOBILE_INTERNATIONAL = re.compile(
    rf"\+[ ]?81[ ]?(?:\(0\))?[ ]?[{HYPHENS}]?[ ]?(?P<p>[789]0){_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"
    rf"{_NOT_BEFORE_DIGIT}"
)
# Fixed lines (10 digits: 03-xxxx-xxxx, 0120-xxx-xxx, 0570…) and 050 IP phones (11 digits).
_OTHER_PHONE = re.compile(
    rf"{_NOT_AFTER_DIGIT}(?:\((?P<a1>0[1-9][0-9]{{0,3}})\)|(?P<a2>0[1-9][0-9]{{0,3}}))"
    rf"{_SEP}(?P<b>[0-9]{{1,4}}){_SEP}(?P<c>[0-9]{{4}}){_NOT_BEFORE_DIGIT}"
)
_WORK_PHONE = re.compile(
    r"(?:公用|業務用?|職務用?|社用|会社|貸与|支給|災害用|庁用|課の|係の|部署の)(?:支給|貸与)?(?:の)?"
    r"(?:携帯|スマホ|スマートフォン|電話|端末|番号)"
)
_NOT_A_PHONE = re.compile(
    r"注文|受付(?:番号|no)|管理番号|伝票|送り状|整理番号|契約番号|申請番号|会員|(?<![a-z])id(?![a-z])",
    re.IGNORECASE,
)
_WORK_PHONE_AFTER = re.compile(r"[ ]?(?:\([^)\n]{0,8}?)?[ ]?(?:公用|業務用?|社用|貸与|庁用)")
_PRIVATE_PHONE = re.compile(
    r"自宅|実家|私用|私物|プライベート|個人的な|個人の(?:携帯|電話|番号)|家の(?:固定)?電話|家電"
)
# A section's name right before the number: the section's phone, not a person's.
_SECTION_BEFORE = re.compile(r"(?:課|係|室|班|局|本部|センター|担当|窓口|事務局)[ :]?\(?$")
_PRIVATE_AFTER = re.compile(r"[ ]?(?:\(|は|が|も)?[ ]?(?:自宅|実家|私用|私物|プライベート)")
_LIST_JOIN = re.compile(r"[ ]?(?:と|、|,|/|・|及び|および|or)?[ ]?")
_PHONE_REACH = 16
_PRIVATE_REACH = 32  # 実家（山形市…、電話 03-…）


def _phone_hits(text: str, protected: Protected) -> Iterator[Hit]:
    taken: list[tuple[int, int]] = []
    work_ends: list[int] = []  # 公用携帯は 070-… と 070-…: the second is the same kind
    for match in _MOBILE_INTERNATIONAL.finditer(text):
        if protected.covers(*match.span()) or _is_work_phone(text, match.start(), match.end()):
            continue
        if _is_example(text, match.start(), match.end(), 8):
            continue
        taken.append(match.span())
        masked = f"+81-{match.group('p')}-****-****"
        yield _phone(match.start(), match.end(), masked, 0.9)
    for match in _MOBILE.finditer(text):
        span = match.span()
        if protected.covers(*span) or any(s < span[1] and span[0] < e for s, e in taken):
            continue
        if _is_work_phone(text, match.start(), match.end()) or _listed_after(
            text, match.start(), work_ends
        ):
            work_ends.append(match.end())
            continue
        if _is_example(text, match.start(), match.end(), 8):
            continue
        taken.append(span)
        prefix = match.group("p1") or match.group("p2")
        yield _phone(match.start(), match.end(), f"{prefix}-****-****", 0.9)
    for match in _OTHER_PHONE.finditer(text):
        span = match.span()
        if protected.covers(*span) or any(s < span[1] and span[0] < e for s, e in taken):
            continue
        area = match.group("a1") or match.group("a2") or ""
        digits = len(area) + len(match.group("b")) + len(match.group("c"))
        ip_phone = area == "050" and digits == 11
        # A landline has 10 digits; one called private is flagged even if mistyped by one.
        if not ip_phone and (not 9 <= digits <= 11 or area in ("070", "080", "090")):
            continue
        private = nearest_before(text, match.start(), _PRIVATE_PHONE, _PRIVATE_REACH)
        if private < 0 and _PRIVATE_AFTER.match(text, match.end()):
            private = match.start()  # 050-xxxx-xxxx は私用の…
        if private < 0 or _is_work_phone(text, match.start(), match.end()):
            continue
        if _is_example(text, match.start(), match.end(), digits - len(area)):
            continue
        masked = "050-****-****" if ip_phone else "0*-****-****"
        yield _phone(match.start(), match.end(), masked, 0.8)


def _listed_after(text: str, start: int, work_ends: list[int]) -> bool:
    """Right after a work phone, joined by と, 、, / or a space: one more of the same."""
    return any(_LIST_JOIN.fullmatch(text, end, start) for end in work_ends)


def _is_example(text: str, start: int, end: int, subscriber_digits: int) -> bool:
    """090-0000-0000, or 090-1234-5678 given as a format example."""
    digits = "".join(ch for ch in text[start:end] if ch.isdigit())[-subscriber_digits:]
    return is_blank(digits) or (is_placeholder(digits) and in_example(text, start, end))


def _is_work_phone(text: str, start: int, end: int) -> bool:
    """A work-issued phone, or some other number that merely looks like a phone number."""
    if _WORK_PHONE_AFTER.match(text, end):  # 070-xxxx-xxxx（公用）
        return True
    if _SECTION_BEFORE.search(text, max(0, start - 4), start):  # 危機管理課 080-xxxx-xxxx
        return nearest_before(text, start, _PRIVATE_PHONE, _PHONE_REACH) < 0
    work = max(
        nearest_before(text, start, _WORK_PHONE, _PHONE_REACH),
        nearest_before(text, start, _NOT_A_PHONE, _PHONE_REACH),
    )
    private = nearest_before(text, start, _PRIVATE_PHONE, _PHONE_REACH)
    return work > private


def _phone(start: int, end: int, masked: str, confidence: float) -> Hit:
    return personal_warning(FindingKind.PHONE_NUMBER, start, end, masked, confidence)


# ---------------------------------------------------------------------------- date of birth
_DATE = (
    r"(?:(?<![0-9])(?P<y>(?:19|20)[0-9]{2})[ ]?(?:年[ ]?|[/.\-])"
    r"|(?<![0-9A-Za-z])(?P<era>明治|大正|昭和|平成|令和|[MTSHRmtshr])[ ]?(?P<ey>[0-9]{1,2}|元)[ ]?"
    r"(?:年[ ]?|[/.\-]))"
    r"(?P<m>[0-9]{1,2})[ ]?(?:月[ ]?|[/.\-])(?P<d>[0-9]{1,2})(?![0-9])(?:[ ]?日)?"
)
_BIRTH_KEY = (
    r"(?:生年月日|誕生日|出生日|d\.?o\.?b\.?|date of birth|birth ?date|birthday|born(?: on)?)"
    r"(?!会|祝|パーティ|プレゼント|ケーキ|欄|休暇|月)"
)
# A range (…〜…, …から, 以降) is an eligibility condition, not someone's birthday.
_NOT_A_RANGE = r"(?![ ]?日?[ ]?(?:[〜~\-]|から|以降|以前|まで|より))"
_BIRTH_KEY_FIRST = re.compile(
    rf"{_BIRTH_KEY}[ ]?(?:[:=]|は|が|の)?[^0-9\n。]{{0,10}}?(?:\([^)\n]{{0,8}}\))?[ ]?"
    rf"(?P<date>{_DATE}){_NOT_A_RANGE}",
    re.IGNORECASE,
)
_BIRTH_DATE_FIRST = re.compile(
    rf"(?P<date>{_DATE})[ ]?(?:生まれ|生(?=$|[ \n、。,)\]】]|の))"
    r"(?!の(?:子|人|者|児|お子|乳幼児)|の方(?:から|まで|以降|は対象|が対象|を対象|へ|に|全員)"
    r"|以降|以前|から|まで)"
)
_NOT_A_PERSON = re.compile(
    r"キャラ|マスコット|市制|町制|村制|区制|施行|設立|創立|創業|開設|開庁|開館|開校"
)


def _birth_hits(text: str) -> Iterator[Hit]:
    seen: set[int] = set()
    for pattern in (_BIRTH_KEY_FIRST, _BIRTH_DATE_FIRST):
        for match in pattern.finditer(text):
            start, end = match.span("date")
            if start in seen or not _plausible_date(match):
                continue
            if nearest_before(text, match.start(), _NOT_A_PERSON, 16) >= 0:
                continue
            if in_example(text, start, end):
                continue
            seen.add(start)
            yield personal_warning(
                FindingKind.BIRTH_DATE, start, end, "生年月日（****年**月**日）", 0.9
            )


def _plausible_date(match: re.Match[str]) -> bool:
    month, day = int(match.group("m")), int(match.group("d"))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    era_year = match.group("ey")
    return era_year is None or era_year == "元" or 1 <= int(era_year) <= 64


_DIGIT = re.compile(r"[0-9]")
_BIRTH_HINT = re.compile(r"生|誕|d\.?o\.?b|birth|born", re.IGNORECASE)  # what both patterns need


def detect(text: str, protected: Protected) -> Iterator[Hit]:
    if _DIGIT.search(text):
        yield from _phone_hits(text, protected)
        if _BIRTH_HINT.search(text):
            yield from _birth_hits(text)


def mask_spans(text: str, protected: Protected) -> Iterator[tuple[int, int]]:
    """Wider than detect(), for excerpts: every mobile number, work-issued or not."""
    for pattern in (_MOBILE_INTERNATIONAL, _MOBILE):
        for match in pattern.finditer(text):
            if not protected.covers(*match.span()):
                yield match.span()
