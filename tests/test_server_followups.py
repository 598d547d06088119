"""Follow-ups on the reference server over real HTTP (SQLite, and PostgreSQL when
KIOSK_TEST_PG_URL is set): the 代办 agent on every submission, responder desks and kiosks kept
apart, the demo desks holding demo tickets, and the county desk progressing applications."""

from __future__ import annotations

import datetime as dt
import io
import os
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.identity import build_id_number
from kiosk_backend import ledger_admin, progression
from kiosk_backend.filing import STATUS_LABELS
from kiosk_backend.ledger import add_responder
from kiosk_backend.provision import ProvisionError, add_kiosk, new_secret_hex
from kiosk_backend.seed.desks import DEMO_DESKS
from kiosk_backend.testing import running_backend, scratch_postgres_database

API = "/api/v1"
COUNTY, CITY, PROVINCE = DEMO_DESKS


def _db_params():
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@pytest.fixture(scope="module", params=_db_params())
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('followups') / 'backend.sqlite3'}"
        with running_backend(url, seed_postings=200, seed_persons=60) as running:
            yield running
    else:
        pg_url = os.environ["KIOSK_TEST_PG_URL"]
        with (
            scratch_postgres_database(pg_url) as url,
            running_backend(url, seed_postings=200, seed_persons=60) as running,
        ):
            yield running


@pytest.fixture(scope="module")
def client(backend):
    return backend.client


def _desk(backend, desk=COUNTY):
    """A client signing as a demo desk (re-keyed once per server)."""
    return backend.desk_client(desk)


@pytest.fixture(scope="module")
def county(backend):
    return _desk(backend, COUNTY)


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


_sequence = iter(range(500, 999))


def _new_id_number(age: int = 35) -> str:
    birth = dt.date(_today().year - age - 1, 6, 15)
    return build_id_number("140431", birth, next(_sequence))


def _resident(client, n: int) -> str:
    code = client.essc_code(f"ESSC-DEMO-RESIDENT-{n:02d}")
    response = client.post(f"{API}/essc/verify", {"qr": code})
    assert response.status_code == 200, response.text
    return response.json()["id_number"]


def _flexible(id_number: str, **extra) -> dict:
    return {
        "id_number": id_number,
        "name": "郝建明",
        "phone": "13812345678",
        "employment_type": "self_employed",
        "started_on": (_today() - dt.timedelta(days=20)).isoformat(),
        **extra,
    }


# --- 代办 agent -----------------------------------------------------------------------------


def test_an_agent_is_recorded_and_shown_masked_on_receipt_and_in_my_applications(client):
    resident, helper = _new_id_number(), _new_id_number(50)
    agent = {"id_number": helper, "name": "王秀英", "relation": "child"}
    response = client.post(
        f"{API}/applications/flexible-employment", _flexible(resident, agent=agent)
    )
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["agent"] == {
        "name_masked": "王*英",
        "id_number_masked": helper[:4] + "*" * 10 + helper[-4:],
        "relation": "child",
        "relation_label": "子女",
    }
    mine = client.post(f"{API}/applications/mine", {"id_number": resident}).json()["items"]
    (listed,) = [a for a in mine if a["number"] == receipt["number"]]
    assert listed["agent"] == receipt["agent"]
    assert helper not in response.text and "王秀英" not in str(mine)


def test_without_an_agent_the_receipt_says_none(client):
    response = client.post(f"{API}/applications/flexible-employment", _flexible(_new_id_number()))
    assert response.status_code == 200, response.text
    assert response.json()["agent"] is None


