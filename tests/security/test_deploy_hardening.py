"""The deploy/ files of a service point, read as systemd, PAM and udev will read them.

Findings (issue 13): the PAM file said ``auth required pam_permit.so``; the unit lacked
``SystemCallFilter``, ``IPAddressDeny/Allow``, ``ProtectProc=invisible``, ``ProcSubset=pid`` and
allowed every tty and USB device; ``site.toml`` was installed 0644 although it could hold the
maintenance PIN's hash.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from test_watchdog import DEPLOY, read_unit

UNIT = "jinjinban-kiosk.service"
ALLOW_PLATFORM = DEPLOY / "jinjinban-kiosk-allow-platform"
SITE_README = DEPLOY / "README-kiosk-site.md"


def test_the_pam_stack_denies_authentication():
    lines = [
        line.split()
        for line in (DEPLOY / "pam.d-jinjinban-kiosk").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert [line for line in lines if line[0] == "auth"] == [["auth", "required", "pam_deny.so"]]
    assert not any("pam_permit.so" in line for line in lines)


def test_the_unit_filters_system_calls_network_and_proc():
    service = read_unit(UNIT)["Service"]
    assert service["SystemCallFilter"] == ["@system-service"]
    assert service["SystemCallErrorNumber"] == ["EPERM"]
    assert service["IPAddressDeny"] == ["any"]
    assert service["IPAddressAllow"] == ["localhost"]  # the platform comes from the drop-in
    assert service["ProtectProc"] == ["invisible"]
    assert service["ProcSubset"] == ["pid"]


def test_the_unit_allows_only_the_kiosks_named_devices():
    service = read_unit(UNIT)["Service"]
    assert service["DevicePolicy"] == ["closed"]
    assert sorted(service["DeviceAllow"]) == [
        "/dev/input/kiosk-touch rw",
        "/dev/kiosk-idcard rw",
        "/dev/kiosk-printer rw",
        "/dev/kiosk-scanner rw",
        "/dev/tty7 rw",
        "char-alsa rw",  # the speaker (voice guidance, help chime)
        "char-drm rw",
    ]
    # every named device has its udev rule
    rules = (DEPLOY / "99-jinjinban-kiosk.rules").read_text(encoding="utf-8")
    named = set(re.findall(r'^[^#].*SYMLINK\+="([^"]+)"', rules, flags=re.MULTILINE))
    for allowed in service["DeviceAllow"]:
        path = allowed.split()[0]
        if path.startswith("/dev/") and path != "/dev/tty7":
            assert path.removeprefix("/dev/") in named, path


def test_the_allow_list_drop_in_names_the_platform_and_the_dns_servers(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[backend]\nurl = "https://192.0.2.10:8443"\n', encoding="utf-8")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.53\nnameserver 198.51.100.53\n", encoding="utf-8")
    drop_in = tmp_path / f"{UNIT}.d" / "platform.conf"
    result = subprocess.run(
        [sys.executable, str(ALLOW_PLATFORM), "--config", str(site),
         "--resolv-conf", str(resolv), "--out", str(drop_in)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in drop_in.read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["[Service]", "IPAddressAllow=192.0.2.10 198.51.100.53"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_unit_and_its_drop_in_pass_systemd_analyze_verify(tmp_path):
    unit = tmp_path / UNIT
    shutil.copy(DEPLOY / UNIT, unit)
    drop_in = tmp_path / f"{UNIT}.d" / "platform.conf"
    drop_in.parent.mkdir()
    drop_in.write_text("[Service]\nIPAddressAllow=192.0.2.10 198.51.100.53\n")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is not executable" not in line  # cage is not installed here
    ]
    assert problems == []


def test_site_toml_is_installed_for_root_and_the_kiosk_group_only():
    text = SITE_README.read_text(encoding="utf-8")
    installs = [line for line in text.splitlines() if "site.toml" in line and "install " in line]
    assert installs, "the README installs site.toml"
    for line in installs:
        assert "-m 0640" in line and "-o root" in line and "-g kiosk" in line, line
    # the PIN's hash is not configuration: each operator's lives in a 0600 file of the data dir
    assert "pin_hash" not in text
    assert "maintenance-pins.json" in text
