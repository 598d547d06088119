"""The client's behaviour on the wire: timeouts, retries, error mapping, TLS verification."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_client_support import (  # noqa: F401  (fixtures)
    free_port,
    reference_server,
    scripted_server,
    silent_server,
)

from kiosk.services.backend_client import BackendClient
from kiosk.services.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
)

SECRET = b"s" * 32


def _client(url: str, **kwargs) -> BackendClient:
    kwargs.setdefault("sleep", lambda _s: None)
    return BackendClient(requests.Session(), url, "k1", SECRET, **kwargs)


def test_a_server_that_never_answers_gives_unavailable_within_the_read_timeout(
    silent_server,  # noqa: F811
):
    client = _client(silent_server, connect_timeout=2.0, read_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        client.get("/catalogue")
    elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert elapsed < 30  # one read timeout (1 s), not retried; generous for a loaded machine
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        client.post_submission("/applications", {"a": 1}, "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    assert time.monotonic() - started < 30


def test_connection_refused_is_unavailable():
    client = _client(f"http://127.0.0.1:{free_port()}", connect_timeout=1.0)
    with pytest.raises(BackendUnavailable) as caught:
        client.get("/health")
    assert caught.value.code == "connection_failed"
    assert "网络" in caught.value.message


def test_gets_are_retried_on_503_with_a_fresh_signature_each_time(scripted_server):  # noqa: F811
    scripted_server.script[:] = [
        (503, {"code": "busy", "message": "忙"}, {"Retry-After": "1"}),
        (502, b"bad gateway", {}),
        (200, {"ok": True}, {}),
    ]
    assert _client(scripted_server.url).get("/catalogue") == {"ok": True}
    assert len(scripted_server.received) == 3
    nonces = {headers["X-Kiosk-Nonce"] for _m, _p, headers, _b in scripted_server.received}
    assert len(nonces) == 3


def test_read_only_post_queries_are_retried_with_the_same_idempotency_key(
    scripted_server,  # noqa: F811
):
    scripted_server.script[:] = [(503, {}, {}), (200, {"records": []}, {})]
    answer = _client(scripted_server.url).post_query("/persons/records/query", {"id_number": "x"})
    assert answer == {"records": []}
    keys = {headers["Idempotency-Key"] for _m, _p, headers, _b in scripted_server.received}
    assert len(scripted_server.received) == 2 and len(keys) == 1


def test_submissions_are_never_retried_by_the_client(scripted_server):  # noqa: F811
    scripted_server.script[:] = [(503, {"code": "busy", "message": "忙"}, {}), (200, {}, {})]
    key = "6f1c1e8e-7a0e-4d57-9b53-3d6f2b8f0a11"
    with pytest.raises(BackendServerError) as caught:
        _client(scripted_server.url).post_submission("/applications", {"n": 1}, key)
    assert caught.value.status == 503
    assert len(scripted_server.received) == 1
    assert scripted_server.received[0][2]["Idempotency-Key"] == key


def test_retries_give_up_after_the_configured_count(scripted_server):  # noqa: F811
    scripted_server.script[:] = [(504, b"", {})]
    with pytest.raises(BackendServerError):
        _client(scripted_server.url, status_retries=2).get("/catalogue")
    assert len(scripted_server.received) == 3


def test_urllib3_retry_is_mounted_for_idempotent_calls_only():
    session = requests.Session()
    client = BackendClient(session, "https://platform.example", "k1", SECRET, connect_retries=3)
    adapter = session.get_adapter("https://platform.example/api/v1/catalogue")
    assert adapter is client.adapter
    assert adapter.retrying.max_retries.connect == 3
    assert adapter.retrying.max_retries.read is False  # a read may have reached the server
    assert adapter.single.max_retries.total == 0
    # other hosts on the same session are left alone
    assert session.get_adapter("https://elsewhere.example/") is not client.adapter


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            {"code": "bad", "message": "身份证号码格式不正确", "field": "id_number"},
            BackendRejected,
            "bad",
        ),
        (404, b"<html>not found</html>", BackendRejected, "http_404"),
        (
            409,
            {"code": "idempotency_key_reused", "message": "重复"},
            BackendRejected,
            "idempotency_key_reused",
        ),
        (
            500,
            {"code": "server_error", "message": "服务器内部错误"},
            BackendServerError,
            "server_error",
        ),
        (200, b"this is not json", BackendProtocolError, "not_json"),
        (302, b"", BackendProtocolError, "unexpected_redirect"),
    ],
)
def test_answers_map_onto_the_error_tree(scripted_server, status, body, error, code):  # noqa: F811
    scripted_server.script[:] = [(status, body, {"Location": "http://x/"} if status == 302 else {})]
    with pytest.raises(error) as caught:
        _client(scripted_server.url, status_retries=0).get("/catalogue")
    assert caught.value.code == code
    assert isinstance(caught.value, BackendError)
    assert caught.value.message  # always something to show
    if status == 400:
        assert caught.value.field == "id_number"
        assert caught.value.message == "身份证号码格式不正确"


def test_validation_errors_of_the_reference_server_name_the_field_in_chinese(
    reference_server,  # noqa: F811
):
    with pytest.raises(BackendRejected) as caught:
        reference_server.client().post_command("/kiosks/heartbeat", {"version": ""})
    assert caught.value.status == 422
    assert caught.value.field == "version"
    assert caught.value.message


def test_a_submission_that_must_be_an_object_but_is_not_is_a_protocol_error(
    scripted_server,  # noqa: F811
):
    scripted_server.script[:] = [(200, [1, 2], {})]
    with pytest.raises(BackendProtocolError):
        _client(scripted_server.url).post_submission(
            "/applications", {}, "6f1c1e8e-7a0e-4d57-9b53-3d6f2b8f0a12"
        )


# --- TLS -----------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; yields (url, ca_path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "cert.pem"
    key_path = tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", str(cert_path)
    httpd.shutdown()
    httpd.server_close()


def test_tls_is_verified_by_default_and_an_unknown_certificate_is_refused(tls_server):
    url, _ca = tls_server
    with pytest.raises(BackendUnavailable) as caught:
        _client(url, connect_retries=0).get("/health")
    assert caught.value.code == "tls_error"


def test_a_configured_ca_bundle_is_trusted(tls_server):
    url, ca = tls_server
    assert _client(url, ca_bundle=ca).get("/health") == {"ok": True}


def test_a_base_url_given_with_the_api_prefix_is_not_doubled(scripted_server):  # noqa: F811
    scripted_server.script[:] = [(200, {"items": []}, {})]
    _client(scripted_server.url + "/api/v1/").get("/catalogue")
    _client(scripted_server.url).get("/api/v1/catalogue")
    assert [p for _m, p, _h, _b in scripted_server.received] == ["/api/v1/catalogue"] * 2
