"""Home addresses, with or without a 〒 postal code.

- With 〒: 〒 + a postal code + a prefecture or municipality, unless it is an office's or a
  venue's (庁舎, 市役所, 会場, ビル…) and not called one's home.
- Without 〒: block numbers (3丁目8番12号, 三丁目8-12, 8番地の3, 3-8-12, ３－８－１２) right after a
  place name, and someone lives there. The place is anchored by a prefecture or one of the 1,788
  local governments of the master data (bot/data/local-governments.csv), or at least a
  〇〇市/区/町/村/郡; "someone lives there" is a home word (自宅, 宅, 住所, お住まい, 転居…), a person
  (山田花子さん, 氏名, 申請者, 住民…) nearby, or a flat and room number (〇〇ハイツ201, 305号室).
  A street without any municipality counts only with a home word or a flat. An office's, a
  venue's or a centre's address (役所, 庁舎, センター, 公民館, 会場…) stays allowed unless the text
  calls it someone's home; an area without block numbers (〇〇町3丁目付近) is not an address.

mask() hides every address with block numbers after a municipality that is not a venue's,
whoever lives there.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.detectors.context import HYPHENS, Protected, person_between
from bot.detectors.examples import in_example
from bot.detectors.model import FindingKind, Hit, personal_warning

MASKED_POSTAL = "〒***-**** の住所"
MASKED = "住所（番地を含む）"

_PREFECTURES = (
    "北海道|東京都|京都府|大阪府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟"
    "|富山|石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島"
    "|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県"
)
_PLACE = "\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u3007\u30f6\u4e00-\u9fff"
_ADDRESS_CHAR = rf"[{_PLACE}0-9{HYPHENS}]"
_POSTAL = re.compile(
    rf"〒[ ]?[0-9]{{3}}(?:[ ]?[{HYPHENS}][ ]?[0-9]{{4}}|[0-9]{{4}})?(?![0-9])"
    rf"[ ,、:\n]{{0,3}}"
    rf"(?=(?:{_PREFECTURES})|[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff]{{1,7}}?[市区町村郡])"
    rf"{_ADDRESS_CHAR}{{1,40}}"
)

_KANJI_DIGITS = "一二三四五六七八九十"
_H = HYPHENS
# Block numbers at the level of a plot or a house: one number alone (3丁目, 2番) is an area.
_BLOCK = re.compile(
    rf"(?:[0-9]{{1,3}}|[{_KANJI_DIGITS}]{{1,3}})[ ]?丁目[ ]?"
    rf"[0-9]{{1,4}}[ ]?(?:番地?[ ]?(?:の[ ]?)?(?:[0-9]{{1,4}}[ ]?号?)?|[{_H}][ ]?[0-9]{{1,4}}[ ]?号?)?"
    rf"(?![0-9])"
    rf"|[0-9]{{1,5}}[ ]?番地(?:[ ]?(?:の|[{_H}])?[ ]?[0-9]{{1,4}}(?:[ ]?号)?)?(?![0-9])"
    rf"|[0-9]{{1,4}}[ ]?番[ ]?[0-9]{{1,4}}[ ]?号"
    rf"|(?<![0-9.])[1-9][0-9]{{0,3}}[ ]?[{_H}][ ]?[0-9]{{1,3}}(?:[ ]?[{_H}][ ]?[0-9]{{1,3}})?(?![0-9.])"
    rf"|(?<=[町通字])[0-9]{{3,5}}(?![0-9{_H}.,])"  # a lot number straight after the town: 学校町通2番町5293
)
# The place names before the numbers; Hokkaido's grid (豊岡5条, 東1線) and Iwate's 地割 included.
_BLOCK_HINT = re.compile(
    rf"丁目|番|[0-9][ ]?[{_H}][ ]?[0-9]|[町通字][0-9]{{3}}"
)  # what every block form has
_PLACE_RUN = re.compile(rf"(?:[{_PLACE}]|[0-9]{{1,2}}(?:条|線|号線|地割))+[ ]?$")
_MUNICIPALITY = re.compile(
    rf"(?:{_PREFECTURES})|[\u3007\u3005\u30f6\u4e00-\u9fff]{{1,5}}?[市区町村郡]"
)
_LOCALITY_REACH = 16  # characters of town names between the municipality and the numbers
_PLACE_SUFFIXES = frozenset("都道府県市区町村")
_BUILDING_CHAR = r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fffA-Za-z〇・]"
_RESIDENCE_WORDS = "ハイツ|コーポ|マンション|アパート|荘|レジデンス|メゾン|ハイム|ヴィラ|パレス|テラス|団地|住宅|寮"
# A flat's name (サンライズハイツ, コーポ若葉, みどりハイツ) and its room (201, 305号室).
_RESIDENCE = re.compile(
    rf"[ ]?(?:{_BUILDING_CHAR}{{0,12}}?(?:{_RESIDENCE_WORDS}){_BUILDING_CHAR}{{0,10}}"
    rf"[ ]?(?:[0-9]{{1,4}}(?:[ ]?号室|号)?)?|[0-9]{{2,4}}[ ]?号室|[0-9]{{3,4}}(?![0-9]))"
)
_RESIDENCE_WORD = re.compile(
    r"ハイツ|コーポ|マンション|アパート|荘|レジデンス|メゾン|ハイム|ヴィラ|団地|号室|住宅(?!課|政策)"
)
_HOME = re.compile(
    r"自宅|実家|私宅|現住所|お住まい|住まい|在住|居住|転居|転入|転出|引っ?越|(?<![住])宅(?!配|地|建|急)"
    r"|住所|居所|送付先|送り先|届け先|届先|帰省先|住民票|宛先|世帯|住んで|暮らして|独居|住人|居住者|高齢者"
)
_STRONG_HOME = re.compile(
    r"(?:さん|様|氏)宅|自宅|実家|私宅|現住所|私の住所|自分の住所|お住まい|在住|居住|転居先|住んでいる|住んで(?:い|る)|暮らして"
)
_VENUE = re.compile(
    r"役所|役場|庁|内閣府|省|局|センター|会館|ホール|公民館|図書館|学校|大学|ビル|号館|会場|所在地"
    r"|事務所|オフィス|本社|支社|支店|株式会社|\(株\)|会社|法人|機構|協会|組合|財団|公社|本部"
    r"|会議室|施設|体育館|病院|研修所|議会|店舗|工場|分室|出張所|支所|窓口|保育園|幼稚園"
    r"|相談所|保健所|研究所|裁判所|税務署|警察署|消防署|道の駅|ブース|イベント"
    r"|当(?:課|係|室|庁|市|町|村|所|センター)|弊(?:課|所|市|町|村)|(?:私たちの|うちの)(?:課|係|室|事務所)"
    r"|所属|勤務先|職場"
)
_VENUE_REACH = 14
_VENUE_BEFORE_REACH = 40


@cache
def place_names() -> frozenset[str]:
    """Every prefecture and local government of the master data (北海道, 川口市, 千代田区…)."""
    text = resources.files("bot.data").joinpath("local-governments.csv").read_text("utf-8")
    names = set()
    for row in csv.DictReader(text.splitlines()):
        names.add(row["name"] or row["prefecture"])
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Address:
    start: int  # where the place name starts
    end: int  # after the block numbers and any flat and room number
    known: bool  # anchored by a prefecture or municipality
    master: bool  # that place is in the master data
    residence: bool  # a flat name or a room number follows


def _postal_hits(text: str) -> Iterator[Hit]:
    for match in _POSTAL.finditer(text):
        start, end = match.span()
        window = text[max(0, start - 16) : min(len(text), end + 40)]
        if _VENUE.search(window) and not _STRONG_HOME.search(window):
            continue
        if in_example(text, start, end):
            continue
        yield _hit(start, end, MASKED_POSTAL, 0.85)


def addresses(text: str, protected: Protected) -> Iterator[Address]:
    """Block numbers after a place name, with where the address starts and ends."""
    if not _BLOCK_HINT.search(text):
        return
    for block in _BLOCK.finditer(text):
        start, end = block.span()
        if protected.covers(start, end):
            continue
        run = _PLACE_RUN.search(text, max(0, start - 30), start)
        if run is None:
            continue
        known, master, place_start = _locality(text, run.start(), run.end())
        residence = _RESIDENCE.match(text, end)
        if residence is not None:
            end = residence.end()
        yield Address(place_start, end, known, master, residence is not None)


def _locality(text: str, low: int, high: int) -> tuple[bool, bool, int]:
    """(anchored, in master data, start) of the place name in text[low:high]: the first
    prefecture or local government of the master data (紀の川市, 横浜市) within reach of the
    numbers, else a generic 〇〇市/区/町/村/郡."""
    names = place_names()
    for end in range(low + 2, high + 1):
        if text[end - 1] not in _PLACE_SUFFIXES or high - end > _LOCALITY_REACH + 12:
            continue
        for length in range(min(7, end - low), 1, -1):
            if text[end - length : end] in names:
                return True, True, end - length
    for match in _MUNICIPALITY.finditer(text, low, high):
        if high - match.end() <= _LOCALITY_REACH:
            return True, False, match.start()
    return False, False, max(low, high - 8)


def _block_hits(text: str, protected: Protected) -> Iterator[Hit]:
    for address in addresses(text, protected):
        low, high = max(0, address.start - 50), min(len(text), address.end + 40)
        if _near_venue(text, address) and not _STRONG_HOME.search(text, low, high):
            continue
        if in_example(text, address.start, address.end) or _placeholder(text, address):
            continue
        home = _HOME.search(text, low, high) is not None
        residence = address.residence or _RESIDENCE_WORD.search(text, address.start, high)
        person = person_between(text, low, high)
        if address.known and (home or person or residence):
            confidence = 0.9 if address.master else 0.8
        elif not address.known and (_STRONG_HOME.search(text, low, high) or residence):
            confidence = 0.7
        else:
            continue
        yield _hit(address.start, address.end, MASKED, confidence)


def _placeholder(text: str, address: Address) -> bool:
    """〇〇市〇〇町1-2-3, 1丁目1番1号: a made-up place with made-up numbers."""
    numbers = [int(n) for n in re.findall(r"[0-9]+", text[address.start : address.end])[:3]]
    counting = numbers in ([1, 2, 3], [1, 1, 1], [1, 2], [1, 1])
    return counting and text.count("〇", address.start, address.end) >= 2


def _near_venue(text: str, address: Address) -> bool:
    """A venue named right after the address, or before it with nobody named in between
    (保健センターの住所が変わりました：…)."""
    line_end = text.find("\n", address.end)
    after_end = (
        address.end + _VENUE_REACH if line_end < 0 else min(line_end, address.end + _VENUE_REACH)
    )
    if _VENUE.search(text, address.end, after_end):
        return True
    low = max(0, address.start - _VENUE_BEFORE_REACH)
    venues = list(_VENUE.finditer(text, low, address.start))
    if not venues:
        return False
    last = venues[-1].end()
    return not person_between(text, last, address.start) and not _STRONG_HOME.search(
        text, last, address.start
    )


def _hit(start: int, end: int, masked: str, confidence: float) -> Hit:
    return personal_warning(FindingKind.POSTAL_ADDRESS, start, end, masked, confidence)


def detect(text: str, protected: Protected) -> Iterator[Hit]:
    if "〒" in text:
        yield from _postal_hits(text)
    yield from _block_hits(text, protected)


def mask_spans(text: str, protected: Protected) -> Iterator[tuple[int, int]]:
    """Wider than detect(), for excerpts: any address after a municipality that is not a
    venue's, whoever lives there."""
    for address in addresses(text, protected):
        if address.known and not _near_venue(text, address):
            yield address.start, address.end
