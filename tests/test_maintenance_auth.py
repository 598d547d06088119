"""Maintenance unlock: e-SSC sign-in over real HTTP, the offline PIN and its lockout, sessions.

The e-SSC tests run the kiosk's real ``BackendClient`` against the reference server (demo seed)
and, for answers the reference server never gives (garbage, 500), a small real HTTP server on
127.0.0.1 that speaks the sign-in contract (``POST /api/v1/operators/essc-signin``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from maint_support import save_roster

from kiosk.domain.roles import AccountStatus, Permission, PermissionDenied, Role
from kiosk.services.audit import AuditLog
from kiosk.services.backend_client import BackendClient
from kiosk.services.errors import BackendProtocolError
from kiosk.services.maintenance_auth import (
    AccountRefused,
    BackendOperatorVerifier,
    MaintenanceAuth,
    PinAccountRefused,
    PinIncorrect,
    PinLocked,
    PinNotSet,
    PinPolicyError,
    PinStore,
    SessionExpired,
    SignInRejected,
    SignInUnavailable,
    check_pin_policy,
    operator_account_from_json,
)
from kiosk.services.operator_roster import OperatorRoster

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
GOOD_PIN = "730519"

ACCOUNTS = {
    "QR-OPERATOR": {"account": "op-0001", "name_masked": "王*", "role": "operator"},
    "QR-VENDOR": {"account": "vd-0007", "name_masked": "李*", "role": "vendor"},
    "QR-SYSADMIN": {"account": "sa-0001", "name_masked": "赵*", "role": "system_admin"},
    "QR-LOCKED": {"account": "op-0002", "name_masked": "张*", "role": "operator", "st": "locked"},
    "QR-CANCELLED": {
        "account": "op-0003",
        "name_masked": "刘*",
        "role": "operator",
        "st": "cancelled",
    },
}


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SigninHandler(BaseHTTPRequestHandler):
    """The sign-in contract of the platform, nothing more."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.path, dict(self.headers), body))
        if self.path != "/api/v1/operators/essc-signin":
            return self._answer(404, {"code": "not_found", "message": "未找到"})
        qr = body.get("qr", "")
        if qr == "QR-GARBAGE-ANSWER":
            return self._answer(200, {"account": "x", "role": "superuser", "status": "active"})
        if qr == "QR-SERVER-ERROR":
            return self._answer(500, {"code": "internal", "message": "服务器内部错误"})
        known = ACCOUNTS.get(qr)
        if known is None:
            return self._answer(
                404, {"code": "operator_not_found", "message": "该电子社保卡未开通维护账号"}
            )
        answer = {k: v for k, v in known.items() if k != "st"}
        answer["status"] = known.get("st", "active")
        return self._answer(200, answer)

    def _answer(self, status, payload):
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def signin_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SigninHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def make_client(url: str) -> BackendClient:
    return BackendClient(
        requests.Session(),
        url,
        "test-kiosk-0001",
        b"k" * 32,
        connect_timeout=2.0,
        read_timeout=5.0,
        connect_retries=0,
        status_retries=0,
    )


@pytest.fixture
def audit(data_dir):
    return AuditLog(data_dir)


@pytest.fixture
def pins(data_dir):
    return PinStore(data_dir, wall_clock=FakeClock(1_800_000_000.0), hasher=FAST_HASHER)


@pytest.fixture
def roster(data_dir):
    """The demo county's roster as the platform gives it (qyhe-op-001 active, -002 locked …)."""
    save_roster(data_dir)
    return OperatorRoster(data_dir)


def make_auth(verifier, pins, audit, clock=None, roster=None):
    return MaintenanceAuth(
        verifier=verifier,
        pin_store=pins,
        audit=audit,
        roster=roster,
        clock=clock or FakeClock(),
    )


# -- e-SSC sign-in through real HTTP ----------------------------------------------------------


