"""Every asked field is stored, shown to the desk and, where the item means it, changes the
person's record; counter items carry their own choices; a second booking of an open item says
so with the first booking's queue number. Real HTTP on SQLite (and PostgreSQL when
KIOSK_TEST_PG_URL is set); the desk is the demo county desk, re-keyed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from server_support import DB_PARAMS, backend_on
from sqlalchemy import select

from kiosk.domain.identity import build_id_number
from kiosk_backend.db import make_engine, make_session_factory
from kiosk_backend.models import Application, Person
from kiosk_backend.seed.desks import DEMO_DESKS

API = "/api/v1"
COUNTY = DEMO_DESKS[0]


@pytest.fixture(scope="module", params=DB_PARAMS)
def backend(request, tmp_path_factory):
    with backend_on(request.param, tmp_path_factory, seed_postings=50, seed_persons=20) as running:
        yield running


@pytest.fixture(scope="module")
def client(backend):
    return backend.client


@pytest.fixture(scope="module")
def county(backend):
    return backend.desk_client(COUNTY)


_sequence = iter(range(300, 999, 2))  # odd: 男


def _new_id_number(age: int = 35) -> str:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return build_id_number("140431", dt.date(today.year - age - 1, 6, 15), next(_sequence))


def _verified(client, demo_label: str) -> dict:
    """The person behind a freshly minted e-SSC code of demo resident *demo_label*."""
    response = client.post(f"{API}/essc/verify", {"qr": client.essc_code(demo_label)})
    assert response.status_code == 200, response.text
    return response.json()


def _person(backend, id_number: str) -> Person:
    engine = make_engine(backend.db_url)
    try:
        with make_session_factory(engine)() as session:
            person = session.scalar(select(Person).where(Person.id_number == id_number))
            session.expunge(person)
            return person
    finally:
        engine.dispose()


def _desk_view(county, number: str) -> dict:
    listing = county.get(f"{API}/desk/applications", params={"limit": 500})
    assert listing.status_code == 200, listing.text
    return next(a for a in listing.json()["items"] if a["number"] == number)


def _answers(view: dict) -> dict[str, str]:
    return {a["label"]: a["text"] for a in view["answers"]}


def _complete(county, number: str) -> None:
    for status in ("in_review", "completed"):
        moved = county.post(f"{API}/desk/applications/{number}/status", {"status": status})
        assert moved.status_code == 200, moved.text


# --- item 10: stored, shown, and the person becomes flexibly employed on completion -----------


def test_item_10_answers_reach_the_desk_and_completion_updates_the_person(backend, client, county):
    id_number = _new_id_number()
    body = {
        "id_number": id_number,
        "name": "灵活甲",
        "phone": "13912340010",
        "employment_type": "new_forms",
        "started_on": "2026-03-01",
        "industry": "物流",
    }
    filed = client.post(f"{API}/applications/flexible-employment", body)
    assert filed.status_code == 200, filed.text
    number = filed.json()["number"]
    view = _desk_view(county, number)
    assert view["phone"] == "13912340010"
    assert _answers(view) == {
        "联系电话": "13912340010",
        "灵活就业形式": "新就业形态（网约车、外卖、快递等）",
        "开始灵活就业日期": "2026-03-01",
        "所属行业": "物流",
    }
    again = client.post(f"{API}/applications/flexible-employment", body)
    assert again.status_code == 409 and again.json()["code"] == "already_submitted"
    before = _person(backend, id_number)
    assert (before.employment_status, before.industry) == ("employed", "")
    _complete(county, number)
    after = _person(backend, id_number)
    assert after.employment_status == "flexible"
    assert after.flexible_employment_type == "new_forms"
    assert after.flexible_employment_since == dt.date(2026, 3, 1)
    assert after.industry == "物流"
    assert after.phone == "13912340010"


# --- item 11: the last employer ------------------------------------------------------------------


def test_item_11_last_employer_is_stored_and_written_to_the_person(backend, client, county):
    id_number = _new_id_number(40)
    filed = client.post(
        f"{API}/applications/unemployment-registration",
        {
            "id_number": id_number,
            "name": "失业乙",
            "phone": "13912340011",
            "lost_job_on": "2026-10-31",
            "separation_reason": "involuntary",
            "last_employer": "沁源县宏达煤业有限公司",
            "seeking_work": True,
        },
    )
    assert filed.status_code == 200, filed.text
    number = filed.json()["number"]
    answers = _answers(_desk_view(county, number))
    assert answers["原工作单位"] == "沁源县宏达煤业有限公司"
    assert answers["失业原因"] == "非本人意愿中断就业（单位辞退、合同到期不续等）"
    assert answers["是否有求职要求"] == "是" and answers["失业日期"] == "2026-10-31"
    _complete(county, number)
    person = _person(backend, id_number)
    assert person.last_employer == "沁源县宏达煤业有限公司"
    assert person.registered_unemployed is True


# --- items 22 and 23: the phone ------------------------------------------------------------------


def test_items_22_and_23_keep_the_phone_for_the_desk(client, county):
    employee = _verified(client, "ESSC-DEMO-RESIDENT-07")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    claim = client.post(
        f"{API}/applications/skill-subsidy",
        {
            "id_number": employee["id_number"],
            "phone": "13912340022",
            "certificate_kind": "skill_level",
            "certificate_no": "S000014043100223",
            "certificate_level": "4",
            "occupation": "电工",
            "issued_on": (today - dt.timedelta(days=30)).isoformat(),
        },
    )
    assert claim.status_code == 200, claim.text
    view = _desk_view(county, claim.json()["number"])
    assert view["phone"] == "13912340022"
    assert _answers(view)["证书编号"] == "S000014043100223"
    assert _answers(view)["证书等级"] == "四级/中级工"
    claimant = _verified(client, "ESSC-DEMO-RESIDENT-03")
    benefit = client.post(
        f"{API}/applications/unemployment-benefit",
        {"id_number": claimant["id_number"], "phone": "13912340023", "seeking_work": True},
    )
    assert benefit.status_code == 200, benefit.text
    view = _desk_view(county, benefit.json()["number"])
    assert view["phone"] == "13912340023"
    assert _answers(view) == {"联系电话": "13912340023", "本人是否有求职要求": "是"}


# --- counter items: their own choices, and one booking at a time -------------------------------


def test_item_40_loss_report_choice_reaches_the_counter(client, county):
    id_number = _new_id_number(50)
    booked = client.post(
        f"{API}/work-orders",
        {
            "id_number": id_number,
            "name": "挂失丙",
            "item_no": 40,
            "phone": "13912340040",
            "answers": {"action": "temporary_loss"},
        },
    )
    assert booked.status_code == 200, booked.text
    receipt = booked.json()
    assert receipt["duplicate"] is False and receipt["queue_no"].startswith("C")
    view = _desk_view(county, receipt["number"])
    assert _answers(view) == {"联系电话": "13912340040", "办理内容": "临时挂失（7天后自动解挂）"}
    assert view["phone"] == "13912340040"


def test_item_30_takes_several_changes_and_31_takes_resume(client, county):
    id_number = _new_id_number(45)
    changes = client.post(
        f"{API}/work-orders",
        {
            "id_number": id_number,
            "name": "变更丁",
            "item_no": 30,
            "phone": "13912340030",
            "answers": {"changes": ["address", "phone"]},
        },
    )
    assert changes.status_code == 200, changes.text
    assert (
        _answers(_desk_view(county, changes.json()["number"]))["要变更的信息"]
        == "居住地址、联系电话"
    )
    resume = client.post(
        f"{API}/work-orders",
        {
            "id_number": id_number,
            "item_no": 31,
            "phone": "13912340030",
            "answers": {"action": "resume"},
        },
    )
    assert resume.status_code == 200, resume.text
    assert _answers(_desk_view(county, resume.json()["number"]))["办理内容"] == "恢复缴费"


@pytest.mark.parametrize(
    "item_no, answers, field",
    [
        (40, {}, "answers.action"),  # a required choice left out
        (40, {"action": "lost_forever"}, "answers.action"),  # not an option offered
        (40, {"action": ["formal_loss"]}, "answers.action"),  # one choice, not a list
        (40, {"action": "formal_loss", "colour": "red"}, "answers.colour"),  # unknown key
        (30, {"changes": ["address", "address"]}, "answers.changes"),  # twice the same
        (38, {"action": "temporary_loss"}, "answers.action"),  # 38 asks nothing of its own
        (24, {"reason": "death\u0000"}, None),  # control characters never reach a check
    ],
)
def test_bad_counter_answers_are_422_naming_the_answer(client, item_no, answers, field):
    response = client.post(
        f"{API}/work-orders",
        {
            "id_number": _new_id_number(55),
            "name": "错误戊",
            "item_no": item_no,
            "phone": "13912340099",
            "answers": answers,
        },
    )
    assert response.status_code == 422, response.text
    if field is not None:
        assert response.json()["field"] == field


def test_second_booking_of_an_open_item_returns_the_first_with_its_queue_number(
    backend, client, county
):
    id_number = _new_id_number(52)
    body = {
        "id_number": id_number,
        "name": "预约己",
        "item_no": 37,
        "phone": "13912340037",
        "answers": {"reason": "missing"},
    }
    first = client.post(f"{API}/work-orders", body).json()
    second = client.post(f"{API}/work-orders", {**body, "answers": {"reason": "death"}})
    assert second.status_code == 200, second.text
    again = second.json()
    assert again["duplicate"] is True
    assert (again["number"], again["queue_no"]) == (first["number"], first["queue_no"])
    assert f"排队号 {first['queue_no']}" in again["message"] and "无需重复预约" in again["message"]
    engine = make_engine(backend.db_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(
                select(Application).join(Person).where(Person.id_number == id_number)
            ).all()
            assert len(rows) == 1 and rows[0].details["answers"] == {"reason": "missing"}
    finally:
        engine.dispose()
    for status in ("submitted", "in_review", "completed"):
        moved = county.post(f"{API}/desk/applications/{first['number']}/status", {"status": status})
        assert moved.status_code == 200, moved.text
    later = client.post(f"{API}/work-orders", body).json()
    assert later["duplicate"] is False and later["number"] != first["number"]
