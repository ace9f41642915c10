"""Personal phone numbers, postal addresses and dates of birth.

Policies (see the package docstring for the reasons):
- Mobile numbers (070/080/090 + 8 digits, domestic or +81) are flagged unless labelled as a
  work-issued phone (公用携帯, 業務用携帯…) or as another kind of number (注文番号…).
- Landlines, 0120/0570 and 050 (IP phone) numbers are office numbers unless the text says they
  are private (自宅, 実家, 私用, プライベート…).
- A postal address is 〒 + a postal code + a prefecture or municipality; the address of an office
  or a venue (庁舎, 市役所, 会場, ビル…) is not personal unless the text calls it one's home.
- A date of birth is a full date (year, month, day; 西暦 or 和暦) after a birth keyword
  (生年月日, 誕生日, DOB…) or followed by 生まれ/生; not dates of mascots, municipalities or
  eligibility ranges (…生まれの方).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.context import HYPHENS, Protected, nearest_before
from bot.detectors.model import FindingKind, Hit, Rule, Severity

# ---------------------------------------------------------------------------------- phones
_SEP = rf"(?:[ ]?[{HYPHENS}.][ ]?|[ ]{{1,2}})?"
_NOT_AFTER_DIGIT = rf"(?<![0-9+])(?<![0-9][{HYPHENS}.])"
_NOT_BEFORE_DIGIT = rf"(?![0-9])(?![{HYPHENS}.][0-9])"
_MOBILE = re.compile(
    rf"{_NOT_AFTER_DIGIT}"
    rf"(?:\([ ]?(?P<p1>0[789]0)[ ]?\)[ ]?|(?P<p2>0[789]0){_SEP})"
    rf"[0-9]{{4}}{_SEP}[0-9]{{4}}{_NOT_BEFORE_DIGIT}"
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
    r"(?:公用|業務用?|社用|会社|貸与|災害用|庁用|課の|係の|部署の)(?:の)?"
    r"(?:携帯|スマホ|スマートフォン|電話|端末|番号)"
)
_NOT_A_PHONE = re.compile(
    r"注文|受付|管理番号|伝票|送り状|整理番号|契約番号|申請番号|会員|(?<![a-z])id(?![a-z])",
    re.IGNORECASE,
)
_WORK_PHONE_AFTER = re.compile(r"[ ]?\(?[ ]?(?:公用|業務用?|社用|貸与|庁用)")
_PRIVATE_PHONE = re.compile(r"自宅|実家|私用|私物|プライベート|個人的な|個人の(?:携帯|電話|番号)")
_PHONE_REACH = 16


def _phone_hits(text: str, protected: Protected) -> Iterator[Hit]:
    taken: list[tuple[int, int]] = []
    for match in _MOBILE_INTERNATIONAL.finditer(text):
        if protected.covers(*match.span()) or _is_work_phone(text, match.start(), match.end()):
            continue
        taken.append(match.span())
        masked = f"+81-{match.group('p')}-****-****"
        yield _phone(match.start(), match.end(), masked, 0.9)
    for match in _MOBILE.finditer(text):
        span = match.span()
        if protected.covers(*span) or any(s < span[1] and span[0] < e for s, e in taken):
            continue
        if _is_work_phone(text, match.start(), match.end()):
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
        if not ip_phone and (digits != 10 or area in ("070", "080", "090")):
            continue
        private = nearest_before(text, match.start(), _PRIVATE_PHONE, _PHONE_REACH)
        if private < 0 or _is_work_phone(text, match.start(), match.end()):
            continue
        masked = "050-****-****" if ip_phone else "0*-****-****"
        yield _phone(match.start(), match.end(), masked, 0.8)


def _is_work_phone(text: str, start: int, end: int) -> bool:
    """A work-issued phone, or some other number that merely looks like a phone number."""
    if _WORK_PHONE_AFTER.match(text, end):  # 070-xxxx-xxxx（公用）
        return True
    work = max(
        nearest_before(text, start, _WORK_PHONE, _PHONE_REACH),
        nearest_before(text, start, _NOT_A_PHONE, _PHONE_REACH),
    )
    private = nearest_before(text, start, _PRIVATE_PHONE, _PHONE_REACH)
    return work > private


def _phone(start: int, end: int, masked: str, confidence: float) -> Hit:
    return Hit(
        FindingKind.PHONE_NUMBER,
        Rule.PERSONAL_INFORMATION,
        Severity.WARN,
        start,
        end,
        masked,
        confidence,
    )


# ---------------------------------------------------------------------------------- postal
_PREFECTURES = (
    "北海道|東京都|京都府|大阪府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟"
    "|富山|石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島"
    "|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県"
)
_ADDRESS_CHAR = rf"[\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u3007\u4e00-\u9fff0-9{HYPHENS}]"
_POSTAL = re.compile(
    rf"〒[ ]?[0-9]{{3}}(?:[ ]?[{HYPHENS}][ ]?[0-9]{{4}}|[0-9]{{4}})?(?![0-9])"
    rf"[ ,、:]{{0,3}}"
    rf"(?=(?:{_PREFECTURES})|[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff]{{1,7}}?[市区町村郡])"
    rf"{_ADDRESS_CHAR}{{1,40}}"
)
_VENUE = re.compile(
    r"役所|役場|庁|内閣府|省|局|センター|会館|ホール|公民館|図書館|学校|大学|ビル|号館|会場|所在地"
    r"|事務所|オフィス|本社|支社|支店|株式会社|\(株\)|会社|法人|機構|協会|組合|財団|公社|本部"
    r"|会議室|施設|体育館|病院|研修所|議会"
)
_HOME = re.compile(r"自宅|実家|私の住所|現住所|私宅|自分の住所")


def _postal_hits(text: str) -> Iterator[Hit]:
    for match in _POSTAL.finditer(text):
        start, end = match.span()
        window = text[max(0, start - 16) : min(len(text), end + 40)]
        if _VENUE.search(window) and not _HOME.search(window):
            continue
        yield Hit(
            FindingKind.POSTAL_ADDRESS,
            Rule.PERSONAL_INFORMATION,
            Severity.WARN,
            start,
            end,
            "〒***-**** の住所",
            0.85,
        )


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
    rf"{_BIRTH_KEY}[ ]?(?:[:=]|は|の)?[ ]?(?:\([^)\n]{{0,8}}\))?[ ]?(?P<date>{_DATE}){_NOT_A_RANGE}",
    re.IGNORECASE,
)
_BIRTH_DATE_FIRST = re.compile(
    rf"(?P<date>{_DATE})[ ]?(?:生まれ|生(?=$|[ \n、。,)\]】]))"
    r"(?!の(?:子|方|人|者|児|お子|乳幼児)|以降|以前|から|まで)"
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
            seen.add(start)
            yield Hit(
                FindingKind.BIRTH_DATE,
                Rule.PERSONAL_INFORMATION,
                Severity.WARN,
                start,
                end,
                "生年月日（****年**月**日）",
                0.9,
            )


def _plausible_date(match: re.Match[str]) -> bool:
    month, day = int(match.group("m")), int(match.group("d"))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    era_year = match.group("ey")
    return era_year is None or era_year == "元" or 1 <= int(era_year) <= 64


_DIGIT = re.compile(r"[0-9]")


def detect(text: str, protected: Protected) -> Iterator[Hit]:
    if _DIGIT.search(text):
        yield from _phone_hits(text, protected)
        if "〒" in text:
            yield from _postal_hits(text)
        yield from _birth_hits(text)


def mask_spans(text: str, protected: Protected) -> Iterator[tuple[int, int]]:
    """Wider than detect(), for excerpts: every mobile number, work-issued or not."""
    for pattern in (_MOBILE_INTERNATIONAL, _MOBILE):
        for match in pattern.finditer(text):
            if not protected.covers(*match.span()):
                yield match.span()
