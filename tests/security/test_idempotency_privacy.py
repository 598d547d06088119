"""The idempotency store keeps nothing personal: over real HTTP, then reading the database.

Findings (issue 13): the store kept whole answers, unmasked ID numbers and names included, for
30 days in plain text — read-only queries too — and its request hash was a bare SHA-256 of a
body holding the ID number (the ID space is small enough to search offline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kiosk_backend.db import make_engine
from kiosk_backend.export_openapi import OPENAPI_PATH
from kiosk_backend.models import IdempotencyRecord, Person
from kiosk_backend.server_keys import REQUEST_HASH, read_key_file
from kiosk_backend.testing import running_backend

API = "/api/v1"
WORK_ORDERS = f"{API}/work-orders"
PENSION_STATUS = f"{API}/persons/enterprise-pension/status"
AGENT_NAME = "欧阳建国"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('idem') / 'backend.sqlite3'}"
    with running_backend(url, seed_postings=20, seed_persons=20) as running:
        yield running


def _query(backend, statement, **params):
    engine = make_engine(backend.db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(statement, params).all()
    finally:
        engine.dispose()


def _id_numbers(backend, count: int) -> list[str]:
    rows = _query(backend, select(Person.id_number).order_by(Person.id).limit(count))
    return [row.id_number for row in rows]


def _record(backend, key: str):
    rows = _query(backend, select(IdempotencyRecord).where(IdempotencyRecord.key == key.lower()))
    return rows[0] if rows else None


def test_a_read_only_lookup_is_answered_but_never_stored(backend):
    # GIVEN a resident's pension status asked with an Idempotency-Key
    resident = _id_numbers(backend, 1)[0]
    key = str(uuid.uuid4())
    first = backend.client.post(PENSION_STATUS, {"id_number": resident}, idempotency_key=key)
    assert first.status_code == 200, first.text
    # THEN nothing of it is recorded under that key
    assert _record(backend, key) is None
    # and a repeat is answered afresh (a stored answer would be replayed, marked as such)
    again = backend.client.post(PENSION_STATUS, {"id_number": resident}, idempotency_key=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in again.headers


def _work_order(backend, key: str) -> tuple[dict, dict]:
    resident, agent = _id_numbers(backend, 2)
    body = {
        "id_number": resident,
        "item_no": 34,
        "phone": "13812345678",
        "agent": {"id_number": agent, "name": AGENT_NAME, "relation": "child"},
    }
    response = backend.client.post(WORK_ORDERS, body, idempotency_key=key)
    assert response.status_code == 200, response.text
    return body, response.json()


def test_a_stored_answer_keeps_nothing_personal_in_clear_and_still_replays(backend):
    # GIVEN a work order filed by an agent: its receipt names the agent (masked) and carries
    # the application's number and queue number
    key = str(uuid.uuid4())
    _body, answer = _work_order(backend, key)
    assert answer["agent"]["name_masked"].startswith("欧")
    # WHEN the stored record is read straight from the database
    stored = bytes(_record(backend, key).response_body)
    # THEN none of the answer's values are there in clear
    for value in (
        answer["number"],
        answer["queue_no"],
        answer["agent"]["name_masked"],
        answer["agent"]["id_number_masked"],
    ):
        assert value.encode() not in stored, value
    assert b'"number"' not in stored
    # AND a retry with the same key still gets exactly the first answer (what the kiosk's
    # outbox needs to print the receipt: number, queue number, due date, masked agent)
    _body, replay = _work_order(backend, key)
    assert replay == answer


def test_the_request_hash_is_keyed_with_the_server_key(backend):
    key = str(uuid.uuid4())
    body, _answer = _work_order(backend, key)
    raw = json.dumps(body, ensure_ascii=False).encode()
    bare = hashlib.sha256(f"POST {WORK_ORDERS}".encode() + b"\n\n" + raw)
    stored = _record(backend, key).request_hash
    # a bare SHA-256 of the body could be matched against every plausible ID number offline
    assert stored != bare.hexdigest()
    keys = read_key_file(Path(backend.key_file))
    assert stored == keys.digest(REQUEST_HASH, bare.digest())


def _aged_record(connection, kiosk_id: str, key: str, path: str, age: dt.timedelta) -> None:
    connection.execute(
        text(
            "INSERT INTO idempotency_records (kiosk_id, key, request_hash, method_path, "
            "status_code, response_body, content_type, created_at) VALUES (:kiosk, :key, 'h', "
            ":method_path, 200, NULL, 'application/json', :at)"
        ),
        {
            "kiosk": kiosk_id,
            "key": key,
            "method_path": f"POST {path}",
            "at": dt.datetime.now(dt.UTC) - age,
        },
    )


def test_answers_are_kept_as_long_as_retries_need_and_no_longer(tmp_path):
    # GIVEN a fresh server (it purges on its first request) and stored answers of two kinds:
    # a work order (the kiosk's outbox may retry it days later) and a help call (answered
    # while the kiosk waits)
    url = f"sqlite:///{tmp_path / 'ttl.sqlite3'}"
    ages = {
        ("outbox-13d", WORK_ORDERS): dt.timedelta(days=13),
        ("outbox-15d", WORK_ORDERS): dt.timedelta(days=15),
        ("outbox-20d", WORK_ORDERS): dt.timedelta(days=20),
        ("direct-30m", f"{API}/help-requests"): dt.timedelta(minutes=30),
        ("direct-2h", f"{API}/help-requests"): dt.timedelta(hours=2),
    }
    with running_backend(url, seed_postings=5, seed_persons=5) as backend:
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                for (key, path), age in ages.items():
                    _aged_record(connection, backend.kiosk_id, key, path, age)
        finally:
            engine.dispose()
        # WHEN any signed request arrives
        assert backend.client.get(f"{API}/catalogue").status_code == 200
        # THEN an outbox answer is kept 14 days, any other one hour
        keys = {row.key for row in _query(backend, select(IdempotencyRecord.key))}
    assert keys & {key for key, _path in ages} == {"outbox-13d", "direct-30m"}


def test_every_path_the_kiosk_sends_through_its_outbox_is_marked_in_the_contract():
    from kiosk.domain.items import load_definitions
    from kiosk.services.api_models import PATH_TICKET_CLOSE, PATH_TICKETS

    definitions = load_definitions()
    outbox_paths = {PATH_TICKETS, PATH_TICKET_CLOSE, API + definitions.work_order.call.path}
    outbox_paths |= {
        API + item.call.path for item in definitions.items.values() if item.is_submission
    }
    contract = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))["paths"]
    marked = {path for path, ops in contract.items() if ops.get("post", {}).get("x-outbox")}
    assert outbox_paths == marked
