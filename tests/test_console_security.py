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
from kiosk_backend.essc_codes import (
    KIND_OPERATOR,
    MAX_SUBJECT_BYTES,
    MAX_TTL_SECONDS,
    mint,
    mint_in_database,
)
from kiosk_backend.models import Application, Operator
from kiosk_backend.provision import add_kiosk, new_secret_hex
from kiosk_backend.staff import credentials
from kiosk_backend.staff_models import AuditEntry, ConsoleSession, SigninThrottle
from kiosk_backend.testing import running_backend

# Demo account labels: each sign-in mints a fresh signed code for the account (the labels
# themselves are not codes and are refused, see test_static_labels_and_spent_codes_…).
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


def signed_in(backend, label: str) -> tuple[requests.Session, str]:
    """A browser-like session signed in with a fresh code of the demo account *label*;
    returns it and its CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{backend.url}/console/signin")
    answer = browser.post(
        f"{backend.url}/console/signin/essc",
        data={"csrf": _csrf(page.text), "code": backend.essc_code(label)},
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
        data={"csrf": _csrf(page.text), "code": backend.essc_code(COUNTER)},
        allow_redirects=False,
    )
    cookie = answer.headers["set-cookie"]
    assert "jjb_console=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # reached on 127.0.0.1; anywhere else it is Secure
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def _essc_attempt(backend, code: str, client: str) -> requests.Response:
    """One e-SSC sign-in from a fresh browser at address *client* (uvicorn trusts
    X-Forwarded-For from 127.0.0.1, as behind the county's reverse proxy)."""
    browser = requests.Session()
    headers = {"X-Forwarded-For": client}
    page = browser.get(f"{backend.url}/console/signin", headers=headers)
    return browser.post(
        f"{backend.url}/console/signin/essc",
        data={"csrf": _csrf(page.text), "code": code},
        headers=headers,
        allow_redirects=False,
    )


def _failed_essc_signins(db, client: str) -> list[AuditEntry]:
    with db() as session:
        return session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "signin.failed", AuditEntry.note == f"client:{client}"
            )
        ).all()


def _sessions_of(db, account: str) -> int:
    with db() as session:
        return len(
            session.scalars(select(ConsoleSession).where(ConsoleSession.account == account)).all()
        )


def test_a_code_signs_in_once_and_labels_forgeries_and_resident_codes_never(backend, db):
    client = "10.20.0.1"
    sessions_before = _sessions_of(db, "qy-counter-01")
    code = backend.essc_code(COUNTER)
    first = _essc_attempt(backend, code, client)
    assert (first.status_code, first.headers["location"]) == (303, "/console/")
    assert first.cookies.get("jjb_console")
    one_char_off = code[:-2] + ("A" if code[-2] != "A" else "B") + code[-1]
    stale = mint_in_database(
        backend.db_url,
        operator="qy-counter-01",
        now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=MAX_TTL_SECONDS + 1),
    )
    refused = {
        "spent": code,  # the same code a second time, from another browser
        "label": COUNTER,  # the demo label is not a code
        "forged": one_char_off,
        "resident": backend.essc_code("ESSC-DEMO-RESIDENT-01"),  # a person's code, not staff
        "expired": stale,
    }
    for what, attempt in refused.items():
        answer = _essc_attempt(backend, attempt, client)
        assert answer.status_code == 401, what
        assert "登录失败：登录码、账号、密码或动态验证码不正确" in answer.text, what
        assert answer.cookies.get("jjb_console") is None, what
    assert _sessions_of(db, "qy-counter-01") == sessions_before + 1
    failures = _failed_essc_signins(db, client)
    assert [(f.actor, f.target_kind, f.target) for f in failures] == [("-", "signin", "essc")] * 5
    assert not any(code[6:30] in (f.note + f.target) for f in failures)  # no code kept


def test_the_code_field_takes_the_longest_code_and_says_codes_are_fresh_and_single_use(backend, db):
    page = requests.get(f"{backend.url}/console/signin").text
    field = re.search(r'<input id="essc-code"[^>]*maxlength="(\d+)"', page)
    with db() as session:  # a subject of the most bytes a code may carry
        longest = mint(session, KIND_OPERATOR, "x" * MAX_SUBJECT_BYTES, now=dt.datetime.now(dt.UTC))
    assert len(longest) <= int(field.group(1))  # a browser cuts what a scanner types at maxlength
    assert "登录码2分钟内有效、只能使用一次" in page


def test_e_ssc_sign_in_is_limited_per_address_and_a_blocked_try_spends_no_code(backend, db):
    client = "10.20.0.2"
    for _ in range(20):  # CLIENT_FAILURES
        assert _essc_attempt(backend, "ESSC-NOT-A-CODE", client).status_code == 401
    code = backend.essc_code(COUNTER)
    blocked = _essc_attempt(backend, code, client)
    assert blocked.status_code == 429 and "登录失败次数过多，请15分钟后再试" in blocked.text
    assert blocked.cookies.get("jjb_console") is None
    with db() as session:
        row = session.get(SigninThrottle, f"client:{client}")
        assert row.blocked_until > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14)
    assert len(_failed_essc_signins(db, client)) == 20
    # The block is checked before the code is looked at: the same code still signs in
    # from another address (it was not spent by the refused try).
    elsewhere = _essc_attempt(backend, code, "10.20.0.3")
    assert (elsewhere.status_code, elsewhere.headers["location"]) == (303, "/console/")


def test_region_scoping_holds_for_typed_urls(backend, db):
    outside = "qy-other-county"
    add_kiosk(
        backend.db_url,
        outside,
        new_secret_hex(),
        "外县服务点",
        region_code="140402",
        key_file=backend.key_file,
    )
    with db() as session:
        application = session.scalar(select(Application).order_by(Application.id))
        application.kiosk_id = outside
        application.region_code = "140402"  # filed in the other county
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
