"""Business rules of the seed (附件2 服务内容) as checkable conditions, pure over a snapshot.

Each rule returns the list of :class:`Condition` with met/missing, so the kiosk can show them
before the form (eligibility endpoint) and the server can refuse a submission that misses one.
Conditions beyond the seed's own words, and where they come from, are listed in
:mod:`kiosk.domain.local_rules`; ages come from :mod:`kiosk.domain.retirement`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.domain import retirement
from kiosk.domain.identity import age_on


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know about a person (no names or numbers)."""

    birth_date: dt.date
    sex: str  # male / female
    job_category: str  # worker / cadre / "" (which statutory retirement age a woman has)
    is_student: bool
    employment_status: str
    enterprise_pension_status: str  # none / active / suspended / receiving
    receiving_enterprise_pension: bool
    resident_basic_enrolled: bool
    resident_supplementary_enrolled: bool
    receiving_resident_basic: bool
    receiving_resident_supplementary: bool
    resident_contribution_years: int
    ui_insured_months: int
    separation_reason: str  # involuntary / voluntary / ""
    registered_unemployed: bool
    seeking_work: bool
    receiving_ui_benefit: bool


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    met: bool
    detail: str = ""


def _age(facts: PersonFacts, today: dt.date) -> int:
    return age_on(facts.birth_date, today)


def resident_basic_enrolment(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 28: age ≥ 16, not a student, in no basic pension scheme yet."""
    age = _age(f, today)
    return [
        Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁"),
        Condition("not_student", "不是在校学生", not f.is_student),
        Condition(
            "not_resident_enrolled", "未参加城乡居民基本养老保险", not f.resident_basic_enrolled
        ),
        Condition(
            "no_other_basic", "未参加其他基本养老保险", f.enterprise_pension_status == "none"
        ),
    ]


def resident_supplementary_enrolment(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 29: enrolled in resident basic pension and under 65."""
    age = _age(f, today)
    return [
        Condition("resident_enrolled", "已参加城乡居民基本养老保险", f.resident_basic_enrolled),
        Condition("under_65", "未满65周岁", age < 65, f"现年{age}岁"),
        Condition(
            "not_supplementary", "未参加城乡居民补充养老保险", not f.resident_supplementary_enrolled
        ),
    ]


def resident_basic_claim(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 34: enrolled, age ≥ 60 (the resident pension's age, not changed by the 2025
    retirement reform), ≥ 15 contribution years, no other basic pension."""
    age = _age(f, today)
    years = f.resident_contribution_years
    claim = retirement.retirement_age(None, None, f.birth_date, retirement.Scheme.RESIDENT)
    return [
        Condition("resident_enrolled", "已参加城乡居民基本养老保险", f.resident_basic_enrolled),
        Condition("age_60", f"年满{claim.years}周岁", claim.reached(today), f"现年{age}岁"),
        Condition("years_15", "累计缴费满15年", years >= 15, f"已缴费{years}年"),
        Condition(
            "no_other_pension", "未领取其他基本养老保险待遇", not f.receiving_enterprise_pension
        ),
        Condition(
            "not_receiving", "尚未领取城乡居民基本养老保险待遇", not f.receiving_resident_basic
        ),
    ]


def resident_supplementary_claim(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 35: supplementary enrolled, age ≥ 65, already receiving the basic pension."""
    age = _age(f, today)
    return [
        Condition(
            "supplementary_enrolled",
            "已参加城乡居民补充养老保险",
            f.resident_supplementary_enrolled,
        ),
        Condition("age_65", "年满65周岁", age >= 65, f"现年{age}岁"),
        Condition("receiving_basic", "已享受城乡居民基本养老保险待遇", f.receiving_resident_basic),
        Condition(
            "not_receiving", "尚未领取补充养老保险待遇", not f.receiving_resident_supplementary
        ),
    ]


def unemployment_benefit(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 23: insured ≥ 1 year, involuntary loss of job, registered unemployed, seeking work."""
    return [
        Condition(
            "insured_1y",
            "参加失业保险并缴费满一年",
            f.ui_insured_months >= 12,
            f"已缴费{f.ui_insured_months}个月",
        ),
        Condition("involuntary", "非因本人意愿中断就业", f.separation_reason == "involuntary"),
        Condition("registered", "已办理失业登记", f.registered_unemployed),
        Condition("seeking", "有求职要求", f.seeking_work),
        Condition("not_receiving", "未在领取失业保险金", not f.receiving_ui_benefit),
        under_retirement_age(f, today),
    ]


def skill_subsidy(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Item 22: an insured employee of an enterprise (in work and in unemployment insurance,
    the proxy of kiosk.domain.local_rules), or receiving unemployment benefit."""
    employed_insured = f.employment_status == "employed" and f.ui_insured_months > 0
    insured = employed_insured or f.receiving_ui_benefit
    return [
        Condition("insured_or_ui", "企业在职参保职工或领取失业保险金期间的失业人员", insured),
    ]


def under_retirement_age(f: PersonFacts, today: dt.date) -> Condition:
    """Below the statutory retirement age (kiosk.domain.retirement). A woman whose job category
    is not on record, between her two possible ages, is let through with the reason said: the
    county checks her category when it reviews the application."""
    reached = retirement.has_reached(f.sex, f.job_category, f.birth_date, today)
    detail = f"现年{_age(f, today)}岁，" + retirement.describe(f.sex, f.job_category, f.birth_date)
    if reached is None:
        detail += "（岗位类别未登记，以经办机构核定为准）"
    return Condition("under_retirement_age", "未达到法定退休年龄", reached is not True, detail)


def working_age(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Items 10/11: of working age (16 to the statutory retirement age)."""
    age = _age(f, today)
    return [
        Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁"),
        under_retirement_age(f, today),
    ]


def job_seeking(f: PersonFacts, today: dt.date) -> list[Condition]:
    """Items 1/4/7: able to work (age ≥ 16)."""
    age = _age(f, today)
    return [Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁")]


RULES: dict[int, Callable[[PersonFacts, dt.date], list[Condition]]] = {
    1: job_seeking,
    4: job_seeking,
    7: job_seeking,
    10: working_age,
    11: working_age,
    22: skill_subsidy,
    23: unemployment_benefit,
    28: resident_basic_enrolment,
    29: resident_supplementary_enrolment,
    34: resident_basic_claim,
    35: resident_supplementary_claim,
}


def check(item_no: int, facts: PersonFacts, today: dt.date) -> list[Condition]:
    """The conditions of item *item_no* ([] when the seed sets none beyond identity)."""
    rule = RULES.get(item_no)
    return rule(facts, today) if rule else []


def missing_message(conditions: list[Condition]) -> str:
    """One Chinese sentence naming what is missing."""
    missing = [c.label for c in conditions if not c.met]
    return "不符合办理条件：" + "；".join(missing) if missing else ""
