"""Channel names: Slack's rules, the platform's prefixes by kind, and near-duplicates.

Pure functions; nothing here raises on what a member typed.

Slack's rules (SLACK-FACTS.md): lowercase Latin letters, digits, `-`, `_` and non-ASCII
letters (Japanese is allowed); no spaces or periods; at most 80 characters; not only
punctuation. Slack's own error codes are kept (`invalid_name_required`,
`invalid_name_maxlength`, `invalid_name_specials`, `invalid_name_punctuation`) and refined
for members (an upper-case letter, a space and a period are all `invalid_name_specials` to
Slack, but each deserves its own explanation).

The check is deliberately a little stricter than Slack where Slack's behaviour is not
documented (combining marks at the start, variation selectors, characters that NFKC would
change, characters outside the Basic Multilingual Plane counted twice as in UTF-16): a name
Kyoso accepts is one Slack accepts.

Near-duplicates compare a folded key: NFKC (full-/half-width), case, hiragana read as
katakana, separators (`-`, `_`, `・`, spaces) ignored, and the kind's prefix removed, so
`デジ_pj_こそだて-支援` and `デジ_pj_コソダテ_支援` are the same channel to a member.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from models.channel import ChannelCategory

MAX_LENGTH = 80

PREFIX_BASE = "デジ_"
PREFIXES: Mapping[ChannelCategory, str] = MappingProxyType(
    {
        ChannelCategory.ALL: "デジ_all_",
        ChannelCategory.PJ: "デジ_pj_",
        ChannelCategory.RE: "デジ_re_",
    }
)
REQUESTABLE = tuple(PREFIXES)

# Non-ASCII characters Kyoso accepts: letters without case or lower-case, modifier and
# other letters (kana, kanji, ー, 々), combining marks (not first) and decimal digits.
_ALLOWED_CATEGORIES = frozenset({"Ll", "Lm", "Lo", "Mn", "Mc", "Nd"})
_PERIODS = frozenset(".。｡．")
_SEPARATORS = frozenset("-_・ \u3000")
_HIRAGANA = range(0x3041, 0x3097)
_HIRAGANA_ITERATION = {0x309D: 0x30FD, 0x309E: 0x30FE}  # ゝゞ → ヽヾ
_KATAKANA_OFFSET = 0x60
# Names this close (difflib ratio of the folded keys) are worth a second look.
CLOSE_RATIO = 0.88
CLOSE_MIN_LENGTH = 4


class NameProblem(StrEnum):
    """Why a name cannot be used; `slack_error` gives Slack's own code."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    UPPERCASE = "uppercase"
    SPACE = "space"
    PERIOD = "period"
    CHARACTERS = "characters"
    PUNCTUATION_ONLY = "punctuation_only"
    PREFIX_MISMATCH = "prefix_mismatch"  # the name carries another kind's prefix
    PREFIX_UNKNOWN = "prefix_unknown"  # the name starts with デジ_ but no known kind

    @property
    def slack_error(self) -> str:
        return {
            NameProblem.REQUIRED: "invalid_name_required",
            NameProblem.TOO_LONG: "invalid_name_maxlength",
            NameProblem.PUNCTUATION_ONLY: "invalid_name_punctuation",
        }.get(self, "invalid_name_specials")


