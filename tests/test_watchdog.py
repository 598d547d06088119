"""sd_notify over a real AF_UNIX datagram socket, and the idle-restart decision."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from kiosk.services.watchdog import (
    ACTIVITY_FILE_NAME,
    ActivityStamp,
    SystemdNotifier,
    idle_decision,
)


@pytest.fixture
def notify_socket(tmp_path):
    """A datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    yield str(path), sock
    sock.close()


def test_ready_ping_status_and_stopping_reach_the_socket(notify_socket):
    path, sock = notify_socket
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": path})
    assert notifier.ready("首页已显示")
    assert sock.recv(4096).decode("utf-8") == "READY=1\nSTATUS=首页已显示"
    assert notifier.ping()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.status("打印机缺纸\n请更换")
    assert sock.recv(4096).decode("utf-8") == "STATUS=打印机缺纸 请更换"
    assert notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    notifier.close()


def test_abstract_namespace_socket(tmp_path):
    name = f"jinjinban-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(10)
    try:
        assert SystemdNotifier("@" + name).ping()
        assert sock.recv(64) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_without_systemd_every_call_is_a_harmless_no_op():
    notifier = SystemdNotifier.from_environ({})
    assert not notifier.enabled
    assert notifier.ready() is False and notifier.ping() is False
    assert notifier.ping_interval() is None


def test_a_vanished_socket_is_reported_not_raised(tmp_path):
    notifier = SystemdNotifier(str(tmp_path / "gone.sock"))
    assert notifier.ping() is False


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another pid
        ({"WATCHDOG_USEC": "abc"}, None),
        ({}, None),
    ],
)
def test_ping_interval_is_half_the_watchdog_period(environ, interval):
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": "/nonexistent", **environ})
    assert notifier.ping_interval() == interval


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_activity_is_throttled_but_busy_changes_are_written_at_once(data_dir):
    clock = Clock()
    stamp = ActivityStamp(data_dir, clock=clock, min_interval=10)
    assert stamp.touch(busy=False)
    clock.now += 2
    assert not stamp.touch()  # throttled
    assert stamp.touch(busy=True)  # a session opened: written even though recent
    state = json.loads((data_dir / ACTIVITY_FILE_NAME).read_text())
    assert state["busy"] is True and state["last_activity"] == clock.now
    clock.now += 11
    assert stamp.touch()


def test_idle_decision(data_dir):
    clock = Clock()
    stamp = ActivityStamp(data_dir, clock=clock)
    clock.now += 5 * 3600  # the app has been up for a while
    assert idle_decision(data_dir, min_idle_seconds=1800, now=clock.now).restart  # no file yet
    stamp.touch(busy=False)
    assert not idle_decision(data_dir, min_idle_seconds=1800, now=clock.now + 60).restart
    assert idle_decision(data_dir, min_idle_seconds=1800, now=clock.now + 1800).restart
    stamp.touch(busy=True)
    busy = idle_decision(data_dir, min_idle_seconds=1800, now=clock.now + 86_400)
    assert not busy.restart and "session" in busy.reason
    stamp.touch(busy=False)
    future = idle_decision(data_dir, min_idle_seconds=1800, now=clock.now - 3600)
    assert not future.restart


def test_a_damaged_activity_file_means_no_restart(data_dir):
    (data_dir / ACTIVITY_FILE_NAME).write_text("{oops")
    decision = idle_decision(data_dir, min_idle_seconds=60)
    assert not decision.restart and "unreadable" in decision.reason


def run_cli(data_dir, *args):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "maintenance", "restart-if-idle", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_restart_if_idle_respects_activity(data_dir):
    ActivityStamp(data_dir).touch(busy=False)  # just now
    fresh = run_cli(data_dir, "--dry-run")
    assert fresh.returncode == 0 and "not restarting" in fresh.stdout
    old = {"last_activity": 0.0, "busy": False, "pid": 1}
    (data_dir / ACTIVITY_FILE_NAME).write_text(json.dumps(old))
    stale = run_cli(data_dir, "--dry-run", "--unit", "x.service")
    assert stale.returncode == 0 and "would restart x.service" in stale.stdout


