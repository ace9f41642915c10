"""開庁日: holidays against the Cabinet Office's published lists, then properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.business_days import (
    add_business_days,
    business_days_between,
    holiday_name,
    holidays,
    is_business_day,
    is_year_end_closure,
)

# The Cabinet Office's lists (内閣府「国民の祝日について」, syukujitsu.csv)
PUBLISHED: dict[int, dict[str, str]] = {
    2025: {
        "01-01": "元日",
        "01-13": "成人の日",
        "02-11": "建国記念の日",
        "02-23": "天皇誕生日",
        "02-24": "振替休日",
        "03-20": "春分の日",
        "04-29": "昭和の日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "05-06": "振替休日",
        "07-21": "海の日",
        "08-11": "山の日",
        "09-15": "敬老の日",
        "09-23": "秋分の日",
        "10-13": "スポーツの日",
        "11-03": "文化の日",
        "11-23": "勤労感謝の日",
        "11-24": "振替休日",
    },
    2026: {
        "01-01": "元日",
        "01-12": "成人の日",
        "02-11": "建国記念の日",
        "02-23": "天皇誕生日",
        "03-20": "春分の日",
        "04-29": "昭和の日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "05-06": "振替休日",
        "07-20": "海の日",
        "08-11": "山の日",
        "09-21": "敬老の日",
        "09-22": "国民の休日",
        "09-23": "秋分の日",
        "10-12": "スポーツの日",
        "11-03": "文化の日",
        "11-23": "勤労感謝の日",
    },
    2027: {
        "01-01": "元日",
        "01-11": "成人の日",
        "02-11": "建国記念の日",
        "02-23": "天皇誕生日",
        "03-21": "春分の日",
        "03-22": "振替休日",
        "04-29": "昭和の日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "07-19": "海の日",
        "08-11": "山の日",
        "09-20": "敬老の日",
        "09-23": "秋分の日",
        "10-11": "スポーツの日",
        "11-03": "文化の日",
        "11-23": "勤労感謝の日",
    },
    # the accession year: one-off holidays and the 国民の休日 they created
    2019: {
        "01-01": "元日",
        "01-14": "成人の日",
        "02-11": "建国記念の日",
        "03-21": "春分の日",
        "04-29": "昭和の日",
        "04-30": "国民の休日",
        "05-01": "天皇の即位の日",
        "05-02": "国民の休日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "05-06": "振替休日",
        "07-15": "海の日",
        "08-11": "山の日",
        "08-12": "振替休日",
        "09-16": "敬老の日",
        "09-23": "秋分の日",
        "10-14": "体育の日",
        "10-22": "即位礼正殿の儀の行われる日",
        "11-03": "文化の日",
        "11-04": "振替休日",
        "11-23": "勤労感謝の日",
    },
    # the Olympic years: 海の日, スポーツの日 and 山の日 moved by special law
    2020: {
        "01-01": "元日",
        "01-13": "成人の日",
        "02-11": "建国記念の日",
        "02-23": "天皇誕生日",
        "02-24": "振替休日",
        "03-20": "春分の日",
        "04-29": "昭和の日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "05-06": "振替休日",
        "07-23": "海の日",
        "07-24": "スポーツの日",
        "08-10": "山の日",
        "09-21": "敬老の日",
        "09-22": "秋分の日",
        "11-03": "文化の日",
        "11-23": "勤労感謝の日",
    },
    2021: {
        "01-01": "元日",
        "01-11": "成人の日",
        "02-11": "建国記念の日",
        "02-23": "天皇誕生日",
        "03-20": "春分の日",
        "04-29": "昭和の日",
        "05-03": "憲法記念日",
        "05-04": "みどりの日",
        "05-05": "こどもの日",
        "07-22": "海の日",
        "07-23": "スポーツの日",
        "08-08": "山の日",
        "08-09": "振替休日",
        "09-20": "敬老の日",
        "09-23": "秋分の日",
        "11-03": "文化の日",
        "11-23": "勤労感謝の日",
    },
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_holidays_match_the_published_list(year: int) -> None:
    expected = {date.fromisoformat(f"{year}-{md}"): name for md, name in PUBLISHED[year].items()}
    assert holidays(year) == expected


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2018, 12, 23), "天皇誕生日"),  # the Heisei emperor's birthday, until 2018
        (date(2018, 12, 24), "振替休日"),
        (date(1988, 4, 29), "天皇誕生日"),
        (date(1989, 2, 24), "昭和天皇の大喪の礼"),
        (date(1989, 4, 29), "みどりの日"),
        (date(1990, 11, 12), "即位礼正殿の儀"),
        (date(1993, 6, 9), "皇太子徳仁親王の結婚の儀"),
        (date(1988, 5, 4), "国民の休日"),  # the first one
        (date(1999, 1, 15), "成人の日"),  # before Happy Monday
        (date(2000, 1, 10), "成人の日"),
        (date(2002, 7, 20), "海の日"),
        (date(2003, 9, 15), "敬老の日"),
        (date(2008, 5, 6), "振替休日"),  # since 2007: the next day that is no holiday
        (date(2009, 9, 22), "国民の休日"),  # the first Silver Week
        (date(2015, 9, 22), "国民の休日"),
        (date(2012, 9, 22), "秋分の日"),
        (date(2024, 9, 22), "秋分の日"),
        (date(2024, 9, 23), "振替休日"),
        (date(2032, 9, 21), "国民の休日"),
    ],
)
def test_historic_and_edge_holidays(day: date, name: str) -> None:
    assert holiday_name(day) == name


@pytest.mark.parametrize(
    "day",
    [
        date(2019, 12, 23),  # no emperor's birthday in 2019
        date(2020, 10, 12),  # スポーツの日 moved to July
        date(2021, 8, 11),  # 山の日 moved to 8/8
        date(1986, 5, 4),  # a Sunday between holidays stayed a Sunday before 2007
        date(1997, 5, 4),
        date(1985, 5, 4),  # before 国民の休日 existed
        date(2015, 8, 11),  # before 山の日 existed
        date(2026, 11, 24),
    ],
)
def test_days_that_are_not_holidays(day: date) -> None:
    assert holiday_name(day) is None


def test_holidays_outside_the_supported_range_raise() -> None:
    with pytest.raises(ValueError, match="1980"):
        holidays(1979)
    with pytest.raises(ValueError, match="2099"):
        is_business_day(date(2100, 1, 4))


def test_business_days_exclude_weekends_holidays_and_the_year_end_closure() -> None:
    assert is_business_day(date(2026, 11, 24))  # Tuesday
    assert not is_business_day(date(2026, 11, 21))  # Saturday
    assert not is_business_day(date(2026, 11, 22))  # Sunday
    assert not is_business_day(date(2026, 11, 23))  # 勤労感謝の日
    assert not is_business_day(date(2026, 9, 22))  # 国民の休日
    for day in (date(2025, 12, 29), date(2025, 12, 31), date(2026, 1, 2), date(2026, 1, 3)):
        assert is_year_end_closure(day)
        assert not is_business_day(day)
        assert holiday_name(day) is None  # closed, but not a holiday by name
    assert is_business_day(date(2025, 12, 26))
    assert is_business_day(date(2026, 1, 5))  # 仕事始め


def test_adding_business_days() -> None:
    friday = date(2026, 11, 20)
    assert add_business_days(friday, 1) == date(2026, 11, 24)  # over the weekend and 11/23
    assert add_business_days(friday, 0) == friday
    assert add_business_days(date(2026, 11, 24), -1) == friday
    assert add_business_days(date(2026, 11, 21), 1) == date(2026, 11, 24)  # from a Saturday
    # Golden Week 2026: 4/29 and 5/3–5/6 closed
    assert add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 1)
    assert add_business_days(date(2026, 5, 1), 1) == date(2026, 5, 7)
    # the year-end closure: an application on 12/26 2025 is two business days old on 1/6
    assert add_business_days(date(2025, 12, 26), 2) == date(2026, 1, 6)
    assert add_business_days(date(2026, 9, 18), 1) == date(2026, 9, 24)  # Silver Week


def test_counting_business_days() -> None:
    # the reminder rule: an application is "older than 2 business days"
    submitted = date(2026, 11, 20)  # Friday
    assert business_days_between(submitted, date(2026, 11, 20)) == 0
    assert business_days_between(submitted, date(2026, 11, 23)) == 0  # weekend + holiday
    assert business_days_between(submitted, date(2026, 11, 24)) == 1
    assert business_days_between(submitted, date(2026, 11, 26)) == 3
    assert business_days_between(date(2025, 12, 26), date(2026, 1, 5)) == 1
    assert business_days_between(date(2026, 11, 24), submitted) == -1
    assert business_days_between(date(2026, 11, 22), submitted) == -1  # from a Sunday


# ±300 business days from these stays inside the calendar (1980–2099)
DATES = st.dates(min_value=date(1982, 1, 1), max_value=date(2097, 12, 31))
STEPS = st.integers(min_value=-300, max_value=300)


@given(DATES, STEPS.filter(lambda n: n != 0))
def test_adding_always_lands_on_a_business_day(day: date, n: int) -> None:
    assert is_business_day(add_business_days(day, n))


@given(DATES, STEPS, STEPS)
def test_adding_is_monotonic_in_n(day: date, m: int, n: int) -> None:
    if m < n:
        assert add_business_days(day, m) < add_business_days(day, n)


@given(DATES, DATES, st.integers(min_value=1, max_value=300))
def test_adding_is_monotonic_in_the_start(a: date, b: date, n: int) -> None:
    start, later = sorted((a, b))
    assert add_business_days(start, n) <= add_business_days(later, n)


@given(DATES, STEPS)
def test_counting_inverts_adding(day: date, n: int) -> None:
    assert business_days_between(day, add_business_days(day, n)) == n


@given(DATES, st.integers(min_value=0, max_value=400))
def test_adding_inverts_counting_onto_business_days(day: date, span: int) -> None:
    end = day + timedelta(days=span)
    if is_business_day(end) and end > day:
        assert add_business_days(day, business_days_between(day, end)) == end


@given(DATES, st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60))
def test_counting_is_additive(day: date, first: int, second: int) -> None:
    middle = day + timedelta(days=first)
    end = middle + timedelta(days=second)
    assert business_days_between(day, end) == (
        business_days_between(day, middle) + business_days_between(middle, end)
    )


@given(st.integers(min_value=1980, max_value=2099))
def test_every_year_is_well_formed(year: int) -> None:
    days = holidays(year)
    assert all(day.year == year for day in days)
    assert 12 <= len(days) <= 24
    # 春分 20 or 21 March, 秋分 22 or 23 September (1980–2099)
    assert {d.day for d, name in days.items() if name == "春分の日"} <= {19, 20, 21}
    assert {d.day for d, name in days.items() if name == "秋分の日"} <= {22, 23, 24}
    # a substitute holiday always follows a Sunday holiday, possibly across others
    for day, name in days.items():
        if name == "振替休日":
            before = day - timedelta(days=1)
            while before in days and before.weekday() != 6:
                before -= timedelta(days=1)
            assert before.weekday() == 6 and before in days
