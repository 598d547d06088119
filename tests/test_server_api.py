"""Behaviour of the reference server's endpoints over real HTTP (SQLite, and PostgreSQL when
KIOSK_TEST_PG_URL is set): search, matching with reasons, rules, receipts, records, e-SSC."""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.identity import build_id_number
from kiosk_backend.testing import running_backend, scratch_postgres_database

API = "/api/v1"


def _db_params():
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@pytest.fixture(scope="module", params=_db_params())
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'backend.sqlite3'}"
        with running_backend(url) as running:
            yield running
    else:
        pg_url = os.environ["KIOSK_TEST_PG_URL"]
        with scratch_postgres_database(pg_url) as url, running_backend(url) as running:
            yield running


@pytest.fixture(scope="module")
def client(backend):
    return backend.client


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _resident(client, n: int) -> str:
    code = client.essc_code(f"ESSC-DEMO-RESIDENT-{n:02d}")
    response = client.post(f"{API}/essc/verify", {"qr": code})
    assert response.status_code == 200, response.text
    return response.json()["id_number"]


def _new_id_number(age: int, sequence: int) -> str:
    today = _today()
    birth = (
        dt.date(today.year - age - 1, 12, 31)
        if (today.month, today.day) < (12, 31)
        else (dt.date(today.year - age, 1, 1))
    )
    return build_id_number("140431", birth, sequence)


# --- job search ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["电", "司机", "电工", "货车司机", "灵空山镇"])
def test_search_finds_exactly_the_postings_containing_the_query(client, query):
    response = client.get(f"{API}/jobs", params={"q": query, "page_size": 100})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] > 0, f"no posting matched {query}"
    for item in page["items"]:
        haystack = "".join(
            item[k]
            for k in ("title", "occupation", "employer_name", "town", "village", "description")
        )
        assert query in haystack.replace("，", ",")


def test_two_character_query_matches_more_than_its_longer_form(client):
    short = client.get(f"{API}/jobs", params={"q": "司机"}).json()["total"]
    long = client.get(f"{API}/jobs", params={"q": "货车司机"}).json()["total"]
    assert short > long > 0


def test_search_filters_and_paging(client):
    params = {"q": "司机", "kind": "fixed", "town": "郭道镇", "salary_min": 6000, "page_size": 5}
    first = client.get(f"{API}/jobs", params=params).json()
    assert first["page"] == 1 and first["page_size"] == 5
    for item in first["items"]:
        assert item["kind"] == "fixed" and item["town"] == "郭道镇"
        assert item["salary_max"] >= 6000
    if first["total"] > 5:
        second = client.get(f"{API}/jobs", params={**params, "page": 2}).json()
        assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    since = (_today() - dt.timedelta(days=7)).isoformat()
    recent = client.get(f"{API}/jobs", params={"posted_since": since, "page_size": 100}).json()
    assert all(item["posted_on"] >= since for item in recent["items"])


def test_search_with_like_wildcards_is_literal(client):
    for query in ("%", "_", "司%机", "\\"):
        response = client.get(f"{API}/jobs", params={"q": query})
        assert response.status_code == 200
        assert response.json()["total"] == 0


