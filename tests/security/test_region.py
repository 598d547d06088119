"""A kiosk's region is the county's to set, and an application stays where it was filed.

Finding (issue 13): a kiosk chose its own region at ``/kiosks/register``; re-registering as
110101 moved its whole history away from the 沁源 county desk. Real HTTP, the real ``kiosk
backend add-kiosk`` command, and a database migrated from the schema before the fix.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from alembic import command
from backend_process import backend_cli
from sqlalchemy import select

from kiosk_backend.db import alembic_config, make_engine, migrate
from kiosk_backend.ledger import add_responder
from kiosk_backend.models import Kiosk, Person
from kiosk_backend.provision import add_kiosk, new_secret_hex
from kiosk_backend.seed.desks import DEMO_DESKS
from kiosk_backend.testing import IdentifiedClient, running_backend

API = "/api/v1"
REGISTER = f"{API}/kiosks/register"
QINYUAN = "140431"
COUNTY_DESK = DEMO_DESKS[0]  # demo-county-140431


def _announce(region_code: str) -> dict:
    return {"version": "9.9.9", "service_point": "某服务点", "region_code": region_code}


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('region') / 'backend.sqlite3'}"
    with running_backend(url, seed_postings=20, seed_persons=20) as running:
        yield running


@pytest.fixture(scope="module")
def county(backend):
    """The demo county desk of 沁源县, re-keyed (the administrator's step) to sign as it."""
    secret = new_secret_hex()
    add_responder(
        backend.db_url,
        COUNTY_DESK.account,
        name=COUNTY_DESK.name,
        role=COUNTY_DESK.role,
        level=COUNTY_DESK.level,
        region_prefix=COUNTY_DESK.region_prefix,
        secret_hex=secret,
    )
    return backend.client_for(COUNTY_DESK.account, secret)


def _stored_region(backend, kiosk_id: str) -> str:
    engine = make_engine(backend.db_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Kiosk.region_code).where(Kiosk.id == kiosk_id))
    finally:
        engine.dispose()


def _file_work_order(backend, client, nth_resident: int) -> str:
    """A new work order (item 31, 恢复缴费: no eligibility rule) of the *nth_resident* seeded
    person: each call its own person, as a second booking of one item on one day is answered
    with the first (a duplicate)."""
    engine = make_engine(backend.db_url)
    try:
        with engine.connect() as connection:
            resident = connection.scalar(
                select(Person.id_number).order_by(Person.id).offset(nth_resident).limit(1)
            )
    finally:
        engine.dispose()
    order = {
        "id_number": resident,
        "item_no": 31,
        "phone": "13812345678",
        "answers": {"action": "resume"},
    }
    response = client.post(f"{API}/work-orders", order)
    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False
    return response.json()["number"]


def _county_numbers(county) -> set[str]:
    response = county.get(f"{API}/desk/applications", params={"limit": 500})
    assert response.status_code == 200, response.text
    return {item["number"] for item in response.json()["items"]}


def test_the_county_sets_the_region_and_an_announce_cannot_change_it(backend, tmp_path):
    # GIVEN the county provisions a kiosk in 沁源县 with the real command
    secret_file = tmp_path / "qy-0042.secret"
    provisioned = backend_cli(
        "add-kiosk", "--id", "qy-0042", "--db", backend.db_url,
        "--secret-file", str(secret_file), "--region", QINYUAN,
    )  # fmt: skip
    assert provisioned.returncode == 0, provisioned.stderr
    kiosk = backend.client_for("qy-0042", secret_file.read_text().strip())
    # WHEN the kiosk announces itself as a Beijing kiosk
    response = kiosk.post(REGISTER, _announce("110101"))
    # THEN it is registered where the county put it, and told so
    assert response.status_code == 200, response.text
    assert response.json()["region_code"] == QINYUAN
    assert _stored_region(backend, "qy-0042") == QINYUAN


