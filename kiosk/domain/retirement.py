"""Statutory retirement age (法定退休年龄) and the resident pension's claim age, in one place.

Employees (``Scheme.EMPLOYEE``: 职工 — working age for items 10, 11 and 23) follow the decision
of the NPC Standing Committee 《全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定》
(2024-09-13, in force 2025-01-01) and the 《国务院关于渐进式延迟法定退休年龄的办法》 it
adopted, with its 对照表:

- men (原法定退休年龄 60): born 1965-01 or later, one month later for every 4 months of birth,
  at most 36 months: 60 years 1 month for births 1965-01…04, 63 for births from 1976-09;
- women whose original age was 55 (``JobCategory.CADRE``, 女干部 / 管理技术岗位): the same pace
  from births of 1970-01, at most 36 months: 58 from births of 1981-09;
- women whose original age was 50 (``JobCategory.WORKER``, 女工人): one month for every 2
  months of birth from 1975-01, at most 60 months: 55 from births of 1984-11;
- anyone born earlier keeps the original age.

(Checked against the published 对照表's rows, e.g. a man born 1965-01 retires 2025-02 at 60 years
1 month, born 1965-12 at 60 years 3 months; a 原55 woman born 1971-04 at 55 years 4 months.)
The reform's flexible early or late retirement (弹性退休) is a choice of the person, not a
different statutory age, and is not modelled.

The resident basic pension (``Scheme.RESIDENT``, item 34 城乡居民基本养老保险待遇申领) is NOT
changed by the reform: its claim age is 60 for everyone (附件2 item 34, and 《国务院关于建立统一的
城乡居民基本养老保险制度的意见》 国发〔2014〕8号). The interface says so instead of pretending:
``retirement_age(..., scheme=Scheme.RESIDENT)`` is 60 years, ``reform_applies`` False.

Pure; thread-safe.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class JobCategory(enum.StrEnum):
    """Which original statutory age applies to a woman employee (men: irrelevant)."""

    WORKER = "worker"  # 原法定退休年龄五十周岁的女职工 (女工人)
    CADRE = "cadre"  # 原法定退休年龄五十五周岁的女职工 (女干部、管理技术岗位)
    UNKNOWN = ""  # not on record: a woman's age is then one of two (see has_reached)


class Scheme(enum.StrEnum):
    EMPLOYEE = "employee"  # 职工: the statutory retirement age, reformed from 2025
    RESIDENT = "resident"  # 城乡居民基本养老保险: claim age 60, not reformed


@dataclass(frozen=True)
class _Schedule:
    original_years: int
    first_birth: tuple[int, int]  # (year, month) of the first birth month delayed
    months_per_step: int  # birth months per month of delay
    max_delay: int  # months


_SCHEDULES = {
    (Sex.MALE, None): _Schedule(60, (1965, 1), 4, 36),
    (Sex.FEMALE, JobCategory.CADRE): _Schedule(55, (1970, 1), 4, 36),
    (Sex.FEMALE, JobCategory.WORKER): _Schedule(50, (1975, 1), 2, 60),
}
RESIDENT_PENSION_AGE = 60
DECISION = "《全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定》（2024年9月13日）"
RESIDENT_BASIS = "《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）"


@dataclass(frozen=True)
class RetirementAge:
    """An age of ``years`` and ``months``, reached on ``date``; ``reform_applies`` False for
    the resident pension (and for employees born before the reform's first birth month)."""

    years: int
    months: int
    date: dt.date
    reform_applies: bool
    basis: str

    @property
    def label(self) -> str:
        """ "63周岁" / "60周岁3个月"."""
        return f"{self.years}周岁" + (f"{self.months}个月" if self.months else "")

    def reached(self, today: dt.date) -> bool:
        """Whether the age is reached on *today* (on the day itself: reached)."""
        return today >= self.date


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* plus *months* calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def retirement_age(
    sex: Sex | str | None,
    job: JobCategory | str | None,
    birth_date: dt.date,
    scheme: Scheme = Scheme.EMPLOYEE,
) -> RetirementAge:
    """The statutory retirement age of an employee, or the resident pension's claim age
    (``Scheme.RESIDENT``: 60 for everyone, *sex* and *job* are not looked at).

    Raises ValueError for an employee of unknown *sex*, or a woman employee whose *job* is
    ``UNKNOWN`` (two ages are possible: use :func:`has_reached`, which says so).
    """
    if scheme is Scheme.RESIDENT:
        date = add_months(birth_date, RESIDENT_PENSION_AGE * 12)
        return RetirementAge(RESIDENT_PENSION_AGE, 0, date, False, RESIDENT_BASIS)
    sex = Sex(sex)
    category = None if sex is Sex.MALE else JobCategory(job or "")
    if category is JobCategory.UNKNOWN:
        raise ValueError("a woman's statutory retirement age depends on her job category")
    schedule = _SCHEDULES[(sex, category)]
    first_year, first_month = schedule.first_birth
    since = (birth_date.year - first_year) * 12 + birth_date.month - first_month
    delay = 0 if since < 0 else min(schedule.max_delay, since // schedule.months_per_step + 1)
    total = schedule.original_years * 12 + delay
    return RetirementAge(
        total // 12, total % 12, add_months(birth_date, total), delay > 0, DECISION
    )


def _two_ages(sex: Sex | str, job: JobCategory | str, scheme: Scheme) -> bool:
    """A woman employee whose job category is not on record has one of two ages."""
    return (
        scheme is Scheme.EMPLOYEE
        and Sex(sex) is Sex.FEMALE
        and JobCategory(job) is JobCategory.UNKNOWN
    )


def has_reached(
    sex: Sex | str,
    job: JobCategory | str,
    birth_date: dt.date,
    today: dt.date,
    scheme: Scheme = Scheme.EMPLOYEE,
) -> bool | None:
    """Whether the person has reached the age on *today*; None when it cannot be told: a woman
    employee of unknown job category between the two ages she might have."""
    if _two_ages(sex, job, scheme):
        early = retirement_age(sex, JobCategory.WORKER, birth_date, scheme)
        late = retirement_age(sex, JobCategory.CADRE, birth_date, scheme)
        if late.reached(today):
            return True
        return False if not early.reached(today) else None
    return retirement_age(sex, job, birth_date, scheme).reached(today)


def describe(
    sex: Sex | str, job: JobCategory | str, birth_date: dt.date, scheme: Scheme = Scheme.EMPLOYEE
) -> str:
    """One Chinese phrase naming the age that applies ("法定退休年龄60周岁3个月，2026年3月达到";
    both for a woman of unknown category)."""
    if _two_ages(sex, job, scheme):
        worker = retirement_age(sex, JobCategory.WORKER, birth_date)
        cadre = retirement_age(sex, JobCategory.CADRE, birth_date)
        return f"法定退休年龄：女工人{worker.label}，女干部{cadre.label}"
    age = retirement_age(sex, job, birth_date, scheme)
    name = "领取年龄" if scheme is Scheme.RESIDENT else "法定退休年龄"
    return f"{name}{age.label}，{age.date.year}年{age.date.month}月达到"