@pytest.mark.parametrize(
    "agent,field",
    [
        # An agent's bad ID number is refused when the agent identifies (POST /identity/sessions).
        ({"id_number": "140431199001011230", "name": "王秀英"}, "id_number"),  # check digit
        ({"id_number": "12345", "name": "王秀英"}, "id_number"),
        ({"name": "王秀英"}, "agent.id_number"),
        ({"id_number": "SAME", "name": ""}, "agent.name"),
        ({"id_number": "SAME", "name": "王秀英", "relation": "boss"}, "agent.relation"),
        ({"id_number": "SAME", "name": "王秀英", "phone": "1"}, "agent.phone"),
    ],
)
def test_a_bad_agent_is_a_422_naming_the_field_and_nothing_is_filed(client, agent, field):
    resident = _new_id_number()
    if agent.get("id_number") == "SAME":
        agent = {**agent, "id_number": _new_id_number(60)}
    response = client.post(
        f"{API}/applications/flexible-employment", _flexible(resident, agent=agent)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.post(f"{API}/applications/mine", {"id_number": resident}).status_code == 404


def test_the_resident_cannot_be_their_own_agent(client):
    resident = _new_id_number()
    agent = {"id_number": resident, "name": "郝建明"}
    response = client.post(
        f"{API}/applications/flexible-employment", _flexible(resident, agent=agent)
    )
    assert response.status_code == 422 and response.json()["field"] == "agent.id_number"


def test_every_submission_schema_takes_an_agent(client):
    """Job seekers (1/4), odd-job demand (7), applications and work orders all record it."""
    helper = {"id_number": _new_id_number(45), "name": "赵丽", "relation": "village_cadre"}
    seeker = client.post(
        f"{API}/job-seekers",
        {
            "id_number": _new_id_number(),
            "name": "冯建华",
            "kind": "odd",
            "phone": "13912345678",
            "occupations": ["瓦工"],
            "agent": helper,
        },
    )
    assert seeker.status_code == 200, seeker.text
    assert seeker.json()["receipt"]["agent"]["relation_label"] == "村（社区）干部"
    demand = client.post(
        f"{API}/odd-job-demands",
        {
            "id_number": _new_id_number(),
            "name": "冯建国",
            "employer_name": "冯家农场",
            "occupation": "采摘工",
            "town": "郭道镇",
            "workers_needed": 3,
            "pay_per_day": 150,
            "work_date": (_today() + dt.timedelta(days=3)).isoformat(),
            "contact_phone": "13912345678",
            "agent": helper,
        },
    )
    assert demand.status_code == 200, demand.text
    assert demand.json()["receipt"]["agent"]["name_masked"] == "赵*"
    order = client.post(
        f"{API}/work-orders",
        {"id_number": _resident(client, 1), "item_no": 34, "phone": "13812345678", "agent": helper},
    )
    assert order.status_code == 200, order.text
    assert order.json()["agent"]["id_number_masked"].endswith(helper["id_number"][-4:])
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in (
        "FlexibleEmployment",
        "UnemploymentRegistration",
        "SkillSubsidy",
        "UnemploymentBenefit",
        "WorkOrder",
        "SeekerRegistration",
        "DemandRegistration",
    ):
        assert "agent" in schemas[name]["properties"], name


# --- desks and kiosks apart ----------------------------------------------------------------------


def test_a_desk_cannot_look_up_a_residents_records(client, county):
    id_number = _resident(client, 4)
    for path in (
        "/persons/enterprise-pension/status",
        "/persons/resident-pension/payments",
        "/applications/mine",
        "/eligibility",
    ):
        response = county.post(f"{API}{path}", {"id_number": id_number, "item_no": 23})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "forbidden"
        assert id_number not in response.text


def test_a_desk_is_refused_before_its_body_is_read(county):
    response = county.post(f"{API}/persons/enterprise-pension/status", body=b"{not json")
    assert response.status_code == 403  # not 422: the body is never parsed


def test_a_desk_cannot_use_any_kiosk_endpoint(county):
    assert county.get(f"{API}/catalogue").status_code == 403
    assert county.get(f"{API}/ledger/tickets").status_code == 403
    beat = county.post(f"{API}/kiosks/heartbeat", {"version": "1"})
    assert beat.status_code == 403
    filed = county.post(f"{API}/applications/flexible-employment", _flexible(_new_id_number()))
    assert filed.status_code == 403


def test_a_kiosk_cannot_use_desk_endpoints(client):
    assert client.get(f"{API}/ledger/desk/tickets").status_code == 403
    assert client.get(f"{API}/ledger/responsibility").status_code == 403
    assert client.get(f"{API}/desk/applications").status_code == 403
    answer = client.post(
        f"{API}/ledger/desk/tickets/1/answer",
        {"result": "x", "feedback_deadline": _today().isoformat()},
    )
    assert answer.status_code == 403
    move = client.post(f"{API}/desk/applications/BJ20260101000001/status", {"status": "in_review"})
    assert move.status_code == 403 and move.json()["code"] == "forbidden"


def test_one_id_cannot_be_both_a_kiosk_and_a_desk(backend):
    with pytest.raises(ProvisionError):
        add_kiosk(
            backend.db_url,
            COUNTY.account,
            new_secret_hex(),
            region_code="140431",
            key_file=backend.key_file,
        )
    with pytest.raises(ProvisionError):
        add_responder(
            backend.db_url,
            backend.kiosk_id,
            name="某",
            role="",
            level="county",
            region_prefix="140431",
            secret_hex=new_secret_hex(),
            key_file=backend.key_file,
        )


# --- demo desks hold demo tickets ----------------------------------------------------------------


def test_demo_desks_hold_demo_tickets_and_escalate_county_city_province(backend, client):
    opened = client.post(
        f"{API}/ledger/tickets",
        {
            "client_ref": "followups-guidance-1",
            "kind": "problem_report",
            "category": "guidance",
            "reporter": "resident",
            "description": "不清楚灵活就业登记需要什么材料",
        },
    )
    assert opened.status_code == 200, opened.text
    ticket = opened.json()
    assert ticket["holder"]["account"] == COUNTY.account and ticket["holder"]["name"]
    holders = [COUNTY]
    for desk in (CITY, PROVINCE):
        signer = _desk(backend, holders[-1])
        up = signer.post(
            f"{API}/ledger/desk/tickets/{ticket['id']}/escalate", {"reason": "本级无法解决"}
        )
        assert up.status_code == 200, up.text
        assert up.json()["holder"]["account"] == desk.account
        holders.append(desk)
    device = client.post(
        f"{API}/ledger/tickets",
        {
            "client_ref": "followups-device-1",
            "kind": "device_fault",
            "category": "device",
            "reporter": "kiosk",
            "fault_key": "scanner.offline",
        },
    ).json()
    assert device["holder"]["account"] == COUNTY.account


# --- back-office progression ----------------------------------------------------------------------


def _filed(client) -> str:
    response = client.post(f"{API}/applications/flexible-employment", _flexible(_new_id_number()))
    assert response.status_code == 200, response.text
    return response.json()["number"]


def test_the_county_desk_accepts_reviews_and_completes(client, county):
    number = _filed(client)
    path = f"{API}/desk/applications/{number}/status"
    queue = county.get(f"{API}/desk/applications", params={"status": "submitted"}).json()
    (row,) = [a for a in queue["items"] if a["number"] == number]
    assert row["allowed"] == ["in_review", "rejected"]
    assert "*" in row["resident_id_number_masked"]
    assert county.post(path, {"status": "in_review"}).json()["status_label"] == "审核中"
    done = county.post(path, {"status": "completed", "reason": "已登记，可享受社保补贴"})
    assert done.status_code == 200, done.text
    assert [(e["from_status"], e["to_status"]) for e in done.json()["events"]] == [
        ("submitted", "in_review"),
        ("in_review", "completed"),
    ]
    assert done.json()["events"][0]["actor"] == COUNTY.account
    again = county.post(path, {"status": "completed"}, idempotency_key=None)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_a_work_order_is_accepted_at_the_counter_or_refused_with_a_reason(client, county):
    order = client.post(
        f"{API}/work-orders",
        {"id_number": _resident(client, 1), "item_no": 34, "phone": "13812345678"},
    ).json()
    path = f"{API}/desk/applications/{order['number']}/status"
    refused = county.post(path, {"status": "rejected", "reason": "  "})
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    accepted = county.post(path, {"status": "submitted"})
    assert accepted.status_code == 200 and accepted.json()["status_label"] == "已受理"


def test_only_county_desks_in_the_region_move_applications(backend, client):
    number = _filed(client)
    city = _desk(backend, CITY)
    response = city.post(f"{API}/desk/applications/{number}/status", {"status": "in_review"})
    assert response.status_code == 403
    secret = new_secret_hex()
    add_responder(
        backend.db_url,
        "county-140402",
        name="某县",
        role="",
        level="county",
        region_prefix="140402",
        secret_hex=secret,
        key_file=backend.key_file,
    )
    elsewhere = backend.client_for("county-140402", secret)
    response = elsewhere.post(f"{API}/desk/applications/{number}/status", {"status": "in_review"})
    assert response.status_code == 404  # another county's application does not exist for it
    bad = _desk(backend, COUNTY).post(
        f"{API}/desk/applications/{number}/status", {"status": "approved"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "status"


def test_the_admin_cli_lists_and_moves_applications(backend, client):
    number = _filed(client)
    out = io.StringIO()
    args = ["--db", backend.db_url, "--account", COUNTY.account]
    assert ledger_admin.main(["applications", *args, "--status", "submitted"], out) == 0
    assert number in out.getvalue()
    assert "郝建明" not in out.getvalue()
    out = io.StringIO()
    move = ["move-application", *args, "--number", number]
    assert ledger_admin.main([*move, "--status", "rejected", "--reason", "材料不全"], out) == 0
    assert "不予受理" in out.getvalue()
    assert ledger_admin.main([*move, "--status", "in_review"], io.StringIO()) == 2
    refused = ["move-application", "--db", backend.db_url, "--account", CITY.account]
    assert ledger_admin.main([*refused, "--number", number, "--status", "in_review"]) == 2


STATUSES = sorted(STATUS_LABELS)


@given(st.sampled_from(STATUSES), st.sampled_from(progression.TARGETS), st.text(max_size=5))
def test_transition_rules(current, target, reason):
    allowed = target in progression.TRANSITIONS.get(current, frozenset())
    needs_reason = target == "rejected" and not reason.strip()
    try:
        progression.check_transition(current, target, reason)
    except progression.ReasonRequired:
        assert allowed and needs_reason
    except progression.TransitionRefused as exc:
        assert not allowed and str(exc)
    else:
        assert allowed and not needs_reason
        assert current not in ("completed", "rejected", "cancelled", "approved")


def test_a_completed_unemployment_registration_counts_for_the_benefit_rules(client, county):
    resident = _new_id_number(40)
    filed = client.post(
        f"{API}/applications/unemployment-registration",
        {
            "id_number": resident,
            "name": "韩志强",
            "phone": "13812345678",
            "lost_job_on": (_today() - dt.timedelta(days=10)).isoformat(),
            "separation_reason": "involuntary",
        },
    )
    assert filed.status_code == 200, filed.text

    def registered() -> bool:
        answer = client.post(f"{API}/eligibility", {"id_number": resident, "item_no": 23}).json()
        return next(c["met"] for c in answer["conditions"] if c["key"] == "registered")

    assert registered() is False  # submitted is not yet registered
    path = f"{API}/desk/applications/{filed.json()['number']}/status"
    assert county.post(path, {"status": "in_review"}).status_code == 200
    assert registered() is False
    assert county.post(path, {"status": "completed"}).status_code == 200
    assert registered() is True


def test_a_rejected_skill_subsidy_certificate_may_be_claimed_again_while_another_is_open(
    client, county
):
    """GIVEN a claim for certificate A refused at the desk and an open claim for certificate B
    WHEN the resident claims A again THEN it is accepted; B again is refused as a duplicate."""

    def claim(certificate_no: str):
        return client.post(
            f"{API}/applications/skill-subsidy",
            {
                "id_number": _resident(client, 7),
                "phone": "13912345678",
                "certificate_kind": "skill_level",
                "certificate_no": certificate_no,
                "certificate_level": "4",
                "occupation": "电工",
                "issued_on": (_today() - dt.timedelta(days=30)).isoformat(),
            },
        )

    first = claim("S-RETRY-A")
    assert first.status_code == 200, first.text
    refused = county.post(
        f"{API}/desk/applications/{first.json()['number']}/status",
        {"status": "rejected", "reason": "证书编号与证书不符"},
    )
    assert refused.status_code == 200, refused.text
    assert claim("S-RETRY-B").status_code == 200

    again = claim("S-RETRY-A")
    assert again.status_code == 200, again.text
    assert claim("S-RETRY-B").status_code == 409
