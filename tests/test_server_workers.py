"""Several server processes on one PostgreSQL database keep the contract's guarantees.

Two single-worker servers (A and B) run beside a ``kiosk backend serve --workers 2`` (C) on
one scratch database. Requests aimed at A and B are certain to be handled by two different
processes, each with its own connection pool; C proves the real multi-worker command. Every
race starts from a barrier so the requests are in flight together; the residents are identified
(identity tokens) before it, so the race is the filing itself. The tests identify more persons
through one kiosk than the platform's default limit: the servers run with TEST_PERSON_LIMIT.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select, text

from kiosk.domain.identity import build_id_number
from kiosk_backend.app import prepare_database
from kiosk_backend.db import make_engine, make_session_factory
from kiosk_backend.housekeeping import take_turn
from kiosk_backend.models import Application, IdempotencyRecord
from kiosk_backend.provision import add_kiosk, new_secret_hex
from kiosk_backend.settings import ServerSettings
from kiosk_backend.testing import (
    TEST_PERSON_LIMIT,
    SignedClient,
    scratch_postgres_database,
    served_process,
    server_key_environment,
)

PG_URL = os.environ.get("KIOSK_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="KIOSK_TEST_PG_URL not set"),
]

KIOSK_ID = "workers-kiosk-01"
SERVICE_POINT = "沁源县郭道镇测试服务点"
COUNTER_ITEM = 38  # 社会保障卡申领: a counter-only item without conditions


class Fleet:
    """The three servers and one kiosk's credentials."""

    def __init__(self, db_url: str, secret: str, a, b, c) -> None:
        self.db_url = db_url
        self.secret = secret
        self.a, self.b, self.c = a, b, c

    def client(self, server) -> SignedClient:
        return SignedClient(server.url, KIOSK_ID, self.secret)


@pytest.fixture(scope="module")
def fleet():
    with scratch_postgres_database(PG_URL) as db_url, server_key_environment(db_url):
        prepare_database(
            ServerSettings(db_url=db_url, seed_demo=True, seed_postings=200, seed_persons=30)
        )
        secret = new_secret_hex()
        add_kiosk(db_url, KIOSK_ID, secret, SERVICE_POINT, region_code="140431")
        limit = ("--person-limit", str(TEST_PERSON_LIMIT))
        with (
            served_process(db_url, extra_args=limit) as a,
            served_process(db_url, extra_args=limit) as b,
            served_process(db_url, workers=2, extra_args=limit) as c,
        ):
            yield Fleet(db_url, secret, a, b, c)


def _sessions(db_url: str):
    engine = make_engine(db_url)
    return engine, make_session_factory(engine)


def _race(calls):
    """Run every zero-argument callable at once (after a barrier); return their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


_next_person = iter(range(1, 10_000))


def _work_order(note: str) -> dict:
    """A 预约柜台办理 of a new resident (each call a different person)."""
    n = next(_next_person)
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=n)
    return {
        "id_number": build_id_number("140431", birth, 101 + 2 * (n % 400)),
        "name": "测试居民",
        "item_no": COUNTER_ITEM,
        "phone": "13900000000",
        "note": note,
    }


def _retry_in_progress(
    client: SignedClient, body: dict, key: str, response: requests.Response, token: str
):
    """A 503 request_in_progress is retried (as the kiosk's outbox does) until answered."""
    for _attempt in range(50):
        if response.status_code != 503:
            return response
        assert response.json()["code"] == "request_in_progress"
        threading.Event().wait(0.2)
        response = client.post(
            "/api/v1/work-orders", json=body, idempotency_key=key, identity=token
        )
    return response


def test_serve_workers_runs_that_many_processes_answering_signed_requests(fleet):
    assert len(fleet.c.worker_pids()) == 2
    assert fleet.c.process.pid not in fleet.c.worker_pids()
    jobs = fleet.client(fleet.c).get("/api/v1/jobs", params={"q": "司机"})
    assert jobs.status_code == 200 and jobs.json()["total"] > 0
    assert requests.get(fleet.c.url + "/api/v1/jobs", timeout=10).status_code == 401


def test_an_idempotent_post_sent_at_once_to_two_workers_runs_once(fleet):
    """GIVEN one work order and one Idempotency-Key, WHEN it is sent 8 times at once (4 to each
    of two server processes, each send freshly signed), THEN exactly one application exists
    and every answer carries its number."""
    note = f"race-{uuid.uuid4().hex[:12]}"
    body = _work_order(note)
    key = str(uuid.uuid4())
    token = fleet.client(fleet.a).identify(body["id_number"])  # one resident, one session
    clients = [fleet.client(fleet.a), fleet.client(fleet.b)] * 4
    responses = _race(
        [
            lambda c=c: c.post(
                "/api/v1/work-orders", json=body, idempotency_key=key, identity=token
            )
            for c in clients
        ]
    )
    assert {r.status_code for r in responses} <= {200, 503}
    answered = [
        _retry_in_progress(c, body, key, r, token) for c, r in zip(clients, responses, strict=True)
    ]
    assert [r.status_code for r in answered] == [200] * 8
    numbers = {r.json()["number"] for r in answered}
    assert len(numbers) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answered) == 7
    engine, sessions = _sessions(fleet.db_url)
    try:
        with sessions() as session:
            rows = session.scalars(
                select(Application.number).where(Application.details["note"].as_string() == note)
            ).all()
            assert rows == [numbers.pop()]
            assert session.get(IdempotencyRecord, (KIOSK_ID, key)).status_code == 200
    finally:
        engine.dispose()


