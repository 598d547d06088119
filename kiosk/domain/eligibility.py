"""Eligibility before effort: which conditions of an item a person meets, and which are missing.

The platform is the authority: it answers ``POST /eligibility`` from its own records, and the
kiosk shows that answer (:func:`from_server`). Conditions beyond the seed's own words, and
where they come from, are listed in :mod:`kiosk.domain.local_rules`; the statutory retirement
age is :func:`kiosk.domain.retirement.retirement_age`. The pure rules here exist for two
reasons the server cannot serve: **offline** the kiosk still tells what it can from the card alone (age)
and marks the rest "联网后核验" instead of showing nothing; and conditions that are only
known once the form is filled (a certificate's issue date) are **explained** up front. The
condition keys and labels match the reference platform's rules (kiosk_backend/rules.py), so
the two answers merge by key (:func:`merge`) without saying the same thing twice.

Each condition is tri-state: ``met`` True / False / None (unknown: not decidable from what the
kiosk knows). An item is eligible only when every condition is met; when any is unknown and
none failed, ``eligible`` is None. Pure; thread-safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.domain import retirement

UNKNOWN_DETAIL = "联网后核验"
FORM_DETAIL = "填写申请时核验"


@dataclass(frozen=True)
class Facts:
    """What the rules may know of a person; None = unknown (no records at hand)."""

    birth_date: dt.date
    sex: str | None = None  # male / female (男 / 女 accepted)
    job_category: str | None = None  # worker / cadre / "" (a woman's original retirement age)
    employment_status: str | None = None  # employed / unemployed / flexible / retired …
    is_student: bool | None = None
    enterprise_pension_status: str | None = None  # none / active / suspended / receiving
    receiving_enterprise_pension: bool | None = None
    resident_basic_enrolled: bool | None = None
    resident_supplementary_enrolled: bool | None = None
    receiving_resident_basic: bool | None = None
    receiving_resident_supplementary: bool | None = None
    resident_contribution_years: int | None = None
    ui_insured_months: int | None = None
    separation_reason: str | None = None  # involuntary / voluntary / ""
    registered_unemployed: bool | None = None
    seeking_work: bool | None = None
    receiving_ui_benefit: bool | None = None


@dataclass(frozen=True)
class Condition:
    """One condition: ``met`` True/False/None (unknown); ``detail`` says what was found."""

    key: str
    label: str
    met: bool | None
    detail: str = ""

    @property
    def status_text(self) -> str:
        """符合 / 不符合 / 待核验 for the screen."""
        return "符合" if self.met else "不符合" if self.met is False else "待核验"


@dataclass(frozen=True)
class Assessment:
    """The conditions of one item for one person, and the verdict.

    ``source`` is ``"platform"`` (the server's answer), ``"kiosk"`` (local rules: offline) or
    ``"merged"``. ``message`` is one Chinese sentence for the screen.
    """

    item_no: int
    conditions: tuple[Condition, ...]
    source: str = "kiosk"

    @property
    def eligible(self) -> bool | None:
        if any(c.met is False for c in self.conditions):
            return False
        if any(c.met is None for c in self.conditions):
            return None
        return True

    @property
    def missing(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.met is False)

    @property
    def unknown(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.met is None)

    @property
    def message(self) -> str:
        if self.missing:
            return "不符合办理条件：" + "；".join(c.label for c in self.missing)
        if self.unknown:
            return "以下条件需核验：" + "；".join(c.label for c in self.unknown)
        return "符合办理条件"


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on *day*."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _flag(value: bool | None, *, invert: bool = False) -> bool | None:
    if value is None:
        return None
    return (not value) if invert else value


def _known(condition: Condition) -> Condition:
    if condition.met is None and not condition.detail:
        return Condition(condition.key, condition.label, None, UNKNOWN_DETAIL)
    return condition


def job_seeking(f: Facts, today: dt.date) -> list[Condition]:
    """Items 1, 4, 7: able to work (age ≥ 16)."""
    age = age_on(f.birth_date, today)
    return [Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁")]


SEXES = {"男": "male", "女": "female", "male": "male", "female": "female"}


def under_retirement_age(f: Facts, today: dt.date) -> Condition:
    """Not yet at the statutory retirement age (items 10, 11, 23; see kiosk.domain.retirement):
    unknown without the sex, or for a woman of unknown job category between her two ages."""
    label = "未达到法定退休年龄"
    sex = SEXES.get(f.sex or "")
    if sex is None:
        return Condition("under_retirement_age", label, None)
    job = f.job_category or ""
    reached = retirement.has_reached(sex, job, f.birth_date, today)
    detail = f"现年{age_on(f.birth_date, today)}岁，" + retirement.describe(sex, job, f.birth_date)
    return Condition(
        "under_retirement_age", label, None if reached is None else not reached, detail
    )


def working_age(f: Facts, today: dt.date) -> list[Condition]:
    """Items 10, 11: of working age (16 to the statutory retirement age)."""
    age = age_on(f.birth_date, today)
    return [
        Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁"),
        under_retirement_age(f, today),
    ]


def skill_subsidy(f: Facts, today: dt.date) -> list[Condition]:
    """Item 22: an insured employee or drawing unemployment benefit (decided by the proxy of
    kiosk.domain.local_rules); certificate within 12 months (checked on the form, where its
    issue date is entered)."""
    employed_insured = (
        None
        if f.employment_status is None or f.ui_insured_months is None
        else f.employment_status == "employed" and f.ui_insured_months > 0
    )
    if employed_insured or f.receiving_ui_benefit:
        insured: bool | None = True
    elif employed_insured is None or f.receiving_ui_benefit is None:
        insured = None
    else:
        insured = False
    return [
        Condition("insured_or_ui", "企业在职参保职工或领取失业保险金期间的失业人员", insured),
        Condition(
            "certificate_12m",
            "取得职业资格证书或职业技能等级证书，且在发证之日起12个月内申领",
            None,
            FORM_DETAIL,
        ),
    ]


def unemployment_benefit(f: Facts, today: dt.date) -> list[Condition]:
    """Item 23: insured ≥ 1 year, involuntary loss, registered unemployed, seeking work; of
    working age (a registered unemployed person is, see kiosk.domain.local_rules)."""
    months = f.ui_insured_months
    return [
        Condition(
            "insured_1y",
            "参加失业保险并缴费满一年",
            None if months is None else months >= 12,
            "" if months is None else f"已缴费{months}个月",
        ),
        Condition(
            "involuntary",
            "非因本人意愿中断就业",
            None if f.separation_reason is None else f.separation_reason == "involuntary",
        ),
        Condition("registered", "已办理失业登记", f.registered_unemployed),
        Condition("seeking", "有求职要求", f.seeking_work),
        Condition(
            "not_receiving", "未在领取失业保险金", _flag(f.receiving_ui_benefit, invert=True)
        ),
        under_retirement_age(f, today),
    ]


def resident_basic_enrolment(f: Facts, today: dt.date) -> list[Condition]:
    """Item 28: age ≥ 16, not a student, in no basic pension scheme yet."""
    age = age_on(f.birth_date, today)
    other = f.enterprise_pension_status
    return [
        Condition("age_16", "年满16周岁", age >= 16, f"现年{age}岁"),
        Condition("not_student", "不是在校学生", _flag(f.is_student, invert=True)),
        Condition(
            "not_resident_enrolled",
            "未参加城乡居民基本养老保险",
            _flag(f.resident_basic_enrolled, invert=True),
        ),
        Condition(
            "no_other_basic", "未参加其他基本养老保险", None if other is None else other == "none"
        ),
    ]


def resident_supplementary_enrolment(f: Facts, today: dt.date) -> list[Condition]:
    """Item 29: enrolled in the resident basic pension and under 65."""
    age = age_on(f.birth_date, today)
    return [
        Condition("resident_enrolled", "已参加城乡居民基本养老保险", f.resident_basic_enrolled),
        Condition("under_65", "未满65周岁", age < 65, f"现年{age}岁"),
        Condition(
            "not_supplementary",
            "未参加城乡居民补充养老保险",
            _flag(f.resident_supplementary_enrolled, invert=True),
        ),
    ]


def resident_basic_claim(f: Facts, today: dt.date) -> list[Condition]:
    """Item 34: enrolled, age ≥ 60 (the resident pension's age, which the 2025 retirement reform
    does not change: retirement.Scheme.RESIDENT), ≥ 15 contribution years, no other basic
    pension."""
    age = age_on(f.birth_date, today)
    years = f.resident_contribution_years
    claim = retirement.retirement_age(None, None, f.birth_date, retirement.Scheme.RESIDENT)
    return [
        Condition("resident_enrolled", "已参加城乡居民基本养老保险", f.resident_basic_enrolled),
        Condition("age_60", f"年满{claim.years}周岁", claim.reached(today), f"现年{age}岁"),
        Condition(
            "years_15",
            "累计缴费满15年",
            None if years is None else years >= 15,
            "" if years is None else f"已缴费{years}年",
        ),
        Condition(
            "no_other_pension",
            "未领取其他基本养老保险待遇",
            _flag(f.receiving_enterprise_pension, invert=True),
        ),
        Condition(
            "not_receiving",
            "尚未领取城乡居民基本养老保险待遇",
            _flag(f.receiving_resident_basic, invert=True),
        ),
    ]


def resident_supplementary_claim(f: Facts, today: dt.date) -> list[Condition]:
    """Item 35: supplementary enrolled, age ≥ 65, already receiving the basic pension."""
    age = age_on(f.birth_date, today)
    return [
        Condition(
            "supplementary_enrolled",
            "已参加城乡居民补充养老保险",
            f.resident_supplementary_enrolled,
        ),
        Condition("age_65", "年满65周岁", age >= 65, f"现年{age}岁"),
        Condition("receiving_basic", "已享受城乡居民基本养老保险待遇", f.receiving_resident_basic),
        Condition(
            "not_receiving",
            "尚未领取补充养老保险待遇",
            _flag(f.receiving_resident_supplementary, invert=True),
        ),
    ]


RULES: dict[int, Callable[[Facts, dt.date], list[Condition]]] = {
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


def has_conditions(item_no: int) -> bool:
    """True when the item has conditions beyond identity."""
    return item_no in RULES


def assess(item_no: int, facts: Facts, today: dt.date) -> Assessment:
    """The kiosk's own assessment (unknowns marked 联网后核验); no conditions → eligible."""
    rule = RULES.get(item_no)
    conditions = tuple(_known(c) for c in (rule(facts, today) if rule else []))
    return Assessment(item_no, conditions, "kiosk")


def from_server(answer: Mapping[str, Any]) -> Assessment:
    """Parse the platform's ``POST /eligibility`` answer; ValueError if it is malformed."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("conditions"), list):
        raise ValueError("eligibility answer without conditions")
    conditions = []
    for raw in answer["conditions"]:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("met"), bool):
            raise ValueError("eligibility condition without met")
        conditions.append(
            Condition(
                str(raw.get("key", "")),
                str(raw.get("label", "")),
                raw["met"],
                str(raw.get("detail") or ""),
            )
        )
    item_no = answer.get("item_no")
    return Assessment(
        int(item_no) if isinstance(item_no, int) else 0, tuple(conditions), "platform"
    )


def merge(server: Assessment, local: Assessment) -> Assessment:
    """The server's conditions, plus local ones it does not state (e.g. checked on the form)."""
    known = {c.key for c in server.conditions}
    extra = tuple(c for c in local.conditions if c.key not in known and c.met is None)
    if not extra:
        return server
    return Assessment(server.item_no or local.item_no, server.conditions + extra, "merged")


def facts_from_records(
    birth_date: dt.date,
    *,
    enterprise_status: Mapping[str, Any] | None = None,
    ui_payments: Mapping[str, Any] | None = None,
    resident_contributions: Mapping[str, Any] | None = None,
    applications: Sequence[Mapping[str, Any]] | None = None,
) -> Facts:
    """Derive what the kiosk's own record answers tell (25, 27, 33, 我的办件); the rest None.

    Each argument is the JSON answer of that endpoint, or None when not fetched (offline).
    """
    facts: dict[str, Any] = {"birth_date": birth_date}
    if enterprise_status is not None:
        status = enterprise_status.get("insured_status")
        if isinstance(status, str):
            facts["enterprise_pension_status"] = status
            facts["receiving_enterprise_pension"] = status == "receiving"
    if ui_payments is not None:
        receiving = ui_payments.get("receiving")
        if isinstance(receiving, bool):
            facts["receiving_ui_benefit"] = receiving
    if resident_contributions is not None:
        for key, target in (
            ("enrolled_basic", "resident_basic_enrolled"),
            ("enrolled_supplementary", "resident_supplementary_enrolled"),
        ):
            if isinstance(resident_contributions.get(key), bool):
                facts[target] = resident_contributions[key]
        years = resident_contributions.get("contribution_years")
        if isinstance(years, int) and not isinstance(years, bool):
            facts["resident_contribution_years"] = years
    if applications is not None:
        done = {"submitted", "in_review", "approved", "completed"}
        registered = any(a.get("item_no") == 11 and a.get("status") in done for a in applications)
        if registered:
            facts["registered_unemployed"] = True
    return Facts(**facts)
