"""Channel names: Slack's rules, prefixes by kind, near-duplicates; properties with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channel_names import (
    MAX_LENGTH,
    PREFIXES,
    Likeness,
    NameProblem,
    compose,
    find_similar,
    fold,
    is_valid_slack_name,
    kind_of,
    likeness,
    normalise,
    similarity_key,
    slack_name_problem,
    suggest,
)
from models import ChannelCategory
from tests.support.slack_emulator import ApiError
from tests.support.slack_emulator.methods import validate_channel_name

KINDS = st.sampled_from(list(PREFIXES))
# Text a member might type: ASCII, kana, kanji, full-width forms, spaces, punctuation and
# anything else Unicode has (surrogates excluded: they cannot be sent).
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=120,
)
TYPED = st.one_of(
    ANY_TEXT,
    st.text(
        alphabet=st.sampled_from(
            list("abcXYZ019-_ .。．・　ー々") + list("こそだてシエンｺｿﾀﾞﾃ子育支援ＡＢＣａｂｃ１２３")
        ),
        max_size=90,
    ),
)


def slack_accepts(name: str) -> bool:
    """Slack's documented rules, spelled out independently of bot/channel_names.py."""
    if not name or len(name) > 80:
        return False
    if " " in name or "." in name or name != name.lower():
        return False
    return not all(c in "-_" for c in name)


def emulator_accepts(name: str) -> bool:
    try:
        validate_channel_name(name)
    except ApiError:
        return False
    return True


# --- Slack's rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", NameProblem.REQUIRED),
        ("a" * 81, NameProblem.TOO_LONG),
        ("Kosodate", NameProblem.UPPERCASE),
        ("kosodate shien", NameProblem.SPACE),
        ("kosodate\u3000shien", NameProblem.SPACE),
        ("kosodate.shien", NameProblem.PERIOD),
        ("子育て。支援", NameProblem.PERIOD),
        ("kosodate!", NameProblem.CHARACTERS),
        ("子育て・支援", NameProblem.CHARACTERS),
        ("絵文字😀", NameProblem.CHARACTERS),
        ("---", NameProblem.PUNCTUATION_ONLY),
        ("ｶﾀｶﾅ", NameProblem.CHARACTERS),  # half-width: normalise() folds it first
    ],
)
def test_slack_rules_each_problem(name: str, problem: NameProblem) -> None:
    found = slack_name_problem(name)
    assert found is not None and found[0] is problem
    assert not emulator_accepts(name) or problem is NameProblem.CHARACTERS


@pytest.mark.parametrize(
    "name",
    [
        "デジ_pj_子育て支援",
        "デジ_all_雑談",
        "デジ_re_北海道",
        "kosodate-shien_2",
        "a" * 80,
        "データ連携",
    ],
)
def test_valid_names(name: str) -> None:
    assert is_valid_slack_name(name)
    assert emulator_accepts(name)


def test_problem_codes_are_slacks() -> None:
    assert NameProblem.REQUIRED.slack_error == "invalid_name_required"
    assert NameProblem.TOO_LONG.slack_error == "invalid_name_maxlength"
    assert NameProblem.PUNCTUATION_ONLY.slack_error == "invalid_name_punctuation"
    for problem in (NameProblem.UPPERCASE, NameProblem.SPACE, NameProblem.PERIOD):
        assert problem.slack_error == "invalid_name_specials"


def test_length_counts_utf16_units_too() -> None:
    astral = "𠮷" * 41  # 41 characters, 82 UTF-16 units
    assert slack_name_problem(astral) == (NameProblem.TOO_LONG, "82")


# --- prefixes by kind ----------------------------------------------------------------------------


def test_compose_adds_the_prefix_of_the_kind() -> None:
    assert compose(ChannelCategory.PJ, "子育て支援").name == "デジ_pj_子育て支援"
    assert compose(ChannelCategory.RE, " 北海道 ".strip()).name == "デジ_re_北海道"
    # The member's own copy of the right prefix is dropped; width is folded.
    assert compose(ChannelCategory.ALL, "デジ_all_雑談").name == "デジ_all_雑談"
    assert compose(ChannelCategory.PJ, "ﾃﾞｼﾞ_pj_ｺｿﾀﾞﾃ").name == "デジ_pj_コソダテ"
    assert compose(ChannelCategory.PJ, "ｋｏｓｏｄａｔｅ１").name == "デジ_pj_kosodate1"


def test_compose_refuses_another_kinds_prefix_with_a_suggestion() -> None:
    check = compose(ChannelCategory.PJ, "デジ_re_北海道")
    assert check.problem is NameProblem.PREFIX_MISMATCH and check.detail == "re"
    assert check.suggestion == "デジ_pj_北海道"
    unknown = compose(ChannelCategory.ALL, "デジ_xx_foo")
    assert unknown.problem is NameProblem.PREFIX_UNKNOWN


