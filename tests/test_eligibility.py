"""Eligibility before effort: pure, tri-state rules; the platform's answer merged by key."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain import eligibility as e

TODAY = dt.date(2026, 11, 29)


def born(years_ago: int, days_later: int = 0) -> dt.date:
    return dt.date(TODAY.year - years_ago, TODAY.month, TODAY.day) + dt.timedelta(days_later)


def test_unemployment_benefit_lists_each_condition_met_or_missing():
    """GIVEN a person insured 8 months who quit WHEN item 23 is assessed THEN exactly the two
    missing conditions are named, and the verdict is not eligible."""
    facts = e.Facts(
        birth_date=born(41),
        sex="男",
        ui_insured_months=8,
        separation_reason="voluntary",
        registered_unemployed=True,
        seeking_work=True,
        receiving_ui_benefit=False,
    )
    result = e.assess(23, facts, TODAY)
    assert [(c.key, c.met) for c in result.conditions] == [
        ("insured_1y", False),
        ("involuntary", False),
        ("registered", True),
        ("seeking", True),
        ("not_receiving", True),
        ("under_retirement_age", True),
    ]
    assert result.conditions[0].detail == "已缴费8个月"
    assert result.eligible is False
    assert result.message == "不符合办理条件：参加失业保险并缴费满一年；非因本人意愿中断就业"


def test_offline_only_the_card_is_known_so_records_conditions_are_pending():
    result = e.assess(23, e.Facts(birth_date=born(41)), TODAY)
    assert result.eligible is None
    assert {c.detail for c in result.conditions} == {e.UNKNOWN_DETAIL}
    assert result.message.startswith("以下条件需核验：")
    assert all(c.status_text == "待核验" for c in result.conditions)


@given(st.integers(min_value=-400, max_value=400))
def test_age_sixteen_is_reached_on_the_birthday_and_not_a_day_before(offset):
    birth = born(16, offset)
    result = e.assess(1, e.Facts(birth_date=birth), TODAY)
    assert result.eligible is (offset <= 0)
    assert result.conditions[0].detail == f"现年{e.age_on(birth, TODAY)}岁"


def test_registration_items_know_working_age_from_the_card():
    result = e.assess(11, e.Facts(birth_date=born(30), sex="男"), TODAY)
    assert [(c.key, c.met) for c in result.conditions] == [
        ("age_16", True),
        ("under_retirement_age", True),
    ]
    assert result.conditions[1].detail == "现年30岁，法定退休年龄63周岁，2059年11月达到"
    # 60 and one day: under the reformed age (60 years 6 months for a man born in Nov 1966)
    sixty = e.assess(10, e.Facts(birth_date=born(60, -1), sex="男"), TODAY)
    assert sixty.eligible is True
    too_old = e.assess(10, e.Facts(birth_date=dt.date(1965, 6, 15), sex="男"), TODAY)
    assert too_old.eligible is False
    assert [c.key for c in too_old.missing] == ["under_retirement_age"]


def test_a_womans_retirement_age_is_pending_offline_between_her_two_ages():
    """The card tells sex and birth, not whether a woman's original age was 50 or 55."""
    facts = e.Facts(birth_date=dt.date(1974, 6, 15), sex="女")  # 52: past 50, before 56
    condition = e.assess(10, facts, TODAY).conditions[1]
    assert condition.met is None and condition.status_text == "待核验"
    assert "女工人50周岁" in condition.detail and "女干部56周岁2个月" in condition.detail
    cadre = e.assess(10, dataclasses.replace(facts, job_category="cadre"), TODAY)
    assert cadre.eligible is True
    worker = e.assess(10, dataclasses.replace(facts, job_category="worker"), TODAY)
    assert worker.eligible is False
    unknown_sex = e.assess(10, e.Facts(birth_date=born(40)), TODAY).conditions[1]
    assert unknown_sex.met is None


def test_skill_subsidy_explains_the_certificate_condition_checked_on_the_form():
    insured = e.Facts(born(30), employment_status="employed", ui_insured_months=14)
    assessed = e.assess(22, insured, TODAY)
    assert assessed.conditions[0].met is True
    assert assessed.conditions[1].key == "certificate_12m"
    assert assessed.conditions[1].detail == e.FORM_DETAIL
    on_benefit = e.Facts(
        born(30), employment_status="unemployed", ui_insured_months=30, receiving_ui_benefit=True
    )
    assert e.assess(22, on_benefit, TODAY).conditions[0].met is True
    neither = e.Facts(
        born(30), employment_status="employed", ui_insured_months=0, receiving_ui_benefit=False
    )
    assert e.assess(22, neither, TODAY).eligible is False


def test_counter_items_conditions_are_explained_too():
    facts = e.Facts(
        born(62),
        resident_basic_enrolled=True,
        resident_contribution_years=16,
        receiving_enterprise_pension=False,
        receiving_resident_basic=False,
    )
    assert e.assess(34, facts, TODAY).eligible is True
    assert e.assess(34, e.Facts(born(62), resident_contribution_years=14), TODAY).eligible is False
    assert not e.has_conditions(13) and e.assess(13, e.Facts(born(30)), TODAY).eligible is True


SERVER_ANSWER = {
    "item_no": 22,
    "item_name": "技能提升补贴申领",
    "eligible": True,
    "conditions": [
        {"key": "insured_or_ui", "label": "企业在职参保职工或领取失业保险金期间的失业人员",
         "met": True, "detail": ""},
    ],
    "message": "符合办理条件",
}  # fmt: skip


def test_the_platforms_answer_wins_and_form_checked_conditions_are_added():
    server = e.from_server(SERVER_ANSWER)
    assert server.source == "platform" and server.eligible is True
    local = e.assess(22, e.Facts(born(30)), TODAY)
    merged = e.merge(server, local)
    assert [c.key for c in merged.conditions] == ["insured_or_ui", "certificate_12m"]
    assert merged.conditions[0].met is True  # the platform's verdict, not the kiosk's unknown
    assert merged.source == "merged"
    same = e.merge(
        e.from_server({**SERVER_ANSWER, "item_no": 1}), e.assess(1, e.Facts(born(30)), TODAY)
    )
    assert same.source == "platform"


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {},
        {"conditions": "x"},
        {"conditions": [{"key": "a", "met": "yes"}]},
        {"conditions": [1]},
    ],
)
def test_a_malformed_platform_answer_is_a_value_error(answer):
    with pytest.raises(ValueError):
        e.from_server(answer)


def test_facts_from_the_kiosks_own_record_answers():
    facts = e.facts_from_records(
        born(45),
        enterprise_status={"insured_status": "active"},
        ui_payments={"receiving": False},
        resident_contributions={"enrolled_basic": True, "enrolled_supplementary": False,
                                "contribution_years": 9},
        applications=[{"item_no": 11, "status": "in_review"}],
    )  # fmt: skip
    assert facts.enterprise_pension_status == "active"
    assert facts.receiving_enterprise_pension is False
    assert facts.receiving_ui_benefit is False
    assert facts.resident_basic_enrolled is True
    assert facts.resident_contribution_years == 9
    assert facts.registered_unemployed is True
    assert facts.ui_insured_months is None  # no record answer tells it: left unknown
    assert e.facts_from_records(born(45)).enterprise_pension_status is None
