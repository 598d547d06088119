"""An overloaded platform says so: when no database connection frees up within the pool's
timeout (sqlalchemy.exc.TimeoutError), the server answers 503 ``server_busy`` with Retry-After
and a Chinese message — not 500 — whether the wait happened in the signing middleware or in a
route, and the kiosk's client waits as told and gets its answer once a connection is free.

Provoked through the real server on 127.0.0.1: a pool of one connection with a short timeout,
that one connection held by the test."""

from __future__ import annotations

import contextlib

import pytest
import requests

from kiosk.services.backend_client import BackendClient
from kiosk_backend.app import create_app
from kiosk_backend.check_codes import check_code
from kiosk_backend.errors import OVERLOAD_RETRY_AFTER_SECONDS
from kiosk_backend.provision import new_secret_hex
from kiosk_backend.server import serve_in_thread
from kiosk_backend.settings import DEMO_KIOSK_ID, ServerSettings
from kiosk_backend.testing import SignedClient

BUSY = {"code": "server_busy", "message": "服务繁忙，请稍后再试"}


@pytest.fixture(scope="module")
def tiny_pool_server(tmp_path_factory):
    """(app, url, demo kiosk secret) of a server whose pool holds one connection, waited for
    0.5 s at most."""
    secret = new_secret_hex()
    db = tmp_path_factory.mktemp("overload") / "platform.sqlite3"
    app = create_app(
        ServerSettings(
            db_url=f"sqlite:///{db}",
            seed_demo=True,
            demo_kiosk_secret_hex=secret,
            seed_postings=20,
            seed_persons=10,
            db_pool_size=1,
            db_pool_timeout_seconds=0.5,
        )
    )
    handle = serve_in_thread(app)
    try:
        yield app, handle.url, secret
    finally:
        handle.stop()


@contextlib.contextmanager
def every_connection_held(app):
    connection = app.state.engine.connect()
    try:
        yield connection
    finally:
        connection.close()


def test_a_signed_request_waiting_in_the_middleware_is_answered_503_busy(tiny_pool_server):
    app, url, secret = tiny_pool_server
    client = SignedClient(url, DEMO_KIOSK_ID, secret, timeout=10)
    with every_connection_held(app):
        busy = client.request("GET", "/api/v1/jobs", params={"page_size": 1})
        busy_post = client.request(
            "POST", "/api/v1/heartbeat", json={"version": "t", "devices": [], "paper": "ok"}
        )
    for answer in (busy, busy_post):
        assert answer.status_code == 503, answer.text
        assert answer.json() == BUSY
        assert answer.headers["Retry-After"] == str(OVERLOAD_RETRY_AFTER_SECONDS)
    # The pool is free again: the same kind of request is served.
    served = client.request("GET", "/api/v1/jobs", params={"page_size": 1})
    assert served.status_code == 200, served.text


def test_a_route_waiting_for_a_connection_is_answered_503_busy(tiny_pool_server):
    app, url, _secret = tiny_pool_server
    number = "NOSUCH0001"
    page = f"{url}/progress/{number}?c={check_code(app.state.progress_key, number)}"
    with every_connection_held(app):
        busy = requests.get(page, timeout=10)  # an unsigned public page: the route's own wait
    assert busy.status_code == 503, busy.text
    assert busy.json() == BUSY
    assert busy.headers["Retry-After"] == str(OVERLOAD_RETRY_AFTER_SECONDS)
    assert requests.get(page, timeout=10).status_code == 404  # looked up once a connection frees


def test_the_kiosk_client_waits_retry_after_then_gets_its_answer(tiny_pool_server):
    app, url, secret = tiny_pool_server
    held = app.state.engine.connect()
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the kiosk waits as told; meanwhile the load drains
        waits.append(seconds)
        held.close()

    client = BackendClient(
        requests.Session(), url, DEMO_KIOSK_ID, bytes.fromhex(secret), sleep=sleep
    )
    try:
        page = client.get("/api/v1/jobs", params={"page_size": 1})
    finally:
        held.close()
    assert waits == [float(OVERLOAD_RETRY_AFTER_SECONDS)]
    assert page["page_size"] == 1
