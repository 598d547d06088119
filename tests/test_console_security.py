"""The console tried the way an attacker would, over real HTTP on 127.0.0.1: every POST needs
its CSRF token, kiosk credentials and console sessions never open each other's endpoints,
region scoping holds for a hand-typed URL, idle sessions end, failed sign-ins are limited in
the database, personal data stays out of URLs, cookies carry the right flags."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from fastapi.routing import APIRoute
from sqlalchemy import select

from kiosk_backend.db import make_engine, make_session_factory
from kiosk_backend.models import Application, Kiosk, Operator
from kiosk_backend.provision import add_kiosk, new_secret_hex
from kiosk_backend.staff import credentials
from kiosk_backend.staff_models import AuditEntry, ConsoleSession, SigninThrottle
from kiosk_backend.testing import running_backend

COUNTER = "ESSC-DEMO-OPERATOR-08"
VENDOR = "ESSC-DEMO-OPERATOR-03"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('console-sec') / 'platform.sqlite3'}"
    with running_backend(url, seed_postings=100, seed_persons=40) as running:
        yield running


@pytest.fixture(scope="module")
def db(backend):
    engine = make_engine(backend.db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(backend, code: str) -> tuple[requests.Session, str]:
    """A browser-like session signed in with *code*; returns it and its CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{backend.url}/console/signin")
    answer = browser.post(
        f"{backend.url}/console/signin/essc", data={"csrf": _csrf(page.text), "code": code}
    )
    assert answer.status_code == 200 and answer.url.endswith("/console/"), answer.text[:300]
    return browser, _csrf(answer.text)


def _console_posts() -> list[str]:
    from kiosk_backend.console import PREFIX, ROUTERS

    return [
        PREFIX + route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]


def test_every_console_post_refuses_a_missing_or_wrong_csrf_token(backend, db):
    paths = _console_posts()
    assert len(paths) >= 15
    browser, _token = signed_in(backend, COUNTER)
    fill = {
        "{number}": "BJ20260101000001",
        "{ticket_id}": "1",
        "{help_id}": "1",
        "{account}": "qyhe-op-001",
        "{month}": "2026-01",
    }
    for path in paths:
        for placeholder, value in fill.items():
            path = path.replace(placeholder, value)
        for data in ({}, {"csrf": "forged-token"}):
            answer = browser.post(f"{backend.url}{path}", data=data, allow_redirects=False)
            assert answer.status_code == 403, (path, answer.status_code)
            assert "请求已失效" in answer.text or path.startswith("/console/signin"), path
    with db() as session:  # nothing was done by any of them
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("application.move", "help.take")))
        ).all()


def test_a_kiosk_signature_opens_no_console_page(backend):
    for path in ("/console/", "/console/applications", "/console/fleet"):
        answer = backend.client.get(path)  # HMAC-signed as the demo kiosk
        assert answer.status_code == 200 and answer.url.endswith("/console/signin"), path


def test_a_console_session_calls_no_kiosk_endpoint(backend):
    browser, _token = signed_in(backend, COUNTER)
    for method, path in (
        ("POST", "/api/v1/essc/verify"),
        ("GET", "/api/v1/ledger/tickets"),
        ("POST", "/api/v1/kiosks/heartbeat"),
    ):
        answer = browser.request(method, f"{backend.url}{path}", json={"qr": "x"})
        assert answer.status_code == 401, path
        assert answer.json()["code"] == "unauthenticated"


def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_console(backend):
    browser = requests.Session()
    page = browser.get(f"{backend.url}/console/signin")
    answer = browser.post(
        f"{backend.url}/console/signin/essc",
        data={"csrf": _csrf(page.text), "code": COUNTER},
        allow_redirects=False,
    )
    cookie = answer.headers["set-cookie"]
    assert "jjb_console=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # reached on 127.0.0.1; anywhere else it is Secure
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_region_scoping_holds_for_typed_urls(backend, db):
    outside = "qy-other-county"
    add_kiosk(backend.db_url, outside, new_secret_hex(), "外县服务点")
    with db() as session:
        session.get(Kiosk, outside).region_code = "140402"
        application = session.scalar(select(Application).order_by(Application.id))
        application.kiosk_id = outside
        application.kind = "work_order"
        number = application.number
        session.commit()
    browser, token = signed_in(backend, COUNTER)
    assert browser.get(f"{backend.url}/console/applications/{number}").status_code == 404
    moved = browser.post(
        f"{backend.url}/console/applications/{number}/status",
        data={"csrf": token, "target": "submitted", "reason": "x"},
    )
    assert moved.status_code == 404
    assert browser.get(f"{backend.url}/console/fleet/{outside}").status_code == 404
    listed = browser.get(f"{backend.url}/console/applications?kiosk={outside}")
    assert number not in listed.text and "共 0 件" in listed.text
    with db() as session:
        assert (
            session.scalar(select(Application).where(Application.number == number)).status
            != "submitted"
        )


