"""開庁日: the days government offices are open.

Closed: Saturdays, Sundays, national holidays (国民の祝日に関する法律) and the year-end
closure 12/29–1/3 (行政機関の休日に関する法律). Holidays are computed by rule from the law:
fixed dates, Happy Monday holidays, the equinoxes by the astronomical approximation that
holds for 1980–2099, 振替休日 and 国民の休日. What the rules cannot know lives in the small
tables below (`_ONE_OFF_HOLIDAYS`, `_MOVED_HOLIDAYS`, `_EMPEROR_BIRTHDAYS`).

Maintenance: the Cabinet Office (内閣府) publishes next year's holidays every February, when
the National Astronomical Observatory announces the equinox dates in the official gazette
(官報, 暦要項). Compare `holidays(year + 1)` with that list, and record any law that adds or
moves a holiday in the tables below; a test pins the published lists.
https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

FIRST_YEAR = 1980  # the equinox approximation is valid 1980–2099
LAST_YEAR = 2099

SUBSTITUTE_HOLIDAY = "振替休日"
CITIZENS_HOLIDAY = "国民の休日"

# Holidays for a single event, by special law.
_ONE_OFF_HOLIDAYS: dict[date, str] = {
    date(1989, 2, 24): "昭和天皇の大喪の礼",
    date(1990, 11, 12): "即位礼正殿の儀",
    date(1993, 6, 9): "皇太子徳仁親王の結婚の儀",
    date(2019, 5, 1): "天皇の即位の日",
    date(2019, 10, 22): "即位礼正殿の儀の行われる日",
}

# Holidays moved for one year by special law (the Tokyo Olympics, 2020 and 2021).
_MOVED_HOLIDAYS: dict[tuple[int, str], date] = {
    (2020, "海の日"): date(2020, 7, 23),
    (2020, "スポーツの日"): date(2020, 7, 24),
    (2020, "山の日"): date(2020, 8, 10),
    (2021, "海の日"): date(2021, 7, 22),
    (2021, "スポーツの日"): date(2021, 7, 23),
    (2021, "山の日"): date(2021, 8, 8),
}

# 天皇誕生日 follows the reigning emperor: (first year, last year, month, day).
# 2019 had none (the abdication came after 12/23 2018, the accession before 2/23 2020).
_EMPEROR_BIRTHDAYS: tuple[tuple[int, int, int, int], ...] = (
    (1949, 1988, 4, 29),
    (1989, 2018, 12, 23),
    (2020, LAST_YEAR, 2, 23),
)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the holiday calendar covers {FIRST_YEAR}–{LAST_YEAR}, not {year}")


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _equinox_day(year: int, base: float) -> int:
    """Day of the equinox in JST; the standard approximation for 1980–2099."""
    offset = year - 1980
    return int(base + 0.242194 * offset - offset // 4)


def _named_holidays(year: int) -> dict[date, str]:
    """国民の祝日 proper (Article 2 of the law), before substitutes and in-between days."""
    rules: list[tuple[str, date | None]] = [
        ("元日", date(year, 1, 1)),
        ("成人の日", date(year, 1, 15) if year < 2000 else _nth_monday(year, 1, 2)),
        ("建国記念の日", date(year, 2, 11)),
        ("春分の日", date(year, 3, _equinox_day(year, 20.8431))),
        ("昭和の日" if year >= 2007 else "みどりの日", date(year, 4, 29) if year >= 1989 else None),
        ("憲法記念日", date(year, 5, 3)),
        ("みどりの日", date(year, 5, 4) if year >= 2007 else None),
        ("こどもの日", date(year, 5, 5)),
        (
            "海の日",
            None if year < 1996 else date(year, 7, 20) if year < 2003 else _nth_monday(year, 7, 3),
        ),
        ("山の日", date(year, 8, 11) if year >= 2016 else None),
        ("敬老の日", date(year, 9, 15) if year < 2003 else _nth_monday(year, 9, 3)),
        ("秋分の日", date(year, 9, _equinox_day(year, 23.2488))),
        (
            "スポーツの日" if year >= 2020 else "体育の日",
            date(year, 10, 10) if year < 2000 else _nth_monday(year, 10, 2),
        ),
        ("文化の日", date(year, 11, 3)),
        ("勤労感謝の日", date(year, 11, 23)),
    ]
    for first, last, month, day_of_month in _EMPEROR_BIRTHDAYS:
        if first <= year <= last:
            rules.append(("天皇誕生日", date(year, month, day_of_month)))
    named: dict[date, str] = {}
    for name, by_rule in rules:
        actual = _MOVED_HOLIDAYS.get((year, name), by_rule)
        if actual is not None:
            named[actual] = name
    named.update({d: n for d, n in _ONE_OFF_HOLIDAYS.items() if d.year == year})
    return named


@cache
def holidays(year: int) -> dict[date, str]:
    """Every national holiday of `year`, by date, with its Japanese name."""
    _check_year(year)
    named = _named_holidays(year)
    # neighbouring years' holidays, so the rules below also hold across 12/31
    around = dict(named)
    if year > FIRST_YEAR:
        around.update(_named_holidays(year - 1))
    if year < LAST_YEAR:
        around.update(_named_holidays(year + 1))
    result = dict(named)
    # 振替休日 (since 1973-04-12): a holiday on a Sunday gives its rest to the next day that
    # is no named holiday (before 2007: to the Monday)
    for day in sorted(named):
        if day.weekday() != 6:
            continue
        substitute = day + timedelta(days=1)
        while year >= 2007 and substitute in around:
            substitute += timedelta(days=1)
        if substitute.year == year and substitute not in result:
            result[substitute] = SUBSTITUTE_HOLIDAY
    # 国民の休日 (since 1985-12-27): a day between two named holidays; before 2007 a Sunday
    # stayed a Sunday
    if year >= 1986:
        for day in sorted(named):
            between = day + timedelta(days=1)
            if (
                day + timedelta(days=2) in around
                and between not in result
                and between.year == year
                and (year >= 2007 or between.weekday() != 6)
            ):
                result[between] = CITIZENS_HOLIDAY
    return dict(sorted(result.items()))


def holiday_name(d: date) -> str | None:
    """The Japanese name of the national holiday on `d`, or None (weekends and the
    year-end closure are not holidays by name)."""
    return holidays(d.year).get(d)


def is_year_end_closure(d: date) -> bool:
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def is_business_day(d: date) -> bool:
    """開庁日: not a weekend, not a national holiday, not in 12/29–1/3."""
    return d.weekday() < 5 and not is_year_end_closure(d) and holiday_name(d) is None


def add_business_days(d: date, n: int) -> date:
    """The n-th business day after `d` (before it when n < 0); `d` itself when n == 0.

    `d` need not be a business day: one business day after a Saturday is the Monday.
    """
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end`: how old, in 開庁日, something
    dated `start` is on `end`. Negative when `end` is earlier (counting `end` up to, not
    including, `start`), so `business_days_between(d, add_business_days(d, n)) == n`."""
    if end < start:
        return -_count(end - timedelta(days=1), start - timedelta(days=1))
    return _count(start, end)


def _count(start: date, end: date) -> int:
    """Business days in (start, end]."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_business_day(day):
            count += 1
        day += timedelta(days=1)
    return count