def test_a_nonce_is_spent_once_across_workers(fleet):
    """The same signed GET (same nonce, timestamp, signature) sent at once to every server:
    one is answered, every other copy is refused as a replay."""
    from kiosk_backend.signing import signed_headers

    headers = signed_headers(KIOSK_ID, bytes.fromhex(fleet.secret), "GET", "/api/v1/places")
    urls = [fleet.a.url, fleet.b.url, fleet.c.url] * 3
    responses = _race(
        [lambda u=u: requests.get(u + "/api/v1/places", headers=headers, timeout=30) for u in urls]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 8
    refused = [r.json()["code"] for r in responses if r.status_code == 401]
    assert refused == ["unauthenticated"] * 8


def test_application_and_queue_numbers_stay_unique_under_concurrent_filing(fleet):
    """30 work orders of one service point filed at once through three servers: 30 distinct
    application numbers and a gapless run of 30 queue numbers."""
    engine, sessions = _sessions(fleet.db_url)
    try:
        with sessions() as session:
            before = session.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.queue_no.isnot(None))
            )
        servers = [fleet.a, fleet.b, fleet.c] * 10
        marker = uuid.uuid4().hex[:10]
        bodies = [_work_order(f"num-{marker}-{i}") for i in range(len(servers))]
        tokens = [
            fleet.client(s).identify(b["id_number"]) for s, b in zip(servers, bodies, strict=True)
        ]
        responses = _race(
            [
                lambda s=s, b=b, t=t: fleet.client(s).post(
                    "/api/v1/work-orders", json=b, identity=t
                )
                for s, b, t in zip(servers, bodies, tokens, strict=True)
            ]
        )
        assert [r.status_code for r in responses] == [200] * 30
        numbers = [r.json()["number"] for r in responses]
        queue = sorted(int(r.json()["queue_no"][1:]) for r in responses)
        assert len(set(numbers)) == 30
        assert queue == list(range(before + 1, before + 31))
        with sessions() as session:
            stored = session.scalars(
                select(Application.number).where(
                    Application.details["note"].as_string().like(f"num-{marker}-%")
                )
            ).all()
        assert sorted(stored) == sorted(numbers)
    finally:
        engine.dispose()


def test_ticket_numbers_are_unique_and_one_fault_opens_one_ticket_under_concurrency(fleet):
    """20 problem reports at once get 20 distinct ticket numbers; the same device fault sent
    at once with 6 different client references opens exactly one ticket."""
    servers = [fleet.a, fleet.b, fleet.c]
    reports = [
        {
            "client_ref": uuid.uuid4().hex,
            "kind": "problem_report",
            "category": "guidance",
            "reporter": "operator",
            "description": f"并发测试问题 {i}",
        }
        for i in range(20)
    ]
    responses = _race(
        [
            lambda i=i, r=r: fleet.client(servers[i % 3]).post("/api/v1/ledger/tickets", json=r)
            for i, r in enumerate(reports)
        ]
    )
    assert [r.status_code for r in responses] == [200] * 20
    numbers = {r.json()["number"] for r in responses}
    assert len(numbers) == 20 and all(n.startswith("WT") for n in numbers)

    fault = uuid.uuid4().hex[:8]
    opens = [
        {
            "client_ref": uuid.uuid4().hex,
            "kind": "device_fault",
            "category": "device",
            "reporter": "kiosk",
            "fault_key": "printer.paper_end",
            "description": f"paper_end {fault}",
        }
        for _ in range(6)
    ]
    responses = _race(
        [
            lambda i=i, o=o: fleet.client(servers[i % 3]).post("/api/v1/ledger/tickets", json=o)
            for i, o in enumerate(opens)
        ]
    )
    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.json()["id"] for r in responses}) == 1


def test_one_worker_takes_each_housekeeping_turn(fleet):
    """Eight sessions ask for the purge turn at the same instant: exactly one gets it."""
    engine = make_engine(fleet.db_url)
    sessions = make_session_factory(engine)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # past any turn taken by requests

    def ask():
        with sessions() as session:
            return take_turn(session, "purge-test", 60, now)

    try:
        assert sorted(_race([ask] * 8)) == [False] * 7 + [True]
        assert sorted(_race([ask] * 8)) == [False] * 8, "the turn is not due again yet"
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT count(*) FROM housekeeping_turns WHERE job = 'purge-test'")
            ).scalar()
        assert rows == 1
    finally:
        engine.dispose()
