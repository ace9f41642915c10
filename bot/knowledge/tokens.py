"""Search keys for Japanese and Latin text, the same for entries and queries.

Japanese has no spaces and many two-character words (申請, 移行, 窓口) that trigram indexes
miss, so runs of one script are cut into character bigrams; Latin letters and digits make
whole words. Before that the text is folded so that spelling variants meet:
- NFKC (full-width ＬＧＷＡＮ, half-width ｸﾗｳﾄﾞ) and case folding;
- kana: hiragana as katakana (おすすめ/オススメ), small kana as large, voicing marks dropped
  (クラウド/クラウト, a common typo) and the long-vowel mark dropped (サーバー/サーバ);
- okurigana: a kanji pair split by one or two hiragana also gives the pair (申し込み → 申込,
  問い合わせ → 問合), so 申込 and 申し込み share a key.
Single hiragana (particles: の, を, に) make no key; a lone kanji (県, 国) is its own key."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from enum import Enum
from functools import lru_cache

MAX_WORD = 40  # characters of a Latin word kept as a key (URLs and hashes are cut)


class Script(Enum):
    KANJI = 1
    HIRAGANA = 2
    KATAKANA = 3
    WORD = 4  # Latin letters, digits and other alphabets


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_ITERATION_MARKS = {"々", "〆", "〇", "ヶ"}
_OKURIGANA = 2  # at most this many hiragana between two kanji still pair them
# Particles between two nouns (県の予算, 移行から運用) are not okurigana: no pair across them.
_PARTICLES = frozenset(
    [
        "の",
        "を",
        "に",
        "は",
        "が",
        "と",
        "で",
        "へ",
        "も",
        "や",
        "か",
        "から",
        "まで",
        "より",
        "など",
        "への",
        "での",
        "との",
        "には",
        "では",
    ]
)


def script_of(ch: str) -> Script | None:
    code = ord(ch)
    if 0x3041 <= code <= 0x309F:
        return Script.HIRAGANA
    if 0x30A1 <= code <= 0x30FF and ch not in ("・", "ヶ"):
        return Script.KATAKANA
    if (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
        or ch in _ITERATION_MARKS
    ):
        return Script.KANJI
    if ch.isalnum():
        return Script.WORD
    return None


@lru_cache(maxsize=4096)
def _fold_kana_char(ch: str) -> str:
    """A kana as its key form: katakana, large, unvoiced; "" for the long-vowel mark."""
    if ch == "ー":
        return ""
    code = ord(ch)
    if 0x3041 <= code <= 0x3096:  # hiragana → katakana
        ch = chr(code + 0x60)
    ch = ch.translate(_SMALL_KANA)
    decomposed = unicodedata.normalize("NFD", ch)
    return unicodedata.normalize("NFC", decomposed.replace("\u3099", "").replace("\u309a", ""))


# Every kana's key form at once: str.translate folds a whole run in C.
_KANA_TABLE = {code: _fold_kana_char(chr(code)) for code in range(0x3041, 0x3100)}


def fold_kana(text: str) -> str:
    return text.translate(_KANA_TABLE)


def normalise(text: str) -> str:
    """NFKC and case folding: what every other step starts from."""
    return unicodedata.normalize("NFKC", text or "").casefold()


_HIRAGANA = "\u3041-\u309f"
_KATAKANA = "\u30a1-\u30f5\u30f7-\u30fa\u30fc-\u30ff"  # not ・ (a separator) nor ヶ (a kanji)
_KANJI = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002fa1f々〆〇ヶ"
# The same classes as script_of, as one pattern: a run of one script per match.
_RUNS = re.compile(
    f"(?P<hiragana>[{_HIRAGANA}]+)|(?P<katakana>[{_KATAKANA}]+)|(?P<kanji>[{_KANJI}]+)"
    f"|(?P<word>(?:(?![{_HIRAGANA}{_KATAKANA}{_KANJI}・])[^\\W_])+)"
)
_SCRIPTS = {
    "hiragana": Script.HIRAGANA,
    "katakana": Script.KATAKANA,
    "kanji": Script.KANJI,
    "word": Script.WORD,
}


def runs(text: str) -> Iterator[tuple[Script, str]]:
    """Maximal runs of one script in normalised text; everything else separates."""
    for match in _RUNS.finditer(text):
        yield _SCRIPTS[match.lastgroup or "word"], match.group()


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _word_keys(word: str) -> Iterator[str]:
    word = word[:MAX_WORD]
    yield word
    # "windows11" also meets "windows 11"; "m365" stays whole as well as its parts
    parts: list[str] = []
    for ch in word:
        if parts and parts[-1][-1].isdigit() == ch.isdigit():
            parts[-1] += ch
        else:
            parts.append(ch)
    if len(parts) > 1:
        yield from (p for p in parts if len(p) > 1 or p.isdigit())


def keys(text: str) -> list[str]:
    """The search keys of a text, in order, repeated as often as they occur."""
    out: list[str] = []
    pieces = list(runs(normalise(text)))
    for i, (script, run) in enumerate(pieces):
        if script is Script.WORD:
            out.extend(_word_keys(run))
        elif script is Script.KANJI:
            out.extend(_bigrams(run))
            bridged = _okurigana_bridge(pieces, i)
            if bridged:
                out.append(bridged)
        else:
            folded = fold_kana(run)
            if script is Script.HIRAGANA and len(folded) < 2:
                continue  # a particle
            if folded:
                out.extend(_bigrams(folded))
    return out


def _okurigana_bridge(pieces: list[tuple[Script, str]], i: int) -> str | None:
    """申し込み: the kanji before and after one or two hiragana, as one key (申込)."""
    if i + 2 >= len(pieces):
        return None
    (_, kanji), (middle_script, middle), (after_script, after) = pieces[i : i + 3]
    okurigana = (
        middle_script is Script.HIRAGANA and len(middle) <= _OKURIGANA and middle not in _PARTICLES
    )
    return kanji[-1] + after[0] if okurigana and after_script is Script.KANJI else None


def folded(text: str) -> str:
    """A text folded like its keys but kept whole: how synonyms and logged queries compare."""
    out: list[str] = []
    for script, run in runs(normalise(text)):
        out.append(run if script in (Script.KANJI, Script.WORD) else fold_kana(run))
    return " ".join(out)
