"""Request signing, replay protection and idempotency of the reference server, over real HTTP."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

import pytest
import requests

from kiosk_backend import signing
from kiosk_backend.testing import running_backend, scratch_postgres_database

REGISTER = "/api/v1/kiosks/register"
ANNOUNCE = {"version": "0.1.0", "service_point": "沁河镇城关社区服务点", "region_code": "140431"}
# Any creating POST shows the contract; a help call creates one row per request (nothing on the
# server would hide a double creation, unlike the ledger's own client_ref de-duplication).
CALLS = "/api/v1/help-requests"
CALL = {"screen": "item_form", "item_no": 23}


def _calls_with_id(backend, call_id: int) -> int:
    """How many help calls with *call_id* the server's database holds."""
    from sqlalchemy import func, select

    from kiosk_backend.db import make_engine
    from kiosk_backend.models import HelpRequest

    engine = make_engine(backend.db_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(HelpRequest).where(HelpRequest.id == call_id)
            return connection.scalar(query)
    finally:
        engine.dispose()


def _db_params():
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@pytest.fixture(scope="module", params=_db_params())
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sec') / 'backend.sqlite3'}"
        with running_backend(url, seed_postings=50, seed_persons=20) as running:
            yield running
    else:
        pg_url = os.environ["KIOSK_TEST_PG_URL"]
        with (
            scratch_postgres_database(pg_url) as url,
            running_backend(url, seed_postings=50, seed_persons=20) as running,
        ):
            yield running


def _raw_post(backend, path, body: bytes, headers: dict[str, str]):
    return requests.post(backend.url + path, data=body, headers=headers, timeout=30)


def _signed(backend, method, path, body=b"", *, query="", secret=None, kiosk_id=None, **kw):
    secret_bytes = bytes.fromhex(secret or backend.secret_hex)
    return signing.signed_headers(
        kiosk_id or backend.kiosk_id, secret_bytes, method, path, query, body, **kw
    )


def test_health_and_openapi_need_no_signature(backend):
    assert requests.get(backend.url + "/api/v1/health", timeout=30).json()["status"] == "ok"
    doc = requests.get(backend.url + "/openapi.json", timeout=30)
    assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")


def test_signed_request_is_accepted(backend):
    response = backend.client.post(REGISTER, ANNOUNCE)
    assert response.status_code == 200, response.text
    assert response.json()["kiosk_id"] == backend.kiosk_id


@pytest.mark.parametrize(
    "drop", ["X-Kiosk-Id", "X-Kiosk-Timestamp", "X-Kiosk-Nonce", "X-Kiosk-Signature"]
)
def test_missing_signature_header_is_401(backend, drop):
    headers = _signed(backend, "GET", "/api/v1/catalogue")
    del headers[drop]
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.json()["message"]


def test_unknown_kiosk_is_401(backend):
    headers = _signed(backend, "GET", "/api/v1/catalogue", kiosk_id="no-such-kiosk")
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert response.status_code == 401


def test_wrong_secret_is_401(backend):
    headers = _signed(backend, "GET", "/api/v1/catalogue", secret="00" * 32)
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert response.status_code == 401


def test_signature_covers_query_and_body(backend):
    # GIVEN a signature made for page=1 WHEN the query says page=2 THEN it is rejected
    headers = _signed(backend, "GET", "/api/v1/jobs", query="page=1")
    response = requests.get(backend.url + "/api/v1/jobs?page=2", headers=headers, timeout=30)
    assert response.status_code == 401
    # GIVEN a body signed WHEN another body is sent THEN it is rejected
    body = json.dumps(CALL).encode()
    headers = _signed(backend, "POST", CALLS, body)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    tampered = json.dumps({**CALL, "screen": "home"}).encode()
    assert _raw_post(backend, CALLS, tampered, headers).status_code == 401


def test_percent_encoded_query_is_signed_as_sent(backend):
    query = "q=%E5%8F%B8%E6%9C%BA&page_size=1"
    headers = _signed(backend, "GET", "/api/v1/jobs", query=query)
    response = requests.get(f"{backend.url}/api/v1/jobs?{query}", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["total"] >= 0


@pytest.mark.parametrize("skew", [-301, 301, -100_000])
def test_stale_or_future_timestamp_is_401(backend, skew):
    headers = _signed(backend, "GET", "/api/v1/catalogue", timestamp=int(time.time()) + skew)
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "field,value",
    [
        ("X-Kiosk-Timestamp", "12.5"),
        ("X-Kiosk-Timestamp", "-5"),
        ("X-Kiosk-Nonce", "ABCDEF" * 5 + "00"),
        ("X-Kiosk-Nonce", "00"),
        ("X-Kiosk-Signature", "zz" * 32),
    ],
)
def test_malformed_signature_headers_are_401(backend, field, value):
    headers = _signed(backend, "GET", "/api/v1/catalogue")
    headers[field] = value
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert response.status_code == 401


def test_replayed_nonce_is_401(backend):
    headers = _signed(backend, "GET", "/api/v1/catalogue")
    first = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    again = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    assert first.status_code == 200
    assert again.status_code == 401


def test_bad_signature_is_rejected_before_the_body_is_parsed(backend):
    # GIVEN a body that is not JSON at all and a wrong signature
    body = b"{not json"
    headers = _signed(backend, "POST", CALLS, b"something else")
    headers["Idempotency-Key"] = str(uuid.uuid4())
    headers["Content-Type"] = "application/json"
    # THEN the answer is 401 (authentication), not 422 (parsing)
    assert _raw_post(backend, CALLS, body, headers).status_code == 401


def test_signed_but_malformed_json_is_422_with_chinese_message(backend):
    body = b"{not json"
    headers = _signed(backend, "POST", CALLS, body)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    headers["Content-Type"] = "application/json"
    response = _raw_post(backend, CALLS, body, headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_field"
    assert "JSON" in response.json()["message"]


def test_post_without_idempotency_key_is_400(backend):
    body = json.dumps(CALL).encode()
    headers = _signed(backend, "POST", CALLS, body)
    headers["Content-Type"] = "application/json"
    response = _raw_post(backend, CALLS, body, headers)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    headers = _signed(backend, "POST", CALLS, body)
    headers.update({"Content-Type": "application/json", "Idempotency-Key": "not-a-uuid"})
    assert _raw_post(backend, CALLS, body, headers).status_code == 400


def test_repeated_idempotency_key_returns_the_first_answer(backend):
    key = str(uuid.uuid4())
    first = backend.client.post(CALLS, CALL, idempotency_key=key)
    again = backend.client.post(CALLS, CALL, idempotency_key=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _calls_with_id(backend, first.json()["id"]) == 1


def test_idempotency_key_is_per_kiosk(backend):
    """Two kiosks may pick the same key; each gets its own answer."""
    from kiosk_backend.provision import add_kiosk, new_secret_hex

    secret = new_secret_hex()
    add_kiosk(
        backend.db_url,
        "kiosk-other-0002",
        secret,
        region_code="140431",
        key_file=backend.key_file,
    )
    other = backend.client_for("kiosk-other-0002", secret)
    key = str(uuid.uuid4())
    mine = backend.client.post(CALLS, CALL, idempotency_key=key)
    theirs = other.post(CALLS, CALL, idempotency_key=key)
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["id"] != theirs.json()["id"]


def test_same_key_with_different_body_is_409(backend):
    key = str(uuid.uuid4())
    assert backend.client.post(CALLS, CALL, idempotency_key=key).status_code == 200
    other = {**CALL, "item_no": 22}
    response = backend.client.post(CALLS, other, idempotency_key=key)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_rejections_are_stored_too(backend):
    """A 4xx answer is the first answer as well: the repeat gets the same 422."""
    key = str(uuid.uuid4())
    bad = {**CALL, "screen": "不是屏幕"}
    first = backend.client.post(CALLS, bad, idempotency_key=key)
    again = backend.client.post(CALLS, bad, idempotency_key=key)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()


def test_concurrent_repeats_create_one_ticket(backend):
    key = str(uuid.uuid4())
    results: list[requests.Response] = []
    lock = threading.Lock()

    def send():
        response = backend.client.post(CALLS, CALL, idempotency_key=key)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ok = [r for r in results if r.status_code == 200]
    assert ok, [r.text for r in results]
    assert all(r.status_code in (200, 503) for r in results)
    assert len({r.json()["id"] for r in ok}) == 1
    # a retry after the dust settles gets the stored answer
    final = backend.client.post(CALLS, CALL, idempotency_key=key)
    assert final.status_code == 200 and final.json()["id"] == ok[0].json()["id"]


def test_oversized_body_is_413(backend):
    body = b"{" + b" " * 1_100_000 + b"}"
    headers = _signed(backend, "POST", CALLS, body)
    headers.update({"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
    assert _raw_post(backend, CALLS, body, headers).status_code == 413


def test_answer_survives_a_crash_between_commit_and_store(backend, monkeypatch):
    """GIVEN the server "dies" after the route committed but before the middleware stored the
    answer (simulated by making the store a no-op) WHEN the kiosk retries with the same key
    THEN it gets the first answer and nothing was created twice."""
    from kiosk_backend.security import SignedRequestMiddleware

    monkeypatch.setattr(SignedRequestMiddleware, "_store", lambda *args, **kwargs: None)
    key = str(uuid.uuid4())
    first = backend.client.post(CALLS, CALL, idempotency_key=key)
    again = backend.client.post(CALLS, CALL, idempotency_key=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert _calls_with_id(backend, first.json()["id"]) == 1


def test_expired_nonces_and_old_answers_are_purged(tmp_path):
    import datetime as dt

    from kiosk_backend.db import make_engine, make_session_factory, migrate
    from kiosk_backend.models import IdempotencyRecord, SeenNonce
    from kiosk_backend.security import SignedRequestMiddleware
    from kiosk_backend.server_keys import ServerKeys

    engine = make_engine(f"sqlite:///{tmp_path / 'purge.sqlite3'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    now = time.time()
    at = lambda seconds: dt.datetime.fromtimestamp(now + seconds, dt.UTC)  # noqa: E731
    with sessions() as session:
        session.add_all(
            [
                SeenNonce(kiosk_id="k", nonce="a" * 32, expires_at=at(-1)),
                SeenNonce(kiosk_id="k", nonce="b" * 32, expires_at=at(+60)),
                IdempotencyRecord(
                    kiosk_id="k",
                    key="old",
                    request_hash="h",
                    method_path="POST /x",
                    status_code=200,
                    created_at=at(-31 * 86400),
                ),
                IdempotencyRecord(
                    kiosk_id="k",
                    key="new",
                    request_hash="h",
                    method_path="POST /x",
                    status_code=200,
                    created_at=at(-1),
                ),
            ]
        )
        session.commit()
        middleware = SignedRequestMiddleware(
            None,
            sessions=sessions,
            keys=ServerKeys.generate(),
            outbox_answer_ttl_seconds=30 * 86400,
        )
        middleware._maybe_purge(session, now)
        assert [n.nonce for n in session.query(SeenNonce)] == ["b" * 32]
        assert [r.key for r in session.query(IdempotencyRecord)] == ["new"]
    engine.dispose()
