"""`kiosk diag all`, `diag loopback` and `diag bundle`: real simulators, a real pty, real zips.

The personal-data checks scan everything the vendor gets for ID-number and phone-number shapes
and for the names of the demo people (ID cards, social security cards, operators).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.diag.bundle import write_bundle
from kiosk.diag.loopback import LoopbackError, loopback_test

ROOT = Path(__file__).resolve().parents[1]
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# The demo people: kiosk/devices/idcard/demo_cards.py and kiosk_backend/seed/demo.py operators.
DEMO_NAMES = [
    "王建军", "李秀兰", "张晓燕", "赵国栋", "陈嘉慧", "米安娜", "MILLER",
    "李春梅", "王海涛", "周斌", "孙丽", "马强", "高玉兰",
]  # fmt: skip


def demo_names() -> list[str]:
    from kiosk.devices.sscard.virtual_card import demo_profiles

    names = [getattr(p, "name", "") for p in demo_profiles().values()]
    return DEMO_NAMES + [n for n in names if n]


def assert_no_personal_data(text: str) -> None:
    assert not ID_NUMBER.search(text), ID_NUMBER.search(text)
    assert not MOBILE.search(text), MOBILE.search(text)
    for name in demo_names():
        assert name not in text, name


def kiosk(*args: str, data_dir: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


# -- diag all ------------------------------------------------------------------------------------


def test_diag_all_json_runs_every_self_test_and_shows_no_personal_data(data_dir):
    """GIVEN demo mode (every device simulated on a real transport)
    WHEN `kiosk diag all --json` runs
    THEN the inventory lists ports/readers, every self-test passes having really read a card and
    a scan, and the whole output holds no ID number, phone number or demo person's name."""
    done = kiosk("diag", "all", "--json", "--card-timeout", "30", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    inventory = report["inventory"]
    assert isinstance(inventory["serial_ports"], list)
    assert all("vid_pid" in port for port in inventory["serial_ports"])
    assert "readers" in inventory["pcsc"]
    checks = report["checks"]
    assert set(checks) == {"idcard", "sscard", "printer", "scanner", "sound"}
    assert checks["sound"]["ok"] is True and "opened" in checks["sound"]  # demo: silent is ok
    assert checks["idcard"]["sam_status"] == "ok" and checks["idcard"]["sam_id"]
    assert checks["idcard"]["card_read"] is True
    assert checks["idcard"]["card"]["type"] == "resident"
    assert checks["sscard"]["card_read"] is True
    assert set(checks["sscard"]["card"]) <= {"version", "generation", "card_type"}
    assert checks["printer"]["status"]["online"] is True and checks["printer"]["bytes_sent"] > 0
    assert checks["scanner"]["scan_read"] is True and "code" not in checks["scanner"]
    assert_no_personal_data(done.stdout + done.stderr)


def test_diag_all_reports_a_dead_port_as_a_failed_check_not_a_crash(data_dir, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        '[devices.printer]\nurl = "/dev/does-not-exist-printer"\n'
        "[devices.idcard]\nenabled = false\n[devices.sscard]\nenabled = false\n"
        "[devices.scanner]\nenabled = false\n",
        encoding="utf-8",
    )
    done = kiosk("diag", "all", "--config", str(site), data_dir=data_dir, timeout=120)
    assert done.returncode == 1
    assert "[FAIL] 凭条打印机" in done.stdout
    assert "[SKIP] 身份证阅读器" in done.stdout
    assert "Traceback" not in done.stderr


# -- loopback ------------------------------------------------------------------------------------


class PtyEcho:
    """The far end of a pty pair that sends back what it receives (optionally corrupting)."""

    def __init__(self, corrupt_at: int | None = None, silent: bool = False) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.corrupt_at = corrupt_at
        self.silent = silent
        self.seen = bytearray()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = bytearray(os.read(self.master, 4096))
            except OSError:
                return
            start = len(self.seen)
            self.seen += data
            if self.silent:
                continue
            if self.corrupt_at is not None and start <= self.corrupt_at < start + len(data):
                data[self.corrupt_at - start] ^= 0xFF
            os.write(self.master, bytes(data))

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_echo():
    echoes = []

    def make(**kwargs) -> PtyEcho:
        echo = PtyEcho(**kwargs)
        echoes.append(echo)
        return echo

    yield make
    for echo in echoes:
        echo.close()


def test_loopback_over_a_real_pty_pair_passes_and_traces_with_spy(pty_echo, tmp_path):
    echo = pty_echo()
    trace = tmp_path / "trace.txt"
    pattern = bytes(range(256))
    result = loopback_test(echo.path, pattern, rounds=2, timeout=5, trace=trace)
    assert result["ok"] is True, result
    assert bytes(echo.seen) == pattern * 2
    text = trace.read_text(encoding="utf-8")
    # pyserial's spy hexdump: TX and RX lines with offsets and hex bytes
    assert re.search(r"TX\s+0000\s+00 01 02 03", text)
    assert re.search(r"RX\s+0000\s+00 01 02 03", text)


def test_loopback_reports_the_first_corrupted_byte(pty_echo):
    echo = pty_echo(corrupt_at=5)
    result = loopback_test(echo.path, b"0123456789", rounds=1, timeout=3)
    assert result["ok"] is False
    assert result["error"] == "mismatch"
    assert result["first_difference"] == 5


def test_loopback_with_nothing_coming_back_fails_within_the_timeout(pty_echo):
    echo = pty_echo(silent=True)
    result = loopback_test(echo.path, b"hello", rounds=1, timeout=0.5)
    assert result["ok"] is False and result["error"] == "no_echo"
    assert bytes(echo.seen) == b"hello"


def test_loopback_on_loop_url_with_hex_trace_file(tmp_path):
    trace = tmp_path / "loop-trace.txt"
    result = loopback_test("loop://", b"\x55\xaa\x00\xff", rounds=3, timeout=2, trace=trace)
    assert result["ok"] is True
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert sum(" TX " in line for line in lines) == 3
    assert sum(" RX " in line for line in lines) == 3
    assert all("55 AA 00 FF" in line for line in lines)


def test_loopback_on_a_missing_port_is_a_typed_error():
    with pytest.raises(LoopbackError, match="cannot open"):
        loopback_test("/dev/no-such-tty-for-kiosk", b"x")


def test_loopback_command_exit_codes(data_dir):
    ok = kiosk("diag", "loopback", "--port", "loop://", "--json", data_dir=data_dir)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    bad = kiosk("diag", "loopback", "--port", "/dev/nope-kiosk", "--json", data_dir=data_dir)
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"] == "port"
    usage = kiosk("diag", "loopback", "--port", "loop://", "--pattern", "zz", data_dir=data_dir)
    assert usage.returncode == 2


# -- bundle --------------------------------------------------------------------------------------

LEAKED_ID = "140431195803120027"
LEAKED_PHONE = "13812345678"


def _populate_data_dir(directory: Path) -> None:
    """Logs as the app writes them, plus a line that escaped the filter, plus files full of
    personal data that must never be bundled."""
    import logging

    from kiosk.logsetup import setup_logging

    setup_logging(directory / "logs")
    log = logging.getLogger("test.bundle")
    log.info("card read for %s", LEAKED_ID, extra={"event": "card", "person": "王建军"})
    log.warning("printer paper low", extra={"event": "paper"})
    for handler in logging.getLogger().handlers:
        handler.flush()
    with open(directory / "logs" / "kiosk.log", "a", encoding="utf-8") as fh:
        fh.write(f"Traceback: ValueError: bad id {LEAKED_ID} phone {LEAKED_PHONE}\n")
    (directory / "logs" / "kiosk.log.1").write_text(
        json.dumps({"ts": "t", "level": "INFO", "msg": f"old {LEAKED_PHONE}"}) + "\n",
        encoding="utf-8",
    )
    (directory / "demo-backend.sqlite3").write_text("王建军 李春梅 " + LEAKED_ID, encoding="utf-8")
    (directory / "printer-sim").mkdir()
    (directory / "printer-sim" / "receipt-1.png").write_bytes("PNG 王建军".encode())
    (directory / "audit.jsonl").write_text("", encoding="utf-8")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_kiosk", False)]:
        root.removeHandler(handler)
        handler.close()


def test_bundle_holds_logs_config_versions_inventory_and_no_personal_data(data_dir, tmp_path):
    _populate_data_dir(data_dir)
    site = tmp_path / "site.toml"
    site.write_text(
        f'[kiosk]\noperator_phone = "{LEAKED_PHONE}"\n'
        '[maintenance]\npin_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"\n',
        encoding="utf-8",
    )
    config = load_config(site)
    path = write_bundle(config, data_dir, tmp_path / "out")

    assert path.suffix == ".zip" and oct(path.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        contents = {name: zf.read(name).decode("utf-8") for name in names}
    assert names == {
        "logs/kiosk.log",
        "logs/kiosk.log.1",
        "config.json",
        "versions.json",
        "inventory.json",
        "audit-verify.json",
        "README.txt",
    }
    everything = "\n".join(contents.values())
    assert_no_personal_data(everything)
    assert "argon2" not in everything
    assert "printer paper low" in contents["logs/kiosk.log"]
    assert "[redacted]" in contents["logs/kiosk.log"]
    config_json = json.loads(contents["config.json"])
    assert config_json["maintenance"]["pin_hash"] == "（已隐藏）"
    assert config_json["kiosk"]["device_id"] == "demo-kiosk-0001"
    versions = json.loads(contents["versions.json"])
    assert versions["python"].startswith("3.")
    assert set(versions["packages"]) >= {"kivy", "pyserial", "pyscard"}
    assert versions["packages"]["kivy"]
    inventory = json.loads(contents["inventory.json"])
    assert "serial_ports" in inventory and "pcsc" in inventory
    assert inventory["device_health_note"]  # the app is not running: it says so


def test_bundle_command_prints_the_zip_path(data_dir, tmp_path):
    done = kiosk("diag", "bundle", "--out", str(tmp_path / "b"), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.exists() and zipfile.is_zipfile(path)
    assert "kivy" not in done.stderr.lower()


def test_diag_all_warns_when_the_kiosk_app_holds_the_ports(data_dir):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stamp = {"last_activity": 0, "busy": False, "started_at": 0, "pid": sleeper.pid}
        (data_dir / "activity.json").write_text(json.dumps(stamp), encoding="ascii")
        args = ["diag", "all", "--json", "--no-test-page"]
        for name in ("idcard", "sscard", "scanner"):
            args += ["--skip", name]
        done = kiosk(*args, data_dir=data_dir, timeout=120)
        report = json.loads(done.stdout)
        assert f"pid {sleeper.pid}" in report["warning"]
    finally:
        sleeper.kill()
        sleeper.wait()
    gone = json.loads(kiosk(*args, data_dir=data_dir, timeout=120).stdout)
    assert "warning" not in gone  # that process has ended


def test_diag_all_inside_the_app_skips_real_devices_the_app_holds(tmp_path):
    from kiosk.diag.all import collect

    site = tmp_path / "site.toml"
    site.write_text(
        '[devices.printer]\nurl = "/dev/ttyUSB7"\n[devices.idcard]\nenabled = false\n'
        "[devices.sscard]\nenabled = false\n[devices.scanner]\nenabled = false\n",
        encoding="utf-8",
    )
    report = collect(load_config(site), in_app=True)
    assert report["checks"]["printer"] == {"ok": True, "skipped": "held by the running app"}
    assert "warning" not in report