@dataclass(frozen=True)
class NameCheck:
    name: str  # the full name that would be created (prefix included)
    problem: NameProblem | None = None
    # What the problem is about: offending characters, or the kind a prefix belongs to.
    detail: str = ""
    # A corrected full name to propose, when one can be made.
    suggestion: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def normalise(text: str) -> str:
    """What a name means: NFKC (full-width letters and digits, half-width kana), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def _length(name: str) -> int:
    # Counted as Python does and as UTF-16 does; the larger is the safe one.
    return max(len(name), len(name.encode("utf-16-le")) // 2)


def _variation_selector(code: int) -> bool:
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _char_problem(char: str, index: int) -> NameProblem | None:
    if char.isascii():
        if char.islower() or char.isdigit() or char in "-_":
            return None
        if char.isupper():
            return NameProblem.UPPERCASE
        if char.isspace():
            return NameProblem.SPACE
        if char == ".":
            return NameProblem.PERIOD
        return NameProblem.CHARACTERS
    if char.isspace():
        return NameProblem.SPACE
    if char in _PERIODS:
        return NameProblem.PERIOD
    category = unicodedata.category(char)
    if (
        category not in _ALLOWED_CATEGORIES
        or (category[0] == "M" and index == 0)
        or _variation_selector(ord(char))
        or char.lower() != char
        or unicodedata.normalize("NFKC", char) != char
    ):
        return NameProblem.UPPERCASE if category == "Lu" else NameProblem.CHARACTERS
    return None


def slack_name_problem(name: str) -> tuple[NameProblem, str] | None:
    """Whether Slack would refuse `name` as it stands (no normalisation), and why."""
    if not name:
        return NameProblem.REQUIRED, ""
    if _length(name) > MAX_LENGTH:
        return NameProblem.TOO_LONG, str(_length(name))
    found: dict[NameProblem, list[str]] = {}
    for index, char in enumerate(name):
        problem = _char_problem(char, index)
        if problem is not None:
            found.setdefault(problem, [])
            if char not in found[problem]:
                found[problem].append(char)
    for problem in (
        NameProblem.UPPERCASE,
        NameProblem.SPACE,
        NameProblem.PERIOD,
        NameProblem.CHARACTERS,
    ):
        if problem in found:
            return problem, " ".join(found[problem][:5])
    if all(char in "-_" for char in name):
        return NameProblem.PUNCTUATION_ONLY, ""
    return None


def is_valid_slack_name(name: str) -> bool:
    return slack_name_problem(name) is None


def suggest(name: str) -> str:
    """A usable spelling of `name`: NFKC, lower case, other characters become `-`.

    May return "" when nothing usable remains; never raises."""
    out: list[str] = []
    for char in normalise(name).lower():
        usable = _char_problem(char, len(out)) is None
        piece = char if usable else "-"
        if piece == "-" and out and out[-1] in "-_":
            continue
        out.append(piece)
    text = "".join(out).strip("-_")
    while _length(text) > MAX_LENGTH:
        text = text[:-1]
    text = text.rstrip("-_")
    return text if is_valid_slack_name(text) else ""


def kind_of(name: str) -> ChannelCategory:
    """The kind a channel's prefix declares; OTHER for names outside the convention."""
    folded = normalise(name).lower()
    for kind, prefix in PREFIXES.items():
        if folded.startswith(prefix):
            return kind
    return ChannelCategory.OTHER


def strip_prefix(name: str) -> str:
    folded = normalise(name)
    for prefix in PREFIXES.values():
        if folded.lower().startswith(prefix):
            return folded[len(prefix) :]
    return folded


def compose(kind: ChannelCategory, suffix: str) -> NameCheck:
    """The full name for a request of `kind` whose member typed `suffix` after the prefix.

    The member's own copy of the right prefix is dropped; another kind's prefix is a
    problem (the kind or the name is wrong)."""
    prefix = PREFIXES.get(kind)
    if prefix is None:
        return NameCheck(name=normalise(suffix), problem=NameProblem.PREFIX_UNKNOWN)
    typed = normalise(suffix)
    lowered = typed.lower()
    if lowered.startswith(prefix):
        typed, lowered = typed[len(prefix) :], lowered[len(prefix) :]
    else:
        for other, other_prefix in PREFIXES.items():
            if lowered.startswith(other_prefix):
                rest = typed[len(other_prefix) :]
                return NameCheck(
                    name=prefix + typed,
                    problem=NameProblem.PREFIX_MISMATCH,
                    detail=other.value,
                    suggestion=_suggested(prefix, rest),
                )
        if lowered.startswith(PREFIX_BASE):
            return NameCheck(
                name=prefix + typed,
                problem=NameProblem.PREFIX_UNKNOWN,
                suggestion=_suggested(prefix, typed[len(PREFIX_BASE) :]),
            )
    full = prefix + typed
    if not typed:
        return NameCheck(name=full, problem=NameProblem.REQUIRED)
    found = slack_name_problem(full)
    if found is None:
        return NameCheck(name=full)
    problem, detail = found
    return NameCheck(
        name=full, problem=problem, detail=detail, suggestion=_suggested(prefix, typed)
    )