def test_active_operator_signs_in_and_is_audited_without_the_qr(signin_server, pins, audit):
    url = f"http://127.0.0.1:{signin_server.server_port}"
    auth = make_auth(BackendOperatorVerifier(make_client(url)), pins, audit)
    session = auth.sign_in_with_qr("QR-OPERATOR")
    assert session.role is Role.OPERATOR and session.account == "op-0001"
    assert session.method == "essc"
    path, headers, body = signin_server.requests[-1]
    assert body == {"qr": "QR-OPERATOR"}
    assert "X-Kiosk-Signature" in headers  # the platform can tell which kiosk asks
    entries = list(audit.entries())
    assert [(e.account, e.role, e.action) for e in entries] == [("op-0001", "operator", "sign_in")]
    assert "QR-OPERATOR" not in audit.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("qr", "status", "words"),
    [
        ("QR-LOCKED", AccountStatus.LOCKED, "锁定"),
        ("QR-CANCELLED", AccountStatus.CANCELLED, "注销"),
    ],
)
def test_locked_and_cancelled_accounts_are_refused_in_chinese(
    signin_server, pins, audit, qr, status, words
):
    url = f"http://127.0.0.1:{signin_server.server_port}"
    auth = make_auth(BackendOperatorVerifier(make_client(url)), pins, audit)
    with pytest.raises(AccountRefused) as info:
        auth.sign_in_with_qr(qr)
    assert info.value.status is status
    assert words in info.value.message
    (entry,) = audit.entries()
    assert entry.action == "sign_in.refused" and entry.detail["status"] == status.value


def test_unknown_qr_is_rejected_with_the_platforms_message(signin_server, pins, audit):
    url = f"http://127.0.0.1:{signin_server.server_port}"
    auth = make_auth(BackendOperatorVerifier(make_client(url)), pins, audit)
    with pytest.raises(SignInRejected, match="未开通维护账号"):
        auth.sign_in_with_qr("QR-STRANGER")
    assert [e.action for e in audit.entries()] == ["sign_in.rejected"]


@pytest.mark.parametrize("qr", ["QR-GARBAGE-ANSWER", "QR-SERVER-ERROR"])
def test_broken_platform_answers_offer_the_pin(signin_server, pins, audit, qr):
    url = f"http://127.0.0.1:{signin_server.server_port}"
    auth = make_auth(BackendOperatorVerifier(make_client(url)), pins, audit)
    with pytest.raises(SignInUnavailable, match="维护密码"):
        auth.sign_in_with_qr(qr)


def test_offline_platform_offers_the_pin(pins, audit):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = make_auth(BackendOperatorVerifier(make_client(f"http://127.0.0.1:{port}")), pins, audit)
    with pytest.raises(SignInUnavailable, match="维护密码"):
        auth.sign_in_with_qr("QR-OPERATOR")


def test_no_platform_configured_offers_the_pin(pins, audit):
    with pytest.raises(SignInUnavailable):
        make_auth(None, pins, audit).sign_in_with_qr("QR-OPERATOR")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"account": "a", "role": "root", "status": "active"},
        {"account": "a", "role": "operator", "status": "frozen"},
        {"account": "", "role": "operator", "status": "active"},
        {"role": "operator", "status": "active"},
        {"account": 5, "role": "operator", "status": "active"},
    ],
)
def test_malformed_sign_in_answers_are_protocol_errors(data):
    with pytest.raises(BackendProtocolError):
        operator_account_from_json(data)


# -- the offline PIN --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pin", ["12345", "1234567890123", "12a456", "111111", "123456", "987654", "１２３４５６", ""]
)
def test_weak_or_malformed_pins_are_refused(pin):
    with pytest.raises(PinPolicyError):
        check_pin_policy(pin)


@given(st.text(max_size=20))
def test_pin_policy_never_crashes(text):
    try:
        check_pin_policy(text)
    except PinPolicyError as exc:
        assert exc.message
    else:
        assert text.isdigit() and 6 <= len(text) <= 12


OPERATOR = "qyhe-op-001"


def test_pins_are_stored_per_account_only_as_private_argon2_hashes(pins):
    pins.set_pin(OPERATOR, GOOD_PIN)
    pins.set_pin("qy-sysadmin", "804162")
    stored = pins.pins_path.read_text(encoding="utf-8")
    assert GOOD_PIN not in stored and "804162" not in stored
    hashes = json.loads(stored)["pins"]
    assert sorted(hashes) == ["qy-sysadmin", OPERATOR]
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert os.stat(pins.pins_path).st_mode & 0o077 == 0
    pins.check(OPERATOR, GOOD_PIN)
    with pytest.raises(PinIncorrect):
        pins.check("qy-sysadmin", GOOD_PIN)  # one account's PIN never opens another


