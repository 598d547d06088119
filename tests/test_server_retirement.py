"""The statutory retirement age on the platform over real HTTP (items 10, 11, 23, 34): from sex,
job category and birth date by the 2024 decision's schedule, never "under 60" for everyone; the
resident pension's age (34) stays 60."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from server_support import DB_PARAMS, backend_on
from sqlalchemy import insert

from kiosk.domain.identity import build_id_number
from kiosk.domain.retirement import add_months, has_reached
from kiosk_backend.db import make_engine
from kiosk_backend.models import Person

API = "/api/v1"
TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
# (name, gender, job category, birth, sequence)
PEOPLE = {
    # 60 and a few days: a man born after 1965 retires some months after 60
    "man_just_60": ("甲", "male", "", add_months(TODAY, -720) - dt.timedelta(5), 1),
    "man_1965_06": ("乙", "male", "", dt.date(1965, 6, 15), 3),  # 60y2m: 2025-08, retired
    "woman_worker": ("丙", "female", "worker", dt.date(1974, 6, 15), 2),  # 50: 2024-06
    "woman_cadre": ("丁", "female", "cadre", dt.date(1974, 6, 15), 4),  # 56y2m: 2030-08
    "woman_unknown": ("戊", "female", "", dt.date(1974, 6, 15), 6),
}


def _insert(db_url: str) -> dict[str, str]:
    numbers = {}
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            for key, (name, gender, job, birth, sequence) in PEOPLE.items():
                number = build_id_number("140431", birth, sequence + 700)
                connection.execute(
                    insert(Person),
                    {
                        "id_number": number,
                        "name": f"退休{name}",
                        "gender": gender,
                        "birth_date": birth,
                        "job_category": job,
                        "resident_basic_enrolled": True,
                    },
                )
                numbers[key] = number
    finally:
        engine.dispose()
    return numbers


@pytest.fixture(scope="module", params=DB_PARAMS)
def setup(request, tmp_path_factory):
    with backend_on(request.param, tmp_path_factory, seed_postings=50, seed_persons=20) as running:
        yield running.client, _insert(running.db_url)


def _condition(client, id_number: str, item_no: int, key: str) -> dict:
    answer = client.post(f"{API}/eligibility", {"id_number": id_number, "item_no": item_no})
    assert answer.status_code == 200, answer.text
    return next(c for c in answer.json()["conditions"] if c["key"] == key)


@pytest.mark.parametrize(
    "who, met",
    [
        ("man_just_60", True),  # the old "under 60" refused him
        ("man_1965_06", False),
        ("woman_worker", False),
        ("woman_cadre", not has_reached("female", "cadre", dt.date(1974, 6, 15), TODAY)),
        ("woman_unknown", True),  # between her two ages: let through, the county checks
    ],
)
@pytest.mark.parametrize("item_no", [10, 11, 23])
def test_working_age_items_use_the_statutory_retirement_age(setup, who, met, item_no):
    client, numbers = setup
    condition = _condition(client, numbers[who], item_no, "under_retirement_age")
    assert condition["met"] is met
    assert condition["label"] == "未达到法定退休年龄"


def test_details_say_which_age_applies(setup):
    client, numbers = setup
    detail = _condition(client, numbers["man_1965_06"], 10, "under_retirement_age")["detail"]
    assert detail.endswith("法定退休年龄60周岁2个月，2025年8月达到")
    unknown = _condition(client, numbers["woman_unknown"], 10, "under_retirement_age")["detail"]
    assert "女工人50周岁，女干部56周岁2个月" in unknown and "以经办机构核定为准" in unknown


def test_registration_refused_past_the_age_and_accepted_just_after_sixty(setup):
    client, numbers = setup
    body = {
        "phone": "13912345610",
        "employment_type": "part_time",
        "started_on": (TODAY - dt.timedelta(days=10)).isoformat(),
    }
    refused = client.post(
        f"{API}/applications/flexible-employment", {**body, "id_number": numbers["man_1965_06"]}
    )
    assert refused.status_code == 422 and "未达到法定退休年龄" in refused.json()["message"]
    taken = client.post(
        f"{API}/applications/flexible-employment", {**body, "id_number": numbers["man_just_60"]}
    )
    assert taken.status_code == 200, taken.text


def test_resident_pension_age_is_sixty_for_the_woman_worker_too(setup):
    """Item 34 (城乡居民): 60 whatever the 2024 reform does to employees' ages."""
    client, numbers = setup
    condition = _condition(client, numbers["woman_worker"], 34, "age_60")
    assert condition["label"] == "年满60周岁" and condition["met"] is False
    assert _condition(client, numbers["man_just_60"], 34, "age_60")["met"] is True