def test_cli_check_mode_exit_codes_for_exec_condition(data_dir):
    ActivityStamp(data_dir).touch(busy=True)
    busy = run_cli(data_dir, "--check")
    assert busy.returncode == 1 and "busy" in busy.stdout
    old = {"last_activity": 0.0, "busy": False, "pid": 1}
    (data_dir / ACTIVITY_FILE_NAME).write_text(json.dumps(old))
    idle = run_cli(data_dir, "--check")
    assert idle.returncode == 0 and "idle" in idle.stdout


def test_a_freshly_started_app_is_not_restarted_again(data_dir):
    clock = Clock()
    ActivityStamp(data_dir, clock=clock).touch(busy=False)
    night = clock.now + 3600  # an hour idle, but the app only started an hour ago
    decision = idle_decision(data_dir, min_idle_seconds=1800, now=night)
    assert not decision.restart and "recently" in decision.reason
    later = clock.now + 5 * 3600
    assert idle_decision(data_dir, min_idle_seconds=1800, now=later).restart


# -- the deploy/ files that rely on this module ------------------------------------------------

DEPLOY = __import__("pathlib").Path(__file__).resolve().parents[1] / "deploy"


def read_unit(name):
    """A systemd unit as {section: {key: [values]}} (keys may repeat, e.g. DeviceAllow)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_kiosk_unit_is_notify_with_watchdog_restart_and_a_dedicated_user():
    service = read_unit("jinjinban-kiosk.service")["Service"]
    assert service["Type"] == ["notify"] and service["NotifyAccess"] == ["all"]
    assert service["WatchdogSec"] == ["30"] and service["Restart"] == ["always"]
    assert service["User"] == ["kiosk"] and service["NoNewPrivileges"] == ["yes"]
    assert service["DevicePolicy"] == ["closed"]
    assert "/dev/kiosk-idcard rw" in service["DeviceAllow"]  # the rest: tests/security
    assert "PrivateDevices" not in service  # would hide the serial devices
    assert "dialout" in service["SupplementaryGroups"][0]


def test_idle_restart_service_uses_the_check_mode_the_cli_offers(data_dir):
    service = read_unit("jinjinban-kiosk-idle-restart.service")["Service"]
    (condition,) = service["ExecCondition"]
    assert condition.endswith("kiosk maintenance restart-if-idle --check")
    assert service["User"] == ["kiosk"]
    assert service["ExecStart"][0].startswith("+")  # only systemctl runs privileged
    timer = read_unit("jinjinban-kiosk-idle-restart.timer")["Timer"]
    assert timer["OnCalendar"]


def test_udev_rules_name_the_three_stable_devices():
    import re

    text = (DEPLOY / "99-jinjinban-kiosk.rules").read_text(encoding="utf-8")
    active = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    token = re.compile(r'^[A-Z_]+(\{[^}]+\})?(==|!=|\+=|=)"[^"]*"$')
    for line in active:
        for part in line.split(", "):
            assert token.match(part.strip()), f"bad udev token {part!r} in {line!r}"
    names = set(re.findall(r'SYMLINK\+="(kiosk-[a-z]+)"', text))
    assert {"kiosk-idcard", "kiosk-printer", "kiosk-scanner"} <= names


@pytest.mark.skipif(
    not __import__("shutil").which("systemd-analyze"), reason="systemd-analyze not installed"
)
def test_units_pass_systemd_analyze_verify():
    units = [
        str(DEPLOY / n)
        for n in (
            "jinjinban-kiosk.service",
            "jinjinban-kiosk-idle-restart.service",
            "jinjinban-kiosk-idle-restart.timer",
        )
    ]
    done = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=120
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is not executable" not in line  # cage/kiosk not installed here
    ]
    assert problems == []