def test_no_pin_set_for_the_account_is_a_typed_error(pins, audit, roster):
    with pytest.raises(PinNotSet):
        make_auth(None, pins, audit, roster=roster).sign_in_with_pin(OPERATOR, GOOD_PIN)


def test_a_pin_signs_in_as_the_named_account_with_its_role(pins, audit, roster):
    pins.set_pin(OPERATOR, GOOD_PIN)
    pins.set_pin("qy-sysadmin", "804162")
    auth = make_auth(None, pins, audit, roster=roster)
    session = auth.sign_in_with_pin(OPERATOR, GOOD_PIN)
    assert (session.account, session.role, session.method) == (OPERATOR, Role.OPERATOR, "pin")
    assert session.operator.name_masked == "李*梅"
    admin = auth.sign_in_with_pin("qy-sysadmin", "804162")
    assert admin.role is Role.SYSTEM_ADMIN and admin.can(Permission.EXIT_TO_DESKTOP)
    assert [a.account for a in auth.pin_accounts()] == ["qy-sysadmin", OPERATOR]
    rows = [(e.account, e.role, e.action) for e in audit.entries()]
    assert rows == [(OPERATOR, "operator", "sign_in"), ("qy-sysadmin", "system_admin", "sign_in")]
    assert all(not e.account.startswith("pin@") for e in audit.entries())


@pytest.mark.parametrize(
    ("account", "code", "words"),
    [
        ("qyhe-op-002", "locked", "锁定"),
        ("qyhe-op-003", "cancelled", "注销"),
        ("somebody-else", "not_on_roster", "名单"),
    ],
)
def test_the_roster_refuses_locked_cancelled_and_unknown_accounts(
    pins, audit, roster, account, code, words
):
    pins.set_pin(account, GOOD_PIN)
    with pytest.raises(PinAccountRefused) as info:
        make_auth(None, pins, audit, roster=roster).sign_in_with_pin(account, GOOD_PIN)
    assert info.value.code == code and words in info.value.message
    (entry,) = audit.entries()
    assert (entry.account, entry.action, entry.detail["reason"]) == (
        account,
        "sign_in.pin_refused",
        code,
    )
    assert pins.lock_state().failures == 1  # the attempt was counted before the refusal


def test_without_a_synced_roster_or_with_a_stale_one_no_pin_works(data_dir, pins, audit):
    pins.set_pin(OPERATOR, GOOD_PIN)
    with pytest.raises(PinAccountRefused, match="尚未从平台同步"):
        make_auth(None, pins, audit, roster=OperatorRoster(data_dir)).sign_in_with_pin(
            OPERATOR, GOOD_PIN
        )
    save_roster(data_dir)
    later = OperatorRoster(data_dir, max_age_days=30, wall_clock=lambda: 2**40)
    with pytest.raises(PinAccountRefused, match="超过30天"):
        make_auth(None, pins, audit, roster=later).sign_in_with_pin(OPERATOR, GOOD_PIN)


def test_five_wrong_pins_lock_for_fifteen_minutes_even_across_restarts(data_dir, audit, roster):
    wall = FakeClock(1_800_000_000.0)
    pins = PinStore(data_dir, wall_clock=wall, hasher=FAST_HASHER)
    pins.set_pin(OPERATOR, GOOD_PIN)
    auth = make_auth(None, pins, audit, roster=roster)
    for left in (4, 3, 2, 1):
        with pytest.raises(PinIncorrect) as info:
            auth.sign_in_with_pin(OPERATOR, "000001")
        assert info.value.tries_left == left and f"{left}次" in info.value.message
    with pytest.raises(PinLocked):
        auth.sign_in_with_pin(OPERATOR, "000001")
    # the right PIN does not help while locked, nor does a "reboot" (a new store)
    rebooted = PinStore(data_dir, wall_clock=wall, hasher=FAST_HASHER)
    with pytest.raises(PinLocked) as info:
        make_auth(None, rebooted, audit, roster=roster).sign_in_with_pin(OPERATOR, GOOD_PIN)
    assert "15分钟" in info.value.message
    wall.advance(14 * 60)
    with pytest.raises(PinLocked, match="1分钟"):
        rebooted.check(OPERATOR, GOOD_PIN)
    wall.advance(61)
    session = make_auth(None, rebooted, audit, roster=roster).sign_in_with_pin(OPERATOR, GOOD_PIN)
    assert session.role is Role.OPERATOR and session.account == OPERATOR
    actions = [e.action for e in audit.entries()]
    assert actions.count("sign_in.pin_wrong") == 4 and actions.count("sign_in.pin_locked") == 2
    assert actions[-1] == "sign_in"
    assert "000001" not in audit.path.read_text(encoding="utf-8")


