"""Finding: the offline PIN failed open and was a shared account.

Before the fix: when the lock file could not be written (disk full) 19 wrong PINs went uncounted
and the 20th, right, was accepted; the count reset after each 15-minute lock (480 guesses a
day); the PIN signed in as a shared, unnamed ``pin@<device>`` operator; its hash could sit in
``site.toml``. Here through the real files — a data directory on a tiny tmpfs that is full or
read-only (as root; a read-only directory otherwise) — and the operator roster synced from the
reference platform over HTTP on 127.0.0.1. Each test fails on the old code.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from maint_support import demo_platform, save_roster

from kiosk.domain.roles import Role
from kiosk.services.audit import AuditLog
from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME
from kiosk.services.maintenance_auth import (
    MaintenanceAuth,
    PinAccountRefused,
    PinAttemptNotCounted,
    PinIncorrect,
    PinLocked,
    PinStore,
)
from kiosk.services.operator_roster import OperatorRoster

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "qyhe-op-001"  # 李春梅, 业务操作员 of the demo county
PIN = "730519"
WRONG = "000001"


class CountingHasher(PasswordHasher):
    """argon2 as used on the kiosk (fast parameters), counting how often a PIN is compared."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


class WallClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture(params=["full", "read_only"])
def stuck_data_dir(request, tmp_path):
    """(data dir, name) holding a PIN and a synced roster, then made full or read-only."""
    directory = tmp_path / "kiosk-data"
    directory.mkdir()
    mounted = _mount_tmpfs(directory, "256k")
    if not mounted and request.param == "full":
        pytest.skip("filling a file system needs root (a tiny tmpfs)")
    hasher = CountingHasher()
    PinStore(directory, hasher=hasher).set_pin(ACCOUNT, PIN)
    save_roster(directory)
    try:
        if request.param == "full":
            with contextlib.suppress(OSError), (directory / "filler").open("wb") as fh:
                while True:  # until ENOSPC (raised by a write, or by the close)
                    fh.write(b"\0" * 4096)
                    fh.flush()
        elif mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
        else:
            directory.chmod(0o500)
        yield directory, hasher
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(directory)], check=False)
        else:
            directory.chmod(0o700)


def _auth(directory: Path, pins: PinStore, clock=None) -> MaintenanceAuth:
    return MaintenanceAuth(
        verifier=None,
        pin_store=pins,
        audit=AuditLog(directory),
        roster=OperatorRoster(directory, wall_clock=clock or WallClock()),
    )


def test_an_attempt_that_cannot_be_counted_is_never_checked(stuck_data_dir):
    """GIVEN a data dir that is full (or read-only) WHEN 19 wrong PINs and then the right one
    are typed THEN every attempt is refused with the Chinese fail-closed message, the PIN is
    never even compared, and no session starts."""
    directory, hasher = stuck_data_dir
    hasher.verified = 0
    pins = PinStore(directory, hasher=hasher)
    auth = _auth(directory, pins)
    for pin in [WRONG] * 19 + [PIN]:
        with pytest.raises(PinAttemptNotCounted) as info:
            auth.sign_in_with_pin(ACCOUNT, pin)
    assert info.value.message.startswith("无法记录维护密码的尝试次数（存储空间已满或只读）")
    assert hasher.verified == 0


def test_a_day_of_guessing_gets_about_ten_tries_not_480(data_dir):
    """GIVEN a guesser who tries again the moment each lock ends THEN locks grow (15, 30, 60 …
    24 h), the count never resets, and a whole day allows 11 guesses (was 480)."""
    clock = WallClock()
    pins = PinStore(data_dir, wall_clock=clock, hasher=CountingHasher())
    pins.set_pin(ACCOUNT, PIN)
    start, guesses, locks = clock.now, 0, []
    while clock.now < start + 86_400:
        guesses += 1
        try:
            pins.check(ACCOUNT, WRONG)
        except PinIncorrect:
            continue
        except PinLocked as locked:
            locks.append(locked.seconds_left // 60)
            clock.now += locked.seconds_left
    assert guesses == 11 and locks == [15, 30, 60, 120, 240, 480, 960]
    state = pins.lock_state()
    assert (state.failures, state.level) == (11, 7)
    stored = (data_dir / "maintenance-pin-lock.json").read_text(encoding="ascii")
    assert '"failures": 11' in stored  # durable: a reboot does not forgive


@pytest.fixture
def platform(data_dir):
    with demo_platform(data_dir) as client:
        yield client


def _cancel_on_the_platform(data_dir: Path, account: str) -> None:
    """What the county's system administrator does to a leaked account (附件3)."""
    with contextlib.closing(sqlite3.connect(data_dir / BACKEND_DB_FILE_NAME)) as db, db:
        db.execute("UPDATE operators SET status = 'cancelled' WHERE account = ?", (account,))


def test_the_pin_is_a_named_account_and_stops_at_the_next_sync_after_a_cancel(data_dir, platform):
    """GIVEN the roster synced from the platform WHEN 李春梅 types her PIN THEN the session is
    her account with her role (never pin@<device>); WHEN the county cancels her account and the
    kiosk syncs again THEN her PIN no longer works."""
    roster = OperatorRoster(data_dir)
    assert roster.sync(platform) >= 7
    statuses = {a.account: a.status.value for a in roster.load().accounts.values()}
    assert statuses["qyhe-op-001"] == "active" and statuses["qyhe-op-002"] == "locked"
    assert statuses["qyhe-op-003"] == "cancelled"
    assert statuses["qyhe-op-004"] == "locked"  # active, but 4 months without a sign-in
    pins = PinStore(data_dir, hasher=CountingHasher())
    pins.set_pin(ACCOUNT, PIN)
    auth = MaintenanceAuth(verifier=None, pin_store=pins, audit=AuditLog(data_dir), roster=roster)
    session = auth.sign_in_with_pin(ACCOUNT, PIN)
    assert (session.account, session.role, session.operator.name_masked) == (
        ACCOUNT,
        Role.OPERATOR,
        "李*梅",
    )
    session.end()
    _cancel_on_the_platform(data_dir, ACCOUNT)
    roster.sync(platform)
    with pytest.raises(PinAccountRefused, match="注销"):
        auth.sign_in_with_pin(ACCOUNT, PIN)
    accounts = {e.account for e in AuditLog(data_dir).entries()}
    assert accounts == {ACCOUNT} and not any(a.startswith("pin@") for a in accounts)


def test_the_pin_hash_lives_in_its_own_private_file_not_in_the_config(data_dir, tmp_path):
    save_roster(data_dir)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "maintenance",
            "set-pin",
            "--account",
            ACCOUNT,
            "--pin-stdin",
        ],  # fmt: skip
        input=f"{PIN}\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "KIOSK_DATA_DIR": str(data_dir)},
    )
    assert done.returncode == 0, done.stderr
    pins_file = data_dir / "maintenance-pins.json"
    assert pins_file.stat().st_mode & 0o777 == 0o600
    assert PIN not in pins_file.read_text(encoding="utf-8")
    site = tmp_path / "site.toml"
    site.write_text('[maintenance]\npin_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"\n')
    refused = subprocess.run(
        [sys.executable, "-m", "kiosk", "maintenance", "--config", str(site), "pin-status"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "KIOSK_DATA_DIR": str(data_dir)},
    )
    assert refused.returncode != 0
    assert "set-pin --account LOGIN" in refused.stderr
