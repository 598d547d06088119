"""The statutory retirement age (kiosk.domain.retirement) against the published 对照表 of the
2024 gradual-retirement decision, month by month at its boundaries, and the resident pension's
claim age that the reform leaves at 60."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.retirement import (
    JobCategory,
    Scheme,
    Sex,
    add_months,
    describe,
    has_reached,
    retirement_age,
)

MAN = (Sex.MALE, JobCategory.UNKNOWN)
CADRE = (Sex.FEMALE, JobCategory.CADRE)  # 原法定退休年龄55周岁
WORKER = (Sex.FEMALE, JobCategory.WORKER)  # 原法定退休年龄50周岁


def _born(year: int, month: int) -> dt.date:
    return dt.date(year, month, 15)


# (who, birth month, age years, age months, retirement month) — rows of the 对照表
TABLE = [
    (MAN, (1963, 12), 60, 0, (2023, 12)),
    (MAN, (1964, 12), 60, 0, (2024, 12)),  # the last month before the reform
    (MAN, (1965, 1), 60, 1, (2025, 2)),  # the first: 60岁1个月, 2025年2月
    (MAN, (1965, 4), 60, 1, (2025, 5)),
    (MAN, (1965, 5), 60, 2, (2025, 7)),
    (MAN, (1965, 12), 60, 3, (2026, 3)),
    (MAN, (1976, 8), 62, 11, (2039, 7)),
    (MAN, (1976, 9), 63, 0, (2039, 9)),  # the first 63
    (MAN, (1995, 12), 63, 0, (2058, 12)),
    (CADRE, (1963, 4), 55, 0, (2018, 4)),
    (CADRE, (1969, 12), 55, 0, (2024, 12)),
    (CADRE, (1970, 1), 55, 1, (2025, 2)),
    (CADRE, (1971, 4), 55, 4, (2026, 8)),
    (CADRE, (1981, 8), 57, 11, (2039, 7)),
    (CADRE, (1981, 9), 58, 0, (2039, 9)),  # the first 58
    (CADRE, (2000, 12), 58, 0, (2058, 12)),
    (WORKER, (1974, 12), 50, 0, (2024, 12)),
    (WORKER, (1975, 1), 50, 1, (2025, 2)),
    (WORKER, (1975, 2), 50, 1, (2025, 3)),
    (WORKER, (1975, 3), 50, 2, (2025, 5)),
    (WORKER, (1984, 10), 54, 11, (2039, 9)),
    (WORKER, (1984, 11), 55, 0, (2039, 11)),  # the first 55
    (WORKER, (1995, 12), 55, 0, (2050, 12)),
]


@pytest.mark.parametrize("who, birth, years, months, retires", TABLE)
def test_the_published_table(who, birth, years, months, retires):
    age = retirement_age(*who, _born(*birth))
    assert (age.years, age.months) == (years, months)
    assert (age.date.year, age.date.month) == retires
    assert age.reform_applies is (birth >= {MAN: (1965, 1), CADRE: (1970, 1)}.get(who, (1975, 1)))


@pytest.mark.parametrize(
    "who, first, step, cap",
    [(MAN, (1965, 1), 4, 36), (CADRE, (1970, 1), 4, 36), (WORKER, (1975, 1), 2, 60)],
)
def test_month_by_month_one_month_later_every_step_up_to_the_cap(who, first, step, cap):
    """Every birth month from two years before the reform's first to two years after its
    last: the delay grows by exactly one month at each step boundary and never otherwise."""
    original = retirement_age(*who, _born(first[0] - 1, 12)).years * 12
    start = first[0] * 12 + first[1] - 1
    previous = 0
    for index in range(start - 24, start + step * cap + 24):
        year, month0 = divmod(index, 12)
        age = retirement_age(*who, _born(year, month0 + 1))
        delay = age.years * 12 + age.months - original
        since = index - start
        expected = 0 if since < 0 else min(cap, since // step + 1)
        assert delay == expected, (year, month0 + 1)
        assert delay - previous in (0, 1)
        previous = delay
    assert previous == cap


def test_reached_on_the_day_itself_and_not_the_day_before():
    age = retirement_age(*MAN, dt.date(1965, 1, 31))  # 60 years 1 month: 2025-02-28
    assert age.date == dt.date(2025, 2, 28)
    assert not age.reached(dt.date(2025, 2, 27)) and age.reached(dt.date(2025, 2, 28))
    assert add_months(dt.date(1964, 1, 31), 1) == dt.date(1964, 2, 29)


@given(st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2010, 12, 31)))
def test_the_resident_pension_age_is_sixty_for_everyone_reform_or_not(birth):
    """Item 34 (城乡居民基本养老保险): the 2024 decision changes the age of 职工 only."""
    for sex in (Sex.MALE, Sex.FEMALE, None):
        age = retirement_age(sex, JobCategory.UNKNOWN, birth, Scheme.RESIDENT)
        assert (age.years, age.months, age.reform_applies) == (60, 0, False)
        assert age.date == add_months(birth, 720)


def test_a_woman_of_unknown_category_is_undecided_only_between_her_two_ages():
    birth = dt.date(1976, 6, 15)  # worker: 50y9m → 2027-03; cadre: 55y… → later
    worker = retirement_age(*WORKER, birth)
    cadre = retirement_age(*CADRE, birth)
    assert worker.date < cadre.date
    day_before = worker.date - dt.timedelta(days=1)
    assert has_reached(Sex.FEMALE, JobCategory.UNKNOWN, birth, day_before) is False
    assert has_reached(Sex.FEMALE, JobCategory.UNKNOWN, birth, worker.date) is None
    assert has_reached(Sex.FEMALE, JobCategory.UNKNOWN, birth, cadre.date) is True
    assert describe(Sex.FEMALE, "", birth) == (
        f"法定退休年龄：女工人{worker.label}，女干部{cadre.label}"
    )
    with pytest.raises(ValueError):
        retirement_age(Sex.FEMALE, JobCategory.UNKNOWN, birth)


def test_describe_names_the_age_and_the_month():
    assert describe("male", "", dt.date(1965, 12, 15)) == "法定退休年龄60周岁3个月，2026年3月达到"
    resident = describe(None, None, dt.date(1966, 5, 1), Scheme.RESIDENT)
    assert resident == "领取年龄60周岁，2026年5月达到"