def test_locks_grow_and_the_count_is_not_reset_by_a_lock(data_dir, roster):
    """GIVEN 5 wrong tries (15 min) THEN every further wrong try locks again for twice as long
    (30, 60, … capped at 24 h); only the right PIN resets it."""
    wall = FakeClock(1_800_000_000.0)
    pins = PinStore(data_dir, wall_clock=wall, hasher=FAST_HASHER)
    pins.set_pin(OPERATOR, GOOD_PIN)
    for _ in range(4):
        with pytest.raises(PinIncorrect):
            pins.check(OPERATOR, "000001")
    locks = []
    for _ in range(9):
        with pytest.raises(PinLocked) as info:
            pins.check(OPERATOR, "000001")
        locks.append(info.value.seconds_left // 60)
        wall.advance(info.value.seconds_left + 1)
    assert locks == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]
    assert pins.lock_state().failures == 13 and pins.lock_state().level == 9
    pins.check(OPERATOR, GOOD_PIN)
    assert pins.lock_state().failures == 0 and pins.lock_state().level == 0


def test_a_right_pin_resets_the_failure_count(pins):
    pins.set_pin(OPERATOR, GOOD_PIN)
    for _ in range(4):
        with pytest.raises(PinIncorrect):
            pins.check(OPERATOR, "000001")
    pins.check(OPERATOR, GOOD_PIN)
    with pytest.raises(PinIncorrect) as info:
        pins.check(OPERATOR, "000001")
    assert info.value.tries_left == 4


def test_a_damaged_lock_file_fails_closed(pins):
    pins.set_pin(OPERATOR, GOOD_PIN)
    pins.lock_path.write_text("{not json", encoding="ascii")
    with pytest.raises(PinLocked):
        pins.check(OPERATOR, GOOD_PIN)


def test_clock_set_backwards_never_locks_longer_than_one_period(data_dir):
    wall = FakeClock(1_800_000_000.0)
    pins = PinStore(data_dir, wall_clock=wall, hasher=FAST_HASHER)
    pins.set_pin(OPERATOR, GOOD_PIN)
    for _ in range(5):
        with pytest.raises((PinIncorrect, PinLocked)):
            pins.check(OPERATOR, "000001")
    wall.advance(-86_400)  # the RTC lost a day
    assert pins.lock_state().locked_until - wall() <= 15 * 60
    wall.advance(15 * 60 + 1)
    pins.check(OPERATOR, GOOD_PIN)


def test_a_pin_hash_in_the_config_is_refused_with_directions(tmp_path):
    from kiosk.config import ConfigError, load_config

    site = tmp_path / "site.toml"
    site.write_text('[maintenance]\npin_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"\n')
    with pytest.raises(ConfigError, match="set-pin --account LOGIN"):
        load_config(site, environ={})


# -- the maintenance session ------------------------------------------------------------------


def test_session_times_out_after_two_idle_minutes_and_touch_extends(pins, audit, roster):
    pins.set_pin(OPERATOR, GOOD_PIN)
    clock = FakeClock()
    session = make_auth(None, pins, audit, clock, roster).sign_in_with_pin(OPERATOR, GOOD_PIN)
    clock.advance(100)
    session.touch()
    clock.advance(100)
    assert not session.expired and session.seconds_left() == pytest.approx(20)
    session.authorize(Permission.REPLACE_PAPER)
    clock.advance(120)
    assert session.expired
    with pytest.raises(SessionExpired, match="超时"):
        session.authorize(Permission.REPLACE_PAPER)
    actions = [(e.action, dict(e.detail)) for e in audit.entries()]
    assert actions[-2] == ("replace_paper", {})
    assert actions[-1] == ("maintenance.end", {"reason": "idle_timeout"})


