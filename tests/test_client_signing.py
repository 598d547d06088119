"""Request signing: our signer against the reference server's verifier, over real HTTP."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from test_client_support import reference_server  # noqa: F401  (fixture)

from kiosk.services import signing
from kiosk.services.errors import BackendAuthError, BackendRejected

HEARTBEAT = "/api/v1/kiosks/heartbeat"
HEARTBEAT_BODY = {"version": "0.1.0", "paper_level": "ok", "outbox_depth": 0}


@given(
    method=st.sampled_from(["GET", "POST", "put", "delete"]),
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_-0123456789", min_size=1, max_size=40),
    query=st.text(alphabet="abc=&%2F0123456789", max_size=30),
    timestamp=st.integers(min_value=0, max_value=2**40),
    body=st.binary(max_size=200),
)
def test_canonical_request_and_signature_agree_with_the_server_definition(
    method, path, query, timestamp, body
):
    from kiosk_backend import signing as server_signing

    secret = b"k" * 32
    nonce = signing.new_nonce()
    target = "/" + path + ("?" + query if query else "")
    ours = signing.canonical_request(method, target, timestamp, nonce, body)
    theirs = server_signing.canonical_request(
        method, "/" + path, query, str(timestamp), nonce, body
    )
    assert ours == theirs
    sig = signing.signature(secret, ours)
    assert server_signing.signature_matches(
        secret, sig, method, "/" + path, query, str(timestamp), nonce, body
    )


def test_nonce_is_32_lowercase_hex_and_fresh():
    nonces = {signing.new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == 32 and n == n.lower() and int(n, 16) >= 0 for n in nonces)


def _raw_post(server, body: bytes, headers: dict[str, str]) -> requests.Response:
    all_headers = {
        "Content-Type": "application/json",
        signing.HEADER_IDEMPOTENCY_KEY: str(uuid.uuid4()),
        **headers,
    }
    return requests.post(server.url + HEARTBEAT, data=body, headers=all_headers, timeout=30)


def _signed(server, body: bytes, **kwargs) -> dict[str, str]:
    return signing.signed_headers(server.kiosk_id, server.secret, "POST", HEARTBEAT, body, **kwargs)


def test_a_correctly_signed_request_is_accepted(reference_server):  # noqa: F811
    body = json.dumps(HEARTBEAT_BODY).encode()
    response = _raw_post(reference_server, body, _signed(reference_server, body))
    assert response.status_code == 200, response.text


def test_client_calls_are_accepted_including_percent_encoded_chinese_queries(
    reference_server,  # noqa: F811
):
    """GIVEN a GET with a Chinese query string THEN the server checks the signature over the
    percent-encoded target and gets past authentication (404: no such route, not 401)."""
    client = reference_server.client()
    assert client.post_command("/kiosks/heartbeat", HEARTBEAT_BODY)["open_tickets"] == 0
    with pytest.raises(BackendRejected) as caught:
        client.get("/kiosks/no-such-thing", params={"q": "司机 电工", "page": 2})
    assert caught.value.status == 404
    assert not isinstance(caught.value, BackendAuthError)


def test_tampered_body_is_refused(reference_server):  # noqa: F811
    body = json.dumps(HEARTBEAT_BODY).encode()
    headers = _signed(reference_server, body)
    tampered = body.replace(b'"ok"', b'"out"')
    response = _raw_post(reference_server, tampered, headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_replayed_nonce_is_refused(reference_server):  # noqa: F811
    body = json.dumps(HEARTBEAT_BODY).encode()
    headers = _signed(reference_server, body)
    assert _raw_post(reference_server, body, headers).status_code == 200
    replay = _raw_post(reference_server, body, headers)
    assert replay.status_code == 401
    assert replay.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("age", [301, 3600, -400])
def test_timestamp_outside_five_minutes_is_refused(reference_server, age):  # noqa: F811
    body = json.dumps(HEARTBEAT_BODY).encode()
    headers = _signed(reference_server, body, timestamp=int(time.time()) - age)
    assert _raw_post(reference_server, body, headers).status_code == 401


def test_wrong_secret_unknown_kiosk_and_missing_headers_are_refused(
    reference_server,  # noqa: F811
):
    body = json.dumps(HEARTBEAT_BODY).encode()
    wrong = signing.signed_headers(reference_server.kiosk_id, b"w" * 32, "POST", HEARTBEAT, body)
    unknown = signing.signed_headers(
        "no-such-kiosk", reference_server.secret, "POST", HEARTBEAT, body
    )
    assert _raw_post(reference_server, body, wrong).status_code == 401
    assert _raw_post(reference_server, body, unknown).status_code == 401
    assert _raw_post(reference_server, body, {}).status_code == 401


def test_client_with_a_wrong_secret_raises_auth_error_with_a_chinese_message(
    reference_server,  # noqa: F811
):
    client = reference_server.client()
    client._secret = b"x" * 32  # the kiosk's secret no longer matches the provisioned one
    with pytest.raises(BackendAuthError) as caught:
        client.post_command("/kiosks/heartbeat", HEARTBEAT_BODY)
    assert caught.value.status == 401
    assert caught.value.retryable
    assert "认证" in caught.value.message


def test_client_resyncs_to_the_server_clock_when_its_own_is_far_off(
    reference_server,  # noqa: F811
):
    """GIVEN a kiosk whose clock is 20 minutes slow WHEN it calls THEN the first attempt is
    refused, the client adopts the server's Date and the freshly signed retry succeeds."""
    client = reference_server.client(clock=lambda: time.time() - 1200)
    assert client.post_command("/kiosks/heartbeat", HEARTBEAT_BODY)["open_tickets"] == 0


def test_secret_file_is_created_0600_and_never_overwritten(tmp_path):
    path = tmp_path / "device.secret"
    secret = signing.create_secret_file(path)
    assert len(secret) == signing.SECRET_BYTES
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert signing.load_secret(path) == secret
    with pytest.raises(FileExistsError):
        signing.create_secret_file(path)


@pytest.mark.parametrize(
    ("content", "mode", "reason"),
    [
        ("ab" * 32, 0o644, "0600"),
        ("not hex at all", 0o600, "not hex"),
        ("abcd", 0o600, "shorter"),
    ],
)
def test_bad_secret_files_are_refused_with_the_reason(tmp_path, content, mode, reason):
    path = tmp_path / "device.secret"
    path.write_text(content)
    path.chmod(mode)
    with pytest.raises(signing.SecretFileError, match=reason):
        signing.load_secret(path)


def test_missing_secret_file_says_so(tmp_path):
    with pytest.raises(signing.SecretFileError, match="not found"):
        signing.load_secret(tmp_path / "absent.secret")
