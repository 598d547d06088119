"""The public progress page tried as an attacker would (reference server over HTTP):
walking through numbers, guessing codes, telling existing numbers from missing ones by the
answer or its timing, path tricks into the signed API, and flooding. Plus the rate limiter
and the check-code key on their own."""

from __future__ import annotations

import secrets
import sqlite3

import pytest
import requests
from test_client_support import KIOSK_ID, start_reference_server

from kiosk_backend import check_codes
from kiosk_backend.check_codes import KEY_NAME, check_code, code_matches
from kiosk_backend.progress import MISS_LIMIT, NOT_FOUND_PAGE, PAGE_LIMIT, RateLimiter
from kiosk_backend.testing import SignedClient

NUMBER = "BJ20261205000001"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A platform with one application (a work order) and its check code."""
    directory = tmp_path_factory.mktemp("progress")
    server = start_reference_server(directory, seed=True)
    client = SignedClient(server.url, KIOSK_ID, server.secret.hex())
    qr = server.essc_code("ESSC-DEMO-RESIDENT-01")
    person = client.post("/api/v1/essc/verify", {"qr": qr}).json()
    booked = client.post(
        "/api/v1/work-orders",
        {"id_number": person["id_number"], "item_no": 34, "phone": "13812345678"},
        identity=person["identity"]["token"],
    )
    assert booked.status_code == 200, booked.text
    receipt = booked.json()
    yield server, receipt, person
    server.handle.stop()


def page(server, number: str, code: str | None, client: str = "") -> requests.Response:
    """GET the page; *client* poses as another address (uvicorn trusts X-Forwarded-For from
    127.0.0.1 only, as behind a local reverse proxy)."""
    params = {} if code is None else {"c": code}
    headers = {"X-Forwarded-For": client} if client else {}
    return requests.get(f"{server.url}/progress/{number}", params=params, headers=headers)


def test_the_right_code_opens_the_page_and_it_holds_nothing_personal(platform):
    server, receipt, person = platform
    assert receipt["check_code"] and receipt["due_basis"] == "on_acceptance"
    answer = page(server, receipt["number"], receipt["check_code"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    text = answer.text
    for shown in ("34 ", "待柜面办理", "受理后2个工作日内办结", receipt["queue_no"]):
        assert shown in text, shown
    for secret in (person["name"], person["id_number"], person["id_number"][-6:], "13812345678"):
        assert secret not in text
    assert 'name="viewport"' in text  # readable on a phone
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_wrong_missing_or_odd_codes_and_unknown_numbers_look_exactly_alike(platform):
    server, receipt, _person = platform
    number, code = receipt["number"], receipt["check_code"]
    tries = [
        (number, "a" * 16),  # exists, wrong code
        (number, code[:-1] + ("a" if code[-1] != "a" else "b")),  # one character off
        (number, None),  # no code
        (number, ""),
        (number, code.upper()),
        (number, code + "x"),
        (number[:-1] + "9", code),  # a neighbour with this receipt's code
        ("BJ20991231999999", "a" * 16),  # does not exist
        ("不存在", "码"),
        ("x" * 300, "y" * 300),
    ]
    answers = [page(server, n, c, client=f"10.0.0.{i}") for i, (n, c) in enumerate(tries)]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.text == NOT_FOUND_PAGE
    kept = ("content-type", "content-length", "cache-control", "referrer-policy")
    shapes = {tuple(answer.headers.get(h) for h in kept) for answer in answers}
    assert len(shapes) == 1


def test_a_valid_tag_for_a_missing_number_reveals_nothing_either(platform):
    server, _receipt, _person = platform
    with sqlite3.connect(server.db_path) as conn:
        (key,) = conn.execute(
            "select value from platform_secrets where name = ?", (KEY_NAME,)
        ).fetchone()
    missing = "BJ20991231000001"
    answer = page(server, missing, check_code(key, missing), client="10.0.1.1")
    assert answer.status_code == 404 and answer.text == NOT_FOUND_PAGE


def test_codes_are_compared_in_constant_time_before_any_lookup(platform, monkeypatch):
    server, receipt, _person = platform
    compared = []

    def spy(a, b):
        compared.append((len(a), len(b)))
        return secrets.compare_digest(a, b)

    monkeypatch.setattr(check_codes.hmac, "compare_digest", spy)
    page(server, receipt["number"], "z" * 16, client="10.0.2.1")
    page(server, "BJ20991231000002", "z" * 16, client="10.0.2.2")
    assert compared == [(16, 16), (16, 16)]  # the same work whether the number exists or not


def test_the_page_is_no_door_into_the_signed_api(platform):
    server, receipt, _person = platform
    code = receipt["check_code"]
    for path in (
        f"/progress/../api/v1/catalogue?c={code}",
        "/progress/%2e%2e/api/v1/catalogue",
        f"/progress/{receipt['number']}/../../api/v1/catalogue",
        "/progress/",
    ):
        answer = requests.get(server.url + path)
        assert answer.status_code in (401, 404), (path, answer.status_code)
        assert "items" not in answer.text
    assert requests.get(f"{server.url}/api/v1/catalogue").status_code == 401
    assert requests.post(f"{server.url}/progress/{receipt['number']}?c={code}").status_code in (
        401,
        405,
    )
    doc = requests.get(f"{server.url}/openapi.json").json()
    assert not [p for p in doc["paths"] if "progress" in p]


def test_walking_through_numbers_is_stopped_even_for_the_right_code(tmp_path):
    server = start_reference_server(tmp_path)
    try:
        with sqlite3.connect(server.db_path) as conn:
            (key,) = conn.execute(
                "select value from platform_secrets where name = ?", (KEY_NAME,)
            ).fetchone()
        misses, window = MISS_LIMIT
        for n in range(misses):
            assert page(server, f"BJ20261205{n:06d}", "a" * 16).status_code == 404
        blocked = page(server, "BJ20261205999999", check_code(key, "BJ20261205999999"))
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == "60"
        assert "查询过于频繁" in blocked.text
    finally:
        server.handle.stop()


def test_the_limiter_counts_per_client_and_forgets_after_its_window():
    now = [1000.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.exhausted("a") and not limiter.exhausted("b")
    assert limiter.hit("b")
    now[0] += 60.5
    assert not limiter.exhausted("a") and limiter.hit("a")
    assert PAGE_LIMIT[0] > MISS_LIMIT[0]  # a resident reloading is not an attacker


def test_check_codes_depend_on_the_key_and_the_whole_number():
    key, other = secrets.token_bytes(32), secrets.token_bytes(32)
    code = check_code(key, NUMBER)
    assert len(code) == 16 and code.isalnum() and code == code.lower()
    assert check_code(other, NUMBER) != code
    assert check_code(key, NUMBER[:-1] + "2") != code
    assert code_matches(key, NUMBER, code)
    assert not code_matches(key, NUMBER, code.upper())
    assert not code_matches(key, NUMBER, "ünïcödé" * 3)