def test_an_account_outside_the_region_is_invisible(backend, db):
    browser, _token = signed_in(backend, "ESSC-DEMO-OPERATOR-04")  # county system admin
    assert browser.get(f"{backend.url}/console/accounts/cz-desk-01").status_code == 404
    assert "cz-desk-01" not in browser.get(f"{backend.url}/console/accounts").text


def test_a_page_not_granted_is_refused_on_the_server(backend):
    browser, token = signed_in(backend, VENDOR)  # fleet only
    assert browser.get(f"{backend.url}/console/applications").status_code == 403
    assert browser.get(f"{backend.url}/console/tickets").status_code == 403
    assert browser.get(f"{backend.url}/console/fleet").status_code == 200


def test_an_idle_session_is_signed_out(backend, db):
    browser, _token = signed_in(backend, COUNTER)
    with db() as session:
        for row in session.scalars(
            select(ConsoleSession).where(ConsoleSession.account == "qy-counter-01")
        ):
            row.last_seen_at -= dt.timedelta(minutes=16)
        session.commit()
    answer = browser.get(f"{backend.url}/console/applications")
    assert answer.url.endswith("/console/signin?reason=idle")
    assert "自动退出" in answer.text


def test_the_help_queue_poll_does_not_keep_a_session_alive(backend, db):
    browser, _token = signed_in(backend, COUNTER)
    five_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    def last_seen() -> list[dt.datetime]:
        with db() as session:
            return [
                r.last_seen_at
                for r in session.scalars(
                    select(ConsoleSession).where(ConsoleSession.account == "qy-counter-01")
                )
            ]

    with db() as session:
        for row in session.scalars(
            select(ConsoleSession).where(ConsoleSession.account == "qy-counter-01")
        ):
            row.last_seen_at = five_minutes_ago
        session.commit()
    assert browser.get(f"{backend.url}/console/help/live").status_code == 200
    assert five_minutes_ago in last_seen()  # polling is not activity
    assert browser.get(f"{backend.url}/console/help").status_code == 200
    assert five_minutes_ago not in last_seen()  # opening a page is


def test_failed_password_sign_ins_are_limited_even_for_the_right_password(backend, db):
    with db() as session:
        operator = session.get(Operator, "vendor-eng-01")
        operator.password_hash = credentials.hash_password("Right#Pass2027")
        session.commit()
    browser = requests.Session()

    def attempt(password: str) -> requests.Response:
        page = browser.get(f"{backend.url}/console/signin")
        return browser.post(
            f"{backend.url}/console/signin/password",
            data={"csrf": _csrf(page.text), "login": "vendor-eng-01", "password": password},
        )

    for _ in range(5):
        assert attempt("wrong-password").status_code == 401
    blocked = attempt("Right#Pass2027")
    assert blocked.status_code == 429 and "15分钟后再试" in blocked.text
    with db() as session:
        row = session.get(SigninThrottle, "account:vendor-eng-01")
        assert row.blocked_until > dt.datetime.now(dt.UTC)
        failures = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "signin.failed", AuditEntry.actor == "vendor-eng-01"
            )
        ).all()
        assert len(failures) == 5
        session.delete(row)
        session.commit()
    opened = attempt("Right#Pass2027")
    assert opened.url.endswith("/console/"), re.findall(
        r"role=.alert.>([^<]*)", opened.text
    )  # the limit lifted


def test_finding_a_resident_by_id_number_puts_nothing_in_a_url(backend, db):
    with db() as session:
        application = session.scalar(
            select(Application)
            .where(Application.kiosk_id == backend.kiosk_id)
            .order_by(Application.id)
        )
        from kiosk_backend.models import Person

        id_number = session.get(Person, application.person_id).id_number
    browser, token = signed_in(backend, COUNTER)
    answer = browser.post(
        f"{backend.url}/console/applications/find", data={"csrf": token, "id_number": id_number}
    )
    assert answer.status_code == 200
    assert id_number not in answer.url and id_number not in answer.text  # masked in the list
    assert all(id_number not in r.url for r in answer.history)


def test_a_frozen_account_is_signed_out_at_once(backend, db):
    victim, _ = signed_in(backend, "ESSC-DEMO-OPERATOR-01")
    admin, token = signed_in(backend, "ESSC-DEMO-OPERATOR-04")
    frozen = admin.post(
        f"{backend.url}/console/accounts/qyhe-op-001/freeze",
        data={"csrf": token, "reason": "账号泄露"},
    )
    assert frozen.status_code == 200 and "账号已冻结" in frozen.text
    assert "/console/signin?reason=expired" in victim.get(f"{backend.url}/console/help").url
    with db() as session:
        operator = session.get(Operator, "qyhe-op-001")
        assert (operator.status, operator.lock_reason) == ("locked", "frozen")
