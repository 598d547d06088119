"""Request bodies built from validated values, exactly as the platform's schemas want them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiosk.domain.items import load_definitions
from kiosk.domain.items.requests import phone_of, request_body, submission_item_no
from kiosk.domain.validation import validate_all

TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def definitions():
    return load_definitions()


def clean_values(definition, values):
    """Validate as the facade does (API-sourced pickers unchecked here: no server)."""
    pickers = load_definitions().pickers
    rules = [
        f.rule(pickers[f.source].labels() if f.source and not f.api_source else ())
        for f in definition.fields
    ]
    clean, errors = validate_all(rules, values, TODAY)
    assert errors == {}
    return clean


def test_a_fixed_job_registration_body(definitions):
    definition = definitions.item(1)
    clean = clean_values(
        definition,
        {
            "phone": "13812345678",
            "occupations": ["电工", "司机"],
            "towns": ["沁河镇"],
            "salary": "8000元以上",
            "education": "大专",
            "work_type": "全职",
            "certificates": ["电工证", "健康证"],
            "available_from": "20261201",
        },
    )
    body = request_body(definition.fields, clean, definitions.pickers)
    assert body == {
        "phone": "13812345678",
        "occupations": ["电工", "司机"],
        "towns": ["沁河镇"],
        "salary_min": 8000,  # the range option's body, not its label
        "skills": "文化程度：大专；工作方式：全职；持有证书：电工证、健康证",
        "available_from": "2026-12-01",
    }
    assert phone_of(definition.fields, body) == "13812345678"


def test_enumerations_send_their_codes_and_empty_optionals_are_left_out(definitions):
    definition = definitions.item(11)
    clean = clean_values(
        definition,
        {"phone": "0355-7012345", "lost_job_on": "20261101", "separation_reason": "本人主动辞职",
         "seeking_work": "否"},
    )  # fmt: skip
    body = request_body(definition.fields, clean, definitions.pickers)
    assert body == {
        "phone": "0355-7012345",
        "lost_job_on": "2026-11-01",
        "separation_reason": "voluntary",
        "seeking_work": False,
    }
    skill = definitions.item(22)
    clean = clean_values(
        skill,
        {"phone": "13812345678", "certificate_kind": "职业资格证书", "certificate_no": "000123",
         "certificate_level": "一级/高级技师", "occupation": "焊工", "issued_on": "20261001"},
    )  # fmt: skip
    body = request_body(skill.fields, clean, definitions.pickers)
    assert body["certificate_no"] == "000123" and body["certificate_level"] == "1"
    assert body["certificate_kind"] == "vocational_qualification"


def test_numbers_are_sent_as_numbers(definitions):
    definition = definitions.item(7)
    field = definition.field("pay_per_day")
    body = request_body([field], {"pay_per_day": 260}, definitions.pickers)
    assert body == {"pay_per_day": 260}
    amount = field.__class__(key="x", label="金额", kind="amount")
    assert request_body([amount], {"x": Decimal("12.50")}, definitions.pickers) == {"x": 12.5}
    assert request_body([amount], {"x": Decimal("12.00")}, definitions.pickers) == {"x": 12}


def test_a_stored_submission_is_recognised_by_path_and_fixed_values(definitions):
    items = definitions.items.values()
    assert submission_item_no("/api/v1/job-seekers", {"kind": "odd"}, items, "/api/v1") == 4
    assert submission_item_no("/api/v1/job-seekers", {"kind": "fixed"}, items, "/api/v1") == 1
    assert submission_item_no("/api/v1/work-orders", {"item_no": 28}, items, "/api/v1") == 28
    assert submission_item_no("/api/v1/tickets", {}, items, "/api/v1") == 0


def test_the_trades_offered_are_the_trades_the_platform_posts():
    """One truth for trades: a registered intention can match a posting by its trade."""
    from kiosk_backend.seed.demo import FIXED_OCCUPATIONS, INDUSTRIES, ODD_OCCUPATIONS

    pickers = load_definitions().pickers
    assert set(pickers["fixed_occupations"].labels()) == set(FIXED_OCCUPATIONS)
    assert set(pickers["odd_occupations"].labels()) == set(ODD_OCCUPATIONS)
    assert set(pickers["industries"].labels()) == set(INDUSTRIES)