def test_a_new_kiosk_without_a_region_is_refused(backend, tmp_path):
    result = backend_cli(
        "add-kiosk", "--id", f"no-region-{uuid.uuid4().hex[:6]}", "--db", backend.db_url,
        "--secret-file", str(tmp_path / "k.secret"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--region" in result.stderr


def test_re_registering_elsewhere_moves_no_history_away_from_the_county(backend, county):
    # GIVEN an application filed at the demo kiosk in 沁源县, on the county desk's list
    number = _file_work_order(backend, backend.client, 0)
    assert number in _county_numbers(county)
    # WHEN the kiosk re-registers as 110101 (the attack of the finding)
    assert backend.client.post(REGISTER, _announce("110101")).status_code == 200
    # THEN the county desk still has it and can work it
    assert number in _county_numbers(county)
    move = county.post(
        f"{API}/desk/applications/{number}/status", {"status": "rejected", "reason": "测试"}
    )
    assert move.status_code == 200, move.text


def test_an_application_keeps_the_region_it_was_filed_in_when_the_county_moves_a_kiosk(
    backend, county, tmp_path
):
    # GIVEN a kiosk of 沁源县 that filed an application there
    secret = new_secret_hex()
    add_kiosk(backend.db_url, "qy-moving", secret, "某村服务点", region_code=QINYUAN)
    # (it files as a kiosk does: after the resident's card is read — an identity token)
    kiosk = IdentifiedClient(backend.url, "qy-moving", secret)
    before = _file_work_order(backend, kiosk, 1)
    # WHEN the county moves the kiosk to 长治市 城区 (140402) and it files another
    add_kiosk(backend.db_url, "qy-moving", secret, region_code="140402")
    after = _file_work_order(backend, kiosk, 2)
    # THEN the 沁源 county desk keeps the first and does not get the second
    numbers = _county_numbers(county)
    assert before in numbers
    assert after not in numbers


def test_migration_gives_existing_applications_their_kiosks_region(tmp_path):
    # GIVEN a database of the schema before the fix, with a kiosk of 沁源县 and its application
    path = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        command.upgrade(alembic_config(engine), "0003")
        with sqlite3.connect(path) as conn:
            conn.execute(  # the applicant (the migrations refuse rows pointing at nobody)
                "INSERT INTO persons (id, id_number, name, gender, birth_date, phone, town, "
                "village, is_student, employment_status, enterprise_pension_status, "
                "receiving_enterprise_pension, ui_insured_months, separation_reason, "
                "registered_unemployed, seeking_work, receiving_ui_benefit, "
                "resident_basic_enrolled, resident_supplementary_enrolled, "
                "receiving_resident_basic, receiving_resident_supplementary) VALUES (1, "
                "'140431196401011234', '测试', 'male', '1964-01-01', '', '郭道镇', '郭道村', 0, "
                "'unemployed', 'none', 0, 0, '', 0, 0, 0, 1, 0, 0, 0)"
            )
            conn.execute(
                "INSERT INTO kiosks (id, kind, secret_hex, service_point, region_code, version, "
                "capabilities, registered_at, last_devices, paper_level, outbox_depth, enabled) "
                "VALUES ('qy-old', 'kiosk', ?, '城关服务点', ?, '', '[]', '2026-11-02 03:04:05', "
                "'[]', 'ok', 0, 1)",
                ("ab" * 32, QINYUAN),
            )
            conn.execute(
                "INSERT INTO applications (number, person_id, item_no, kind, status, details, "
                "kiosk_id, service_point, submitted_at, due_estimated, result, agent_id_number, "
                "agent_name, agent_relation) VALUES ('BJ20261102000001', 1, 34, 'work_order', "
                "'waiting_counter', '{}', 'qy-old', '城关服务点', '2026-11-02 03:04:05', 0, '', "
                "'', '', '')"
            )
        # WHEN it is migrated (the server key ring is made beside the file to seal the secret)
        migrate(engine)
    finally:
        engine.dispose()
    # THEN the application carries the region of the kiosk that filed it
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT number, region_code FROM applications").fetchall()
    assert rows == [("BJ20261102000001", QINYUAN)]
