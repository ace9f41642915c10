import csv
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.codes import check_digit, is_valid_code

DATA = Path(__file__).resolve().parents[1] / "bot" / "data" / "local-governments.csv"


def test_every_shipped_code_passes_its_check_digit() -> None:
    codes = [row["code"] for row in csv.DictReader(DATA.open(encoding="utf-8"))]
    assert len(codes) == 1788
    assert all(is_valid_code(code) for code in codes)


def test_known_codes_and_typing_variants() -> None:
    assert is_valid_code("131016")  # 千代田区
    assert is_valid_code("１３１０１６")  # full-width digits, as typed on Japanese keyboards
    assert is_valid_code(" 13101-6 ")
    assert not is_valid_code("131017")  # wrong check digit
    assert not is_valid_code("13101")  # the 5-digit form has no check digit
    assert not is_valid_code("abcdef")
    assert not is_valid_code("")
    assert not is_valid_code("١٣١٠١٦")  # Arabic-Indic digits are digits to Python, not to us


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_exactly_one_check_digit_is_valid(first_five: str) -> None:
    valid = [d for d in range(10) if is_valid_code(first_five + str(d))]
    assert valid == [check_digit(first_five)]


@given(st.text())
def test_never_raises(raw: str) -> None:
    assert is_valid_code(raw) in (True, False)