def test_compose_explains_and_suggests() -> None:
    check = compose(ChannelCategory.PJ, "Kosodate Shien.2026")
    assert check.problem is NameProblem.UPPERCASE
    assert check.suggestion == "デジ_pj_kosodate-shien-2026"
    assert compose(ChannelCategory.PJ, "").problem is NameProblem.REQUIRED
    too_long = compose(ChannelCategory.PJ, "あ" * 80)
    assert too_long.problem is NameProblem.TOO_LONG
    assert too_long.suggestion is not None and len(too_long.suggestion) == MAX_LENGTH


def test_kind_of_reads_the_prefix() -> None:
    assert kind_of("デジ_pj_子育て") is ChannelCategory.PJ
    assert kind_of("デジ_all_雑談") is ChannelCategory.ALL
    assert kind_of("デジ_re_北海道") is ChannelCategory.RE
    assert kind_of("general") is ChannelCategory.OTHER
    assert kind_of("デジ_子育て") is ChannelCategory.OTHER


# --- near-duplicates -----------------------------------------------------------------------------


def test_near_duplicates() -> None:
    assert likeness("デジ_pj_子育て支援", "デジ_pj_子育て支援") is Likeness.SAME
    assert likeness("デジ_pj_こそだて", "デジ_pj_コソダテ") is Likeness.VARIANT  # kana
    assert likeness("デジ_pj_kosodate-shien", "デジ_pj_kosodate_shien") is Likeness.VARIANT
    assert likeness("デジ_pj_ＤＸ推進", "デジ_pj_dx推進") is Likeness.SAME  # width and case
    assert likeness("デジ_pj_ＤＸ-推進", "デジ_pj_dx推進") is Likeness.VARIANT
    assert likeness("デジ_pj_防災", "デジ_all_防災") is Likeness.OTHER_KIND
    assert likeness("デジ_pj_データ連携基盤", "デジ_pj_データ連携基板") is Likeness.CLOSE
    assert likeness("デジ_pj_防災", "デジ_pj_子育て") is None
    assert likeness("デジ_pj_ab", "デジ_pj_ac") is None  # short names are not "close"


def test_find_similar_orders_strongest_first() -> None:
    found = find_similar(
        "デジ_pj_こそだて",
        [("C1", "デジ_all_こそだて"), ("C2", "デジ_pj_コソダテ"), ("C3", "デジ_pj_防災")],
    )
    assert [(m.key, m.likeness) for m in found] == [
        ("C2", Likeness.VARIANT),
        ("C1", Likeness.OTHER_KIND),
    ]


# --- properties ----------------------------------------------------------------------------------


@given(ANY_TEXT)
@example("")
@example("Ａ")
@example("\u0301a")
@example("a\ufe0f")
def test_checking_never_raises(text: str) -> None:
    slack_name_problem(text)
    suggest(text)
    kind_of(text)
    fold(text)
    similarity_key(text)
    likeness(text, text[::-1])


@given(KINDS, TYPED)
@settings(max_examples=400)
def test_compose_never_raises_and_everything_it_accepts_slack_accepts(
    kind: ChannelCategory, typed: str
) -> None:
    check = compose(kind, typed)
    if check.ok:
        assert check.name.startswith(PREFIXES[kind])
        assert slack_accepts(check.name), check.name
        assert emulator_accepts(check.name), check.name
    if check.suggestion is not None:
        assert slack_accepts(check.suggestion), check.suggestion
        assert emulator_accepts(check.suggestion), check.suggestion
        assert compose(kind, check.suggestion).ok


@given(ANY_TEXT)
@settings(max_examples=400)
def test_everything_the_name_check_accepts_slack_accepts(text: str) -> None:
    if slack_name_problem(text) is None:
        assert slack_accepts(text), text
        assert emulator_accepts(text), text
    fixed = suggest(text)
    assert fixed == "" or (slack_accepts(fixed) and emulator_accepts(fixed))


@given(TYPED)
@example("0\x1f_")  # a separator at the end hid whitespace from the first trim
def test_normalising_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)
    assert fold(fold(text)) == fold(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), max_size=20))
def test_hiragana_and_katakana_fold_together(text: str) -> None:
    katakana = "".join(chr(ord(c) + 0x60) for c in text)
    assert fold(text) == fold(katakana)


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20))
def test_full_width_and_case_fold_together(text: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in text)
    assert fold(full_width) == fold(text) == fold(text.upper())
