"""The signing middleware's header checks, tried as an attacker would over real HTTP.

Findings (issue 13): an unsigned request with ``X-Kiosk-Timestamp: 17²`` got 500 with a
traceback (``str.isdigit`` accepts superscripts) — and the kiosk's client read ``Retry-After``
the same way; up to 1 MB of body was read before the kiosk id and timestamp were checked. Here a caller who cannot be a principal is answered before it has
sent a byte of its body: the tests send the headers only and wait for the answer (the old server
waited for the body, so the read timed out).
"""

from __future__ import annotations

import http.client
import time
import uuid

import pytest
import requests
from test_client_support import scripted_server  # noqa: F401  (fixture)

from kiosk.services.backend_client import BackendClient
from kiosk_backend import signing
from kiosk_backend.testing import running_backend

HELP_CALLS = "/api/v1/help-requests"
DECLARED_BODY_BYTES = 900_000  # under the 1 MB limit: only the caller is wrong
WAIT_FOR_ANSWER_SECONDS = 30  # a deadlock guard: an answer that needs the body never comes


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('headers') / 'backend.sqlite3'}"
    with running_backend(url, seed_postings=20, seed_persons=10) as running:
        yield running


def _signed(backend, method, path, body=b"", **kw):
    return signing.signed_headers(
        backend.kiosk_id, bytes.fromhex(backend.secret_hex), method, path, "", body, **kw
    )


@pytest.mark.parametrize("timestamp", ["17²", "¹²³", "1700000000¹"])
def test_a_timestamp_of_unicode_digits_is_401_not_500(backend, timestamp):
    # GIVEN a timestamp of latin-1 superscripts (what an HTTP header can carry): digits to
    # str.isdigit, not to int()
    headers = _signed(backend, "GET", "/api/v1/catalogue")
    headers["X-Kiosk-Timestamp"] = timestamp
    # WHEN it is sent (requests encodes header values as latin-1, as a raw client would)
    response = requests.get(backend.url + "/api/v1/catalogue", headers=headers, timeout=30)
    # THEN it is refused as unauthenticated, with the contract's body
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def _headers_only(backend, headers: dict[str, str], declared: int) -> http.client.HTTPResponse:
    """POST with *headers* announcing *declared* body bytes, send none, return the answer."""
    host, port = backend.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_FOR_ANSWER_SECONDS)
    connection.putrequest("POST", HELP_CALLS)
    for name, value in {
        **headers,
        "Content-Type": "application/json",
        "Content-Length": str(declared),
        "Idempotency-Key": str(uuid.uuid4()),
    }.items():
        connection.putheader(name, value)
    connection.endheaders()  # the body never follows
    return connection.getresponse()


def _unknown_kiosk(backend):
    return signing.signed_headers("no-such-kiosk", b"k" * 32, "POST", HELP_CALLS, "", b"{}")


def _stale_timestamp(backend):
    return _signed(backend, "POST", HELP_CALLS, b"{}", timestamp=int(time.time()) - 3600)


@pytest.mark.parametrize("caller", [_unknown_kiosk, _stale_timestamp], ids=lambda f: f.__name__)
def test_a_caller_who_is_no_principal_is_refused_before_its_body_is_read(backend, caller):
    # GIVEN headers of an unknown kiosk (or a known one with a stale timestamp) announcing
    # 900 kB WHEN only the headers are sent THEN the answer comes at once: 401, body unread
    response = _headers_only(backend, caller(backend), DECLARED_BODY_BYTES)
    assert response.status == 401
    assert b'"unauthenticated"' in response.read()


def test_a_declared_body_over_the_limit_is_413_before_it_is_read(backend):
    # GIVEN a well-signed request (the signature cannot be checked without the body) that
    # declares 5 MB WHEN only the headers are sent THEN the size alone refuses it
    response = _headers_only(backend, _signed(backend, "POST", HELP_CALLS, b"{}"), 5_000_000)
    assert response.status == 413
    assert b'"payload_too_large"' in response.read()


def test_a_retry_after_of_unicode_digits_from_the_platform_is_not_a_crash(scripted_server):  # noqa: F811
    # GIVEN a platform (or something in its place) answering 503 with "Retry-After: ²"
    scripted_server.script[:] = [
        (503, {"code": "busy", "message": "忙"}, {"Retry-After": "²"}),
        (200, {"ok": True}, {}),
    ]
    delays: list[float] = []
    client = BackendClient(
        requests.Session(), scripted_server.url, "k1", b"s" * 32, sleep=delays.append
    )
    # WHEN the kiosk asks THEN it waits its own backoff instead and gets the retried answer
    assert client.get("/catalogue") == {"ok": True}
    assert delays == [0.3]