def _suggested(prefix: str, typed: str) -> str | None:
    fixed = suggest(typed)
    if not fixed:
        return None
    full = prefix + fixed
    while _length(full) > MAX_LENGTH:
        full = full[:-1]
    full = full.rstrip("-_")
    return full if is_valid_slack_name(full) and full != prefix.rstrip("_") else None


def max_suffix_length(kind: ChannelCategory) -> int:
    return MAX_LENGTH - len(PREFIXES[kind])


# --- near-duplicates -----------------------------------------------------------------------------


def _katakana(char: str) -> str:
    code = ord(char)
    if code in _HIRAGANA:
        return chr(code + _KATAKANA_OFFSET)
    return chr(_HIRAGANA_ITERATION.get(code, code))


def fold(name: str) -> str:
    """A channel name as a member means it: widths, case, kana and separators folded."""
    text = unicodedata.normalize("NFKC", normalise(name).casefold())
    folded = "".join(_katakana(ch) for ch in text if ch not in _SEPARATORS)
    # Trimmed again: a separator taken away may leave other whitespace at an end ("0\x1f_").
    return unicodedata.normalize("NFKC", folded).strip()


def similarity_key(name: str) -> str:
    """The folded name without its kind's prefix (empty names keep the whole fold)."""
    key = fold(strip_prefix(name))
    return key or fold(name)


class Likeness(StrEnum):
    SAME = "same"  # the same name once normalised: Slack would say name_taken
    VARIANT = "variant"  # the same kind and folded name: width, case, kana or separators
    OTHER_KIND = "other_kind"  # the same folded name under another kind's prefix
    CLOSE = "close"  # a near spelling of the folded name


# Strongest first; SAME and VARIANT block a request, the others ask for a confirmation.
LIKENESS_ORDER = (Likeness.SAME, Likeness.VARIANT, Likeness.OTHER_KIND, Likeness.CLOSE)
BLOCKING = frozenset({Likeness.SAME, Likeness.VARIANT})


def likeness(wanted: str, existing: str) -> Likeness | None:
    """How `existing` resembles `wanted`, or None when it does not."""
    if normalise(wanted).lower() == normalise(existing).lower():
        return Likeness.SAME
    wanted_key, existing_key = similarity_key(wanted), similarity_key(existing)
    if wanted_key and wanted_key == existing_key:
        return Likeness.VARIANT if kind_of(wanted) == kind_of(existing) else Likeness.OTHER_KIND
    if min(len(wanted_key), len(existing_key)) < CLOSE_MIN_LENGTH:
        return None
    if _one_edit_apart(wanted_key, existing_key):
        return Likeness.CLOSE
    ratio = difflib.SequenceMatcher(a=wanted_key, b=existing_key, autojunk=False).ratio()
    return Likeness.CLOSE if ratio >= CLOSE_RATIO else None


def _one_edit_apart(a: str, b: str) -> bool:
    """One character replaced, added or removed (a typo, 基盤/基板)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass(frozen=True)
class Match:
    key: str  # what the caller identifies the existing name by (a channel id, a request id)
    name: str
    likeness: Likeness


def find_similar(
    wanted: str, existing: Iterable[tuple[str, str]], *, limit: int = 5
) -> list[Match]:
    """Existing (key, name) pairs resembling `wanted`, strongest first."""
    found = []
    for key, name in existing:
        how = likeness(wanted, name)
        if how is not None:
            found.append(Match(key=key, name=name, likeness=how))
    found.sort(key=lambda m: (LIKENESS_ORDER.index(m.likeness), m.name))
    return found[:limit]