def test_denied_actions_raise_and_are_audited(signin_server, pins, audit):
    url = f"http://127.0.0.1:{signin_server.server_port}"
    auth = make_auth(BackendOperatorVerifier(make_client(url)), pins, audit)
    vendor = auth.sign_in_with_qr("QR-VENDOR")
    assert not vendor.can(Permission.VIEW_OUTBOX)
    with pytest.raises(PermissionDenied):
        vendor.authorize(Permission.VIEW_OUTBOX)
    vendor.authorize(Permission.RUN_DIAGNOSTICS, "diag.selftest", {"device": "printer"})
    admin = auth.sign_in_with_qr("QR-SYSADMIN")
    with pytest.raises(PermissionDenied):
        admin.authorize(Permission.REPRINT_FOR_PRESENT_RESIDENT)
    admin.authorize(Permission.EXIT_TO_DESKTOP)
    admin.end()
    admin.end()  # idempotent
    rows = [(e.account, e.action) for e in audit.entries()]
    assert rows == [
        ("vd-0007", "sign_in"),
        ("vd-0007", "denied"),
        ("vd-0007", "diag.selftest"),
        ("sa-0001", "sign_in"),
        ("sa-0001", "denied"),
        ("sa-0001", "exit_to_desktop"),
        ("sa-0001", "maintenance.end"),
    ]
    assert audit.verify().ok


def test_an_operators_pin_session_has_no_admin_rights(pins, audit, roster):
    pins.set_pin(OPERATOR, GOOD_PIN)
    session = make_auth(None, pins, audit, roster=roster).sign_in_with_pin(OPERATOR, GOOD_PIN)
    assert session.can(Permission.REPLACE_PAPER)
    assert not session.can(Permission.EXIT_TO_DESKTOP)


# -- `kiosk maintenance` ----------------------------------------------------------------------


def run_cli(data_dir, *args, stdin=""):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "maintenance", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_set_pin_from_stdin_writes_a_usable_hash_and_audits(data_dir):
    save_roster(data_dir)
    done = run_cli(data_dir, "set-pin", "--account", OPERATOR, "--pin-stdin", stdin="730519\n")
    assert done.returncode == 0, done.stderr
    PinStore(data_dir).check(OPERATOR, GOOD_PIN)
    (entry,) = AuditLog(data_dir).entries()
    assert entry.action == "maintenance_pin.set" and entry.account.startswith("console:")
    assert entry.detail["account"] == OPERATOR
    status = run_cli(data_dir, "pin-status")
    assert f"{OPERATOR}: usable" in status.stdout and "accounts with a PIN: 1" in status.stdout
    removed = run_cli(data_dir, "remove-pin", "--account", OPERATOR)
    assert removed.returncode == 0 and not PinStore(data_dir).is_set(OPERATOR)


def test_cli_set_pin_refuses_a_weak_pin(data_dir):
    save_roster(data_dir)
    done = run_cli(data_dir, "set-pin", "--account", OPERATOR, "--pin-stdin", stdin="123456\n")
    assert done.returncode == 2
    assert "简单" in done.stderr
    assert not PinStore(data_dir).is_set(OPERATOR)


def test_cli_set_pin_refuses_an_account_the_roster_does_not_vouch_for(data_dir):
    args = ("set-pin", "--account", "qyhe-op-003", "--pin-stdin")
    done = run_cli(data_dir, *args, stdin="730519\n")
    assert done.returncode == 2 and "sync-roster" in done.stderr  # never synced
    save_roster(data_dir)
    done = run_cli(data_dir, *args, stdin="730519\n")
    assert done.returncode == 2 and "注销" in done.stderr
    assert not PinStore(data_dir).is_set("qyhe-op-003")


def test_cli_set_pin_without_a_terminal_asks_for_pin_stdin(data_dir):
    save_roster(data_dir)
    done = run_cli(data_dir, "set-pin", "--account", OPERATOR, stdin="730519\n")
    assert done.returncode == 2 and "--pin-stdin" in done.stderr


# -- against the reference server (kiosk_backend, demo seed) ----------------------------------