@pytest.mark.parametrize(
    "params,field",
    [
        ({"page": 0}, "page"),
        ({"page_size": 1000}, "page_size"),
        ({"kind": "temporary"}, "kind"),
        ({"posted_since": "2026-13-01"}, "posted_since"),
        ({"salary_min": 5000, "salary_max": 100}, "salary_min"),
        ({"q": "司" * 50}, "q"),
    ],
)
def test_bad_search_parameters_are_422_naming_the_field(client, params, field):
    response = client.get(f"{API}/jobs", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_field"
    assert body["field"] == field
    assert re.search(r"[\u4e00-\u9fff]", body["message"])


def test_unknown_posting_is_404_in_chinese(client):
    response = client.get(f"{API}/jobs/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- seekers, demands, matching ------------------------------------------------------------


def test_fixed_seeker_registration_then_matches_with_reasons(client):
    id_number = _resident(client, 7)
    registration = client.post(
        f"{API}/job-seekers",
        {
            "id_number": id_number,
            "kind": "fixed",
            "phone": "13912345678",
            "occupations": ["司机"],
            "towns": ["沁河镇", "郭道镇"],
            "salary_min": 5000,
        },
    )
    assert registration.status_code == 200, registration.text
    receipt = registration.json()["receipt"]
    assert receipt["item_no"] == 1 and receipt["status"] == "completed"
    matches = client.post(f"{API}/job-seekers/matches", {"id_number": id_number, "kind": "fixed"})
    assert matches.status_code == 200
    found = matches.json()["matches"]
    assert found, "a driver in 沁河镇/郭道镇 should match something"
    for match in found:
        assert "工种相符：司机" in match["reasons"]
        assert match["posting"]["town"] in ("沁河镇", "郭道镇")
        assert f"地点：{match['posting']['town']}" in match["reasons"]
        assert match["posting"]["salary_max"] >= 5000
    scores = [m["score"] for m in found]
    assert scores == sorted(scores, reverse=True)


def test_matches_before_registration_is_404(client):
    id_number = _resident(client, 5)
    response = client.post(f"{API}/job-seekers/matches", {"id_number": id_number, "kind": "odd"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_registered"


def test_odd_job_demand_is_published_and_finds_the_registered_electrician(client):
    employer_id = _resident(client, 7)
    work_date = (_today() + dt.timedelta(days=3)).isoformat()
    response = client.post(
        f"{API}/odd-job-demands",
        {
            "id_number": employer_id,
            "employer_name": "郭志强",
            "occupation": "电工",
            "town": "中峪乡",
            "village": "南泉村",
            "workers_needed": 2,
            "pay_per_day": 260,
            "work_date": work_date,
            "days": 2,
            "contact_phone": "13912345678",
        },
    )
    assert response.status_code == 200, response.text
    demand = response.json()
    assert demand["receipt"]["item_no"] == 7
    # the demand is now an odd-job posting that search finds
    posting = client.get(f"{API}/jobs/{demand['posting_id']}").json()
    assert posting["kind"] == "odd" and posting["town"] == "中峪乡"
    found = client.get(
        f"{API}/jobs", params={"q": "电工", "kind": "odd", "town": "中峪乡", "page_size": 100}
    ).json()
    assert demand["posting_id"] in {i["id"] for i in found["items"]}
    # item 8: the seeded odd-job electrician of 中峪乡 is matched, contacts masked
    matches = client.post(
        f"{API}/odd-job-demands/matches",
        {"id_number": employer_id, "demand_id": demand["demand_id"]},
    ).json()
    assert matches["matches"]
    best = matches["matches"][0]
    assert "工种相符：电工" in best["reasons"] and "地点：中峪乡" in best["reasons"]
    assert "*" in best["seeker"]["phone_masked"] and "*" in best["seeker"]["name_masked"]
    assert "id_number" not in best["seeker"]


def test_odd_job_demand_in_the_past_or_unknown_town_is_rejected(client):
    employer_id = _resident(client, 7)
    base = {
        "id_number": employer_id,
        "employer_name": "张三",
        "occupation": "瓦工",
        "town": "中峪乡",
        "workers_needed": 1,
        "pay_per_day": 200,
        "work_date": (_today() - dt.timedelta(days=1)).isoformat(),
        "contact_phone": "13912345678",
    }
    past = client.post(f"{API}/odd-job-demands", base)
    assert past.status_code == 422 and past.json()["field"] == "work_date"
    future = (_today() + dt.timedelta(days=1)).isoformat()
    nowhere = client.post(f"{API}/odd-job-demands", {**base, "work_date": future, "town": "北京市"})
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "town"


def test_odd_seeker_search_masks_contacts(client):
    searcher = _resident(client, 7)
    page = client.post(
        f"{API}/odd-job-seekers/search", {"id_number": searcher, "occupation": "电工"}
    ).json()
    assert page["total"] >= 1
    for seeker in page["items"]:
        assert re.fullmatch(r"\d{3}\*{4}\d{4}|\**\d{4}", seeker["phone_masked"])
        assert "*" in seeker["name_masked"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"id_number": "140431199001011235"}, "id_number"),
        ({"id_number": "12345"}, "id_number"),
        ({"phone": "12345"}, "phone"),
        ({"occupations": []}, "occupations"),
        ({"kind": "seasonal"}, "kind"),
        ({"towns": ["火星镇"]}, "towns.0"),
        ({"salary_min": 9000, "salary_max": 1000}, ""),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_seeker_registration_validation_is_422_in_chinese(client, change, field):
    body = {
        "id_number": _resident(client, 7),
        "kind": "odd",
        "phone": "13912345678",
        "occupations": ["瓦工"],
        **change,
    }
    response = client.post(f"{API}/job-seekers", body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert re.search(r"[\u4e00-\u9fff]", error["message"])
    if field:
        assert error["field"] == field
    assert "140431" not in error["message"], "the ID number must not be echoed"


def test_registration_of_an_unknown_person_needs_a_name(client):
    id_number = _new_id_number(30, 501)
    body = {
        "id_number": id_number,
        "kind": "odd",
        "phone": "13912345678",
        "occupations": ["搬运工"],
    }
    assert client.post(f"{API}/job-seekers", body).status_code == 404
    created = client.post(f"{API}/job-seekers", {**body, "name": "新来的"})
    assert created.status_code == 200, created.text


# --- eligibility and applications ----------------------------------------------------------


def test_eligibility_lists_every_condition(client):
    eligible = client.post(
        f"{API}/eligibility", {"id_number": _resident(client, 1), "item_no": 34}
    ).json()
    assert eligible["eligible"] is True
    assert {c["key"] for c in eligible["conditions"]} >= {"age_60", "years_15"}
    student = client.post(
        f"{API}/eligibility", {"id_number": _resident(client, 6), "item_no": 28}
    ).json()
    assert student["eligible"] is False
    missing = {c["key"] for c in student["conditions"] if not c["met"]}
    assert missing == {"not_student"}
    assert "不是在校学生" in student["message"]


@pytest.mark.parametrize(
    "resident,item_no,eligible,missing",
    [
        (5, 28, True, set()),  # 24, not enrolled, not a student
        (6, 28, False, {"not_student"}),  # 17, student
        (2, 29, False, {"under_65"}),  # 67
        (1, 29, True, set()),  # enrolled, 62
        (1, 34, True, set()),  # 62, 16 years
        (8, 34, False, {"age_60", "years_15"}),  # 52, 9 years
        (2, 35, False, {"supplementary_enrolled"}),  # receives basic, not supplementary
        (3, 23, True, set()),  # involuntary, 30 months, registered, seeking
        (7, 23, False, {"involuntary", "registered"}),
        (7, 22, True, set()),  # insured employee
        (5, 22, False, {"insured_or_ui"}),
    ],
)
def test_business_rules(client, resident, item_no, eligible, missing):
    body = {"id_number": _resident(client, resident), "item_no": item_no}
    result = client.post(f"{API}/eligibility", body).json()
    assert result["eligible"] is eligible, result
    actual = {c["key"] for c in result["conditions"] if not c["met"]}
    # other tests may have changed a person (e.g. registered them as seeking work)
    assert actual == missing if eligible else missing <= actual


def test_unemployment_benefit_application_has_status_and_due_date(client):
    id_number = _resident(client, 3)
    response = client.post(
        f"{API}/applications/unemployment-benefit",
        {"id_number": id_number, "phone": "13912345678", "seeking_work": True},
    )
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["item_no"] == 23 and receipt["status_label"] == "已受理"
    due = dt.date.fromisoformat(receipt["due_date"])
    assert _today() + dt.timedelta(days=5) <= due <= _today() + dt.timedelta(days=21)
    again = client.post(
        f"{API}/applications/unemployment-benefit",
        {"id_number": id_number, "phone": "13912345678", "seeking_work": True},
    )
    assert again.status_code == 409 and again.json()["code"] == "already_submitted"
    mine = client.post(f"{API}/applications/mine", {"id_number": id_number}).json()["items"]
    assert receipt["number"] in {a["number"] for a in mine}


def test_ineligible_unemployment_benefit_is_refused(client):
    response = client.post(
        f"{API}/applications/unemployment-benefit",
        {"id_number": _resident(client, 7), "phone": "13912345678", "seeking_work": True},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_eligible"
    assert "非因本人意愿中断就业" in response.json()["message"]


def test_flexible_employment_and_unemployment_registration(client):
    flexible = client.post(
        f"{API}/applications/flexible-employment",
        {
            "id_number": _resident(client, 8),
            "phone": "13912345678",
            "employment_type": "self_employed",
            "started_on": "2024-05-01",
        },
    )
    assert flexible.status_code == 200, flexible.text
    assert flexible.json()["item_no"] == 10 and flexible.json()["due_date"]
    future = (_today() + dt.timedelta(days=3)).isoformat()
    bad = client.post(
        f"{API}/applications/unemployment-registration",
        {
            "id_number": _resident(client, 5),
            "phone": "13912345678",
            "lost_job_on": future,
            "separation_reason": "involuntary",
        },
    )
    assert bad.status_code == 422 and bad.json()["field"] == "lost_job_on"
    ok = client.post(
        f"{API}/applications/unemployment-registration",
        {
            "id_number": _resident(client, 5),
            "phone": "13912345678",
            "lost_job_on": "2026-01-10",
            "separation_reason": "involuntary",
        },
    )
    assert ok.status_code == 200 and ok.json()["item_no"] == 11


def test_skill_subsidy_rejects_a_certificate_twice(client):
    body = {
        "id_number": _resident(client, 7),
        "phone": "13912345678",
        "certificate_kind": "skill_level",
        "certificate_no": "S000123456",
        "certificate_level": "4",
        "occupation": "电工",
        "issued_on": (_today() - dt.timedelta(days=30)).isoformat(),
    }
    first = client.post(f"{API}/applications/skill-subsidy", body)
    assert first.status_code == 200, first.text
    second = client.post(f"{API}/applications/skill-subsidy", body)
    assert second.status_code == 409


def test_work_orders_get_consecutive_queue_numbers_per_service_point(client):
    id_number = _resident(client, 1)
    numbers = []
    for item_no in (34, 21, 38):
        response = client.post(
            f"{API}/work-orders",
            {"id_number": id_number, "item_no": item_no, "phone": "13912345678"},
        )
        assert response.status_code == 200, response.text
        numbers.append(response.json()["queue_no"])
    assert [n[0] for n in numbers] == ["B", "B", "C"]
    values = [int(n[1:]) for n in numbers]
    assert values == list(range(values[0], values[0] + 3))


def test_work_order_for_a_kiosk_item_or_ineligible_person_is_refused(client):
    kiosk_item = client.post(
        f"{API}/work-orders",
        {"id_number": _resident(client, 1), "item_no": 3, "phone": "13912345678"},
    )
    assert kiosk_item.status_code == 422 and kiosk_item.json()["code"] == "not_counter_item"
    student = client.post(
        f"{API}/work-orders",
        {"id_number": _resident(client, 6), "item_no": 28, "phone": "13912345678"},
    )
    assert student.status_code == 422 and student.json()["code"] == "not_eligible"


# --- records ------------------------------------------------------------------------------


def test_payment_records_show_failures_with_reasons(client):
    records = client.post(
        f"{API}/persons/enterprise-pension/payments", {"id_number": _resident(client, 4)}
    ).json()
    assert records["receiving"] is True and len(records["payments"]) == 12
    failed = [p for p in records["payments"] if p["status"] == "failed"]
    assert len(failed) == records["failed_count"] == 2
    assert all(p["failure_reason"] and p["paid_on"] is None for p in failed)
    assert records["person"]["id_number_masked"].count("*") >= 8
    assert all(p["account_tail_masked"].startswith("****") for p in records["payments"])


def test_resident_contributions_and_payments(client):
    contributions = client.post(
        f"{API}/persons/resident-pension/contributions", {"id_number": _resident(client, 1)}
    ).json()
    assert contributions["contribution_years"] == 16
    assert len(contributions["contributions"]) == 16
    payments = client.post(
        f"{API}/persons/resident-pension/payments", {"id_number": _resident(client, 2)}
    ).json()
    assert payments["failed_count"] == 1


def test_enterprise_status_and_certificate_and_archive(client):
    id_number = _resident(client, 7)
    status = client.post(
        f"{API}/persons/enterprise-pension/status", {"id_number": id_number}
    ).json()
    assert status["insured_status"] == "active" and status["months_on_record"] == 24
    cert = client.post(f"{API}/persons/employment-certificate", {"id_number": id_number})
    assert cert.status_code == 200 and cert.json()["status"] == "有效"
    archive = client.post(f"{API}/persons/archive", {"id_number": id_number})
    assert archive.status_code == 200 and archive.json()["agency_name"]
    none = client.post(f"{API}/persons/employment-certificate", {"id_number": _resident(client, 6)})
    assert none.status_code == 404


def test_unknown_person_records_are_404(client):
    response = client.post(
        f"{API}/persons/resident-pension/payments", {"id_number": _new_id_number(70, 777)}
    )
    assert response.status_code == 404 and response.json()["code"] == "person_not_found"


# --- public information, e-SSC, kiosks, tickets ------------------------------------------


def test_catalogue_policies_fairs_agencies(client):
    items = client.get(f"{API}/catalogue").json()["items"]
    assert len(items) == 40 and sum(1 for i in items if i["kiosk_runs"]) == 22
    assert all(i["basis"] and i["procedure"] for i in items)  # 办事依据, 办事程序 published
    assert items[39]["procedure"][-1] == "即时办结"
    policies = client.get(f"{API}/policies", params={"q": "失业"}).json()
    assert policies["total"] >= 1
    policy = client.get(f"{API}/policies/{policies['items'][0]['id']}").json()
    assert "失业" in policy["title"] + policy["summary"]
    fairs = client.get(f"{API}/job-fairs").json()["items"]
    assert fairs and all(f["ends_at"] >= dt.datetime.now(dt.UTC).isoformat()[:10] for f in fairs)
    assert client.get(f"{API}/archive-agencies").json()["items"]
    towns = client.get(f"{API}/places").json()["towns"]
    assert len(towns) == 12


@pytest.mark.parametrize(
    "qr,role,status",
    [
        ("ESSC-DEMO-OPERATOR-01", "operator", "active"),
        ("ESSC-DEMO-OPERATOR-02", "operator", "locked"),
        ("ESSC-DEMO-OPERATOR-03", "vendor", "active"),
        ("ESSC-DEMO-OPERATOR-04", "system_admin", "active"),
        ("ESSC-DEMO-OPERATOR-06", "operator", "cancelled"),
    ],
)
def test_operator_essc_signin(client, qr, role, status):
    response = client.post(f"{API}/operators/essc-signin", {"qr": client.essc_code(qr)})
    assert response.status_code == 200
    body = response.json()
    assert (body["role"], body["status"]) == (role, status)
    assert "*" in body["name_masked"] and body["account"]


def test_operator_idle_for_three_months_is_locked_at_sign_in(client):
    first = client.post(
        f"{API}/operators/essc-signin", {"qr": client.essc_code("ESSC-DEMO-OPERATOR-07")}
    ).json()
    assert first["status"] == "locked" and "锁定" in first["message"]
    again = client.post(
        f"{API}/operators/essc-signin", {"qr": client.essc_code("ESSC-DEMO-OPERATOR-07")}
    ).json()
    assert again["status"] == "locked"
    active = client.post(
        f"{API}/operators/essc-signin", {"qr": client.essc_code("ESSC-DEMO-OPERATOR-01")}
    ).json()
    assert active["status"] == "active"


def test_unrecognised_qr_is_404(client):
    for path in ("/operators/essc-signin", "/essc/verify"):
        response = client.post(API + path, {"qr": "https://example.com/not-an-essc"})
        assert response.status_code == 404 and response.json()["code"] == "qr_not_recognised"


def test_heartbeat_records_health_and_reports_open_ledger_tickets(client, backend):
    """The heartbeat counts this kiosk's open tickets in the 问题台账 (the one ticket system)."""
    fault = {
        "client_ref": "api-test-paper-out",
        "category": "device",
        "kind": "device_fault",
        "reporter": "kiosk",
        "fault_key": "printer.paper_out",
        "description": "paper_end",
    }

    def beat() -> int:
        response = client.post(
            f"{API}/kiosks/heartbeat",
            {
                "version": "0.1.0",
                "paper_level": "out",
                "outbox_depth": 3,
                "devices": [{"name": "printer", "state": "fault", "last_error": "paper out"}],
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["open_tickets"]

    before = beat()
    ticket = client.post(f"{API}/ledger/tickets", fault)
    assert ticket.status_code == 200, ticket.text
    assert beat() == before + 1
    closed = client.post(
        f"{API}/ledger/tickets/close", {"client_ref": fault["client_ref"], "resolution": "已换纸"}
    ).json()
    assert closed["state"] == "closed" and closed["closed_at"]
    assert beat() == before


def test_the_old_ticket_endpoints_are_gone(client):
    """One ticket system: /api/v1/tickets was folded into the ledger (migration 0003)."""
    body = {"category": "device", "kind": "device_fault", "description": "打印机缺纸"}
    assert client.post(f"{API}/tickets", body).status_code == 404
    assert client.get(f"{API}/tickets").status_code == 404
    assert client.post(f"{API}/tickets/1/close", {"resolution": ""}).status_code == 404


def test_device_fault_must_be_in_the_device_category(client):
    response = client.post(
        f"{API}/ledger/tickets",
        {
            "client_ref": "api-test-wrong-category",
            "category": "system",
            "kind": "device_fault",
            "reporter": "kiosk",
            "fault_key": "printer.paper_out",
        },
    )
    assert response.status_code == 422 and "device" in response.json()["message"]


def test_help_request_carries_no_personal_data(client):
    ok = client.post(f"{API}/help-requests", {"screen": "item_23_form", "item_no": 23})
    assert ok.status_code == 200 and "工作人员" in ok.json()["message"]
    leaking = client.post(f"{API}/help-requests", {"screen": "表单", "id_number": "x"})
    assert leaking.status_code == 422


def test_no_personal_data_reaches_the_logs(client, caplog):
    """GIVEN requests carrying ID numbers, names and phones, good and bad
    THEN no log line of the server contains any of them."""
    import logging

    id_number = _resident(client, 3)
    secrets = [id_number, "张建军", "13912345678", "140431199001011235"]
    with caplog.at_level(logging.DEBUG):
        client.post(f"{API}/persons/enterprise-pension/status", {"id_number": id_number})
        client.post(
            f"{API}/job-seekers",
            {
                "id_number": "140431199001011235",
                "kind": "odd",
                "phone": "13912345678",
                "occupations": ["瓦工"],
            },
        )
        client.post(
            f"{API}/job-seekers",
            {
                "id_number": id_number,
                "kind": "odd",
                "phone": "13912345678",
                "occupations": ["瓦工"],
                "name": "张建军",
            },
        )
        client.get(f"{API}/jobs", params={"q": "司机"})
    text = caplog.text
    assert all(secret not in text for secret in secrets)


def test_control_characters_are_refused_in_bodies_and_queries(client):
    body = {
        "client_ref": "api-test-control",
        "category": "functional",
        "kind": "problem_report",
        "reporter": "resident",
        "description": "打印机\x00缺纸",
    }
    response = client.post(f"{API}/ledger/tickets", body)
    assert response.status_code == 422 and "控制字符" in response.json()["message"]
    beat = client.post(
        f"{API}/kiosks/heartbeat",
        {"version": "1", "devices": [{"name": "printer", "state": "ok", "counters": {"\x00": 1}}]},
    )
    assert beat.status_code == 422
    search = client.get(f"{API}/jobs", params={"q": "司\x00机"})
    assert search.status_code == 422 and search.json()["field"] == "q"


def test_my_applications_show_history_with_statuses(client):
    items = client.post(f"{API}/applications/mine", {"id_number": _resident(client, 7)}).json()
    by_status = {a["status"]: a for a in items["items"]}
    assert {"rejected", "in_review"} <= set(by_status)
    assert by_status["rejected"]["status_label"] == "不予受理"
    assert by_status["rejected"]["result"]
    submitted = [a["submitted_at"] for a in items["items"]]
    assert submitted == sorted(submitted, reverse=True)
