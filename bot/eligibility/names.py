"""A name that reads like an organisation (a unit, a title, an agency) rather than a person."""

from __future__ import annotations

import re

from bot.eligibility.directory import OrganisationDirectory
from bot.text import nfkc

# Titles are not organisations: "山田係長" is a person. Stripped before the checks, longest
# first, so "係長" never trips "係" and "部長" never trips "部".
_TITLES = tuple(
    sorted(
        [
            "担当課長",
            "担当部長",
            "担当係長",
            "課長補佐",
            "課長代理",
            "センター長",
            "事務局長",
            "係長",
            "課長",
            "室長",
            "部長",
            "局長",
            "次長",
            "所長",
            "班長",
            "主任",
            "主査",
            "主事",
            "主幹",
            "参事",
            "技師",
        ],
        key=len,
        reverse=True,
    )
)
# Words no personal name contains, including the themes units are named after (政策, 企画;
# not 行政, which is also a given name, Yukimasa):
# "情報政策課長" minus its title is still no one's name. Single kanji 課, 係, 局 are here
# because names with them are vanishingly rare (局 is a surname, rare enough for a flag).
_ORGANISATION_TERMS = tuple(
    [
        "担当",
        "センター",
        "事務局",
        "事務所",
        "市役所",
        "区役所",
        "町役場",
        "村役場",
        "役所",
        "役場",
        "県庁",
        "都庁",
        "府庁",
        "道庁",
        "協議会",
        "委員会",
        "推進",
        "グループ",
        "チーム",
        "窓口",
        "支所",
        "出張所",
        "組合",
        "広域連合",
        "機構",
        "株式会社",
        "課",
        "係",
        "局",
        "政策",
        "企画",
        "総務",
        "財政",
        "広報",
        "情報",
        "改革",
        "戦略",
        "デジタル",
    ]
)
# Kanji that end unit names (総務部, 秘書室, 企画班) but also common surnames (阿部, 服部,
# 小室, 氷室): only a token of three or more characters ending in one counts, and the
# three-character surnames below never do. 室井/室田 do not end in 室 and never match.
_UNIT_SUFFIXES = ("部", "室", "班")
_SURNAMES_ENDING_IN_UNIT = frozenset(
    ["長谷部", "日下部", "曽我部", "曾我部", "宗我部", "長曽我部", "長宗我部", "五十部"]
)
_ENGLISH_ORGANISATION = re.compile(
    r"\b(section|division|department|dept|office|team|group|bureau|center|centre|"
    r"secretariat|committee|council|ministry|agency|city hall|government|prefecture|dx)\b",
    re.IGNORECASE,
)


def organisation_like(name: str, directory: OrganisationDirectory) -> str | None:
    """The part of `name` that reads as an organisation rather than a person, if any."""
    text = nfkc(name)
    english = _ENGLISH_ORGANISATION.search(text)
    if english:
        return english.group(0)
    for title in _TITLES:
        text = text.replace(title, " ")
    tokens = text.split()
    joined = "".join(tokens)
    for term in _ORGANISATION_TERMS:
        if term in joined:
            return term
    agency = directory.contained_agency_name(joined)
    if agency:
        return agency
    for token in [*tokens, joined]:
        if directory.is_organisation_name(token):
            return token
    for token in tokens:
        if (
            len(token) >= 3
            and token.endswith(_UNIT_SUFFIXES)
            and token not in _SURNAMES_ENDING_IN_UNIT
        ):
            return token
    return None