@pytest.fixture(scope="module")
def reference_platform(tmp_path_factory):
    """The real reference server on 127.0.0.1 with the demo seed, and a signed client."""
    from kiosk.services.embedded_backend import demo_essc_code, start_embedded_backend

    directory = tmp_path_factory.mktemp("reference-platform")
    url, secret, handle = start_embedded_backend(directory, "test-kiosk-0001")
    session = requests.Session()
    client = BackendClient(session, url, "test-kiosk-0001", secret)
    client.demo_code = lambda label: demo_essc_code(directory, label)  # the operator's phone
    yield client
    session.close()
    handle.stop()


@pytest.mark.parametrize(
    ("qr", "role"),
    [
        ("ESSC-DEMO-OPERATOR-01", Role.OPERATOR),
        ("ESSC-DEMO-OPERATOR-03", Role.VENDOR),
        ("ESSC-DEMO-OPERATOR-04", Role.SYSTEM_ADMIN),
        ("ESSC-DEMO-OPERATOR-05", Role.BUSINESS_ADMIN),
    ],
)
def test_reference_server_active_accounts_sign_in_with_their_role(
    reference_platform, pins, audit, qr, role
):
    auth = make_auth(BackendOperatorVerifier(reference_platform), pins, audit)
    session = auth.sign_in_with_qr(reference_platform.demo_code(qr))
    assert session.role is role
    assert session.operator.name_masked and "*" in session.operator.name_masked
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("qr", "status"),
    [
        ("ESSC-DEMO-OPERATOR-02", AccountStatus.LOCKED),
        ("ESSC-DEMO-OPERATOR-06", AccountStatus.CANCELLED),
    ],
)
def test_reference_server_locked_and_cancelled_are_refused(
    reference_platform, pins, audit, qr, status
):
    auth = make_auth(BackendOperatorVerifier(reference_platform), pins, audit)
    with pytest.raises(AccountRefused) as info:
        auth.sign_in_with_qr(reference_platform.demo_code(qr))
    assert info.value.status is status


def test_reference_server_unknown_qr_is_rejected(reference_platform, pins, audit):
    auth = make_auth(BackendOperatorVerifier(reference_platform), pins, audit)
    with pytest.raises(SignInRejected, match="无法识别"):
        auth.sign_in_with_qr("ESSC-DEMO-NOBODY")
    with pytest.raises(SignInRejected, match="无法识别"):  # a label is no longer a code
        auth.sign_in_with_qr("ESSC-DEMO-OPERATOR-04")


def test_reference_server_operator_code_signs_in_once(reference_platform, pins, audit):
    auth = make_auth(BackendOperatorVerifier(reference_platform), pins, audit)
    code = reference_platform.demo_code("ESSC-DEMO-OPERATOR-01")
    assert auth.sign_in_with_qr(code).role is Role.OPERATOR
    with pytest.raises(SignInRejected, match="已使用"):
        auth.sign_in_with_qr(code)


def test_poll_ends_an_idle_session_once_and_menus_follow_the_role(pins, audit, roster):
    pins.set_pin(OPERATOR, GOOD_PIN)
    clock = FakeClock()
    session = make_auth(None, pins, audit, clock, roster).sign_in_with_pin(OPERATOR, GOOD_PIN)
    assert Permission.REPLACE_PAPER in session.allowed_permissions()
    assert Permission.EXIT_TO_DESKTOP not in session.allowed_permissions()
    assert session.poll() is True
    clock.advance(121)
    assert session.poll() is False and session.ended
    assert session.poll() is False
    assert session.allowed_permissions() == []
    ends = [e for e in audit.entries() if e.action == "maintenance.end"]
    assert len(ends) == 1 and ends[0].detail == {"reason": "idle_timeout"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "account": st.one_of(st.text(max_size=12), st.integers()),
                "role": st.sampled_from([r.value for r in Role] + ["root", ""]),
                "status": st.sampled_from([s.value for s in AccountStatus] + ["frozen"]),
            },
            optional={"name_masked": st.one_of(st.text(max_size=4), st.none())},
        ),
    )
)
def test_any_sign_in_answer_parses_or_is_a_protocol_error(data):
    try:
        account = operator_account_from_json(data)
    except BackendProtocolError:
        return
    assert account.account and isinstance(account.role, Role)
    assert isinstance(account.status, AccountStatus)
