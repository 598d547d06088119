"""Acceptance self-check (附件4): the standard as data, evidence against the reference server,
the receipt layout and ``kiosk acceptance``."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.domain.acceptance import (
    RECEIPT_WIDTH,
    STANDARD,
    TOTAL_POINTS,
    Verdict,
    display_width,
    receipt_lines,
    wrap,
)
from kiosk.domain.catalogue import load_catalogue
from kiosk.services.acceptance import (
    AcceptanceInputs,
    ClientPlatformProbe,
    load_device_health,
    report_to_json,
    run_acceptance,
    save_device_health,
)
from kiosk.services.audit import AuditLog
from kiosk.services.backend_client import BackendClient

DEVICES = ("idcard", "sscard", "printer", "scanner")
KIOSK_ID = "accept-kiosk-0001"
ANNOUNCE = {
    "version": "0.1.0",
    "service_point": "沁源县沁河镇城关社区就业社保服务点",
    "region_code": "140431",
    "capabilities": list(DEVICES),
}


def healthy():
    return [DeviceHealth(name, DeviceState.OK) for name in DEVICES]


# -- the standard -----------------------------------------------------------------------------


def test_standard_lines_match_the_seed_numbering_and_points():
    assert [line.no for line in STANDARD] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    assert sum(line.points for line in STANDARD) == TOTAL_POINTS == 100
    parts: dict[str, int] = {}
    for line in STANDARD:
        parts[line.part] = parts.get(line.part, 0) + line.points
        assert line.part_points == 25
    assert list(parts.values()) == [25, 25, 25, 25]
    assert [line.no for line in STANDARD if line.check] == [2, 3, 5, 9]


@example("0\u0e5c\u1f46000000\r", 4)  # a trailing line of only whitespace was dropped
@example("一二三四五六 ", 12)
@given(st.text(max_size=200), st.integers(4, 60))
def test_wrap_never_exceeds_the_width_and_loses_nothing(text, width):
    lines = wrap(text, width)
    assert all(display_width(line) <= width for line in lines)
    assert "".join(lines) == text


# -- evidence against the reference server ----------------------------------------------------


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The reference server on 127.0.0.1 (demo seed) with this kiosk provisioned."""
    from kiosk.services.embedded_backend import start_embedded_backend

    directory = tmp_path_factory.mktemp("acceptance-platform")
    url, secret, handle = start_embedded_backend(directory, KIOSK_ID)
    sessions = []

    def probe(kiosk_id=KIOSK_ID, base=url):
        session = requests.Session()
        sessions.append(session)
        client = BackendClient(
            session, base, kiosk_id, secret, connect_timeout=2, read_timeout=10, connect_retries=0
        )
        return ClientPlatformProbe(client, ANNOUNCE)

    probe.url = url
    yield probe
    for session in sessions:
        session.close()
    handle.stop()


@pytest.fixture
def signed_in_audit(data_dir):
    audit = AuditLog(data_dir)
    audit.append("qyhe-op-001", "operator", "sign_in", {"method": "essc"})
    return audit


def inputs(make_probe, audit, **changes):
    base = AcceptanceInputs(
        service_point=ANNOUNCE["service_point"],
        device_id=KIOSK_ID,
        devices=healthy(),
        enabled_devices=DEVICES,
        platform_url=make_probe.url,
        demo_mode=False,
        platform=make_probe(),
        load_catalogue=load_catalogue,
        audit=audit,
    )
    return dataclasses.replace(base, **changes)


def verdicts(report):
    return {r.line.no: r.verdict for r in report.results}


def evidence(report, no):
    return " ".join(next(r.evidence for r in report.results if r.line.no == no))


def test_a_ready_site_passes_every_line_the_kiosk_can_check(platform, signed_in_audit):
    report = run_acceptance(inputs(platform, signed_in_audit))
    v = verdicts(report)
    assert {no: v[no] for no in (2, 3, 5, 9)} == dict.fromkeys((2, 3, 5, 9), Verdict.PASS)
    assert all(v[no] is Verdict.INSPECTOR for no in (1, 4, 6, 8, 10, 11, 12))
    assert (report.auto_points, report.auto_possible, report.inspector_points) == (25, 25, 75)
    assert "40项" in evidence(report, 3) and "一次性告知" in evidence(report, 3)
    assert "平台已确认本机注册" in evidence(report, 9)
    assert "1个业务操作员账号" in evidence(report, 5)


@pytest.mark.parametrize("state", [DeviceState.OFFLINE, DeviceState.FAULT, DeviceState.UNKNOWN])
def test_a_device_not_ok_fails_line_2_and_says_which(platform, signed_in_audit, state):
    devices = healthy()
    devices[2] = DeviceHealth("printer", state, last_error="缺纸")
    report = run_acceptance(inputs(platform, signed_in_audit, devices=devices))
    assert verdicts(report)[2] is Verdict.FAIL
    assert "凭条打印机" in evidence(report, 2) and "缺纸" in evidence(report, 2)


def test_a_missing_device_fails_line_2(platform, signed_in_audit):
    report = run_acceptance(inputs(platform, signed_in_audit, devices=healthy()[:3]))
    assert verdicts(report)[2] is Verdict.FAIL
    assert "扫码器：未检测到" in evidence(report, 2)


def test_an_unreachable_platform_fails_lines_2_and_9(platform, signed_in_audit):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    report = run_acceptance(
        inputs(platform, signed_in_audit, platform=platform(base=dead), platform_url=dead)
    )
    v = verdicts(report)
    assert v[2] is Verdict.FAIL and v[9] is Verdict.FAIL
    assert v[3] is Verdict.PASS and v[5] is Verdict.PASS
    assert "网络" in evidence(report, 2)


def test_an_unregistered_kiosk_fails_line_9_only(platform, signed_in_audit):
    report = run_acceptance(
        inputs(platform, signed_in_audit, platform=platform(kiosk_id="not-registered-0001"))
    )
    v = verdicts(report)
    assert v[9] is Verdict.FAIL and v[2] is Verdict.PASS
    assert "未认可本机" in evidence(report, 9)


def test_demo_mode_is_not_the_unified_platform(platform, signed_in_audit):
    report = run_acceptance(inputs(platform, signed_in_audit, demo_mode=True))
    assert verdicts(report)[9] is Verdict.FAIL


def test_an_incomplete_or_broken_catalogue_fails_line_3(platform, signed_in_audit):
    short = run_acceptance(
        inputs(platform, signed_in_audit, load_catalogue=lambda: list(load_catalogue())[:39])
    )
    assert verdicts(short)[3] is Verdict.FAIL and "39项" in evidence(short, 3)

    def broken():
        raise ValueError("catalogue.toml: item 7: conditions missing")

    report = run_acceptance(inputs(platform, signed_in_audit, load_catalogue=broken))
    assert verdicts(report)[3] is Verdict.FAIL and "无法加载" in evidence(report, 3)


def test_line_5_needs_an_e_ssc_operator_sign_in_in_an_intact_log(platform, data_dir):
    audit = AuditLog(data_dir)
    audit.append("pin@k", "operator", "sign_in", {"method": "pin"})
    audit.append("vendor-eng-01", "vendor", "sign_in", {"method": "essc"})
    assert verdicts(run_acceptance(inputs(platform, audit)))[5] is Verdict.FAIL
    audit.append("qyhe-op-001", "operator", "sign_in", {"method": "essc"})
    assert verdicts(run_acceptance(inputs(platform, audit)))[5] is Verdict.PASS
    lines = audit.path.read_text(encoding="utf-8").splitlines()
    audit.path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    report = run_acceptance(inputs(platform, audit))
    assert verdicts(report)[5] is Verdict.FAIL and "校验失败" in evidence(report, 5)


def test_json_and_receipt_layouts(platform, signed_in_audit):
    report = run_acceptance(inputs(platform, signed_in_audit))
    data = report_to_json(report)
    assert [line["no"] for line in data["lines"]] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    assert {line["verdict"] for line in data["lines"]} == {"pass", "inspector"}
    assert data["auto_points"] == 25 and data["total_points"] == 100
    json.dumps(data, ensure_ascii=False)
    lines = receipt_lines(report)
    assert all(display_width(line) <= RECEIPT_WIDTH for line in lines)
    text = "\n".join(lines)
    assert "由验收人员评分" in text and "达标" in text and "验收人签字" in text


# -- device health snapshots ------------------------------------------------------------------


def test_health_snapshot_round_trip_stale_and_damaged(data_dir):
    devices = healthy()
    devices[1] = DeviceHealth(
        "sscard", DeviceState.FAULT, "no card", "SW 6A82", {"reads": 3}, "pcsc"
    )
    save_device_health(data_dir, devices, now=1000.0)
    loaded, note = load_device_health(data_dir, now=1100.0)
    assert loaded == devices and note == ""
    stale, note = load_device_health(data_dir, now=1000.0 + 3600)
    assert stale == [] and "过时" in note
    (data_dir / "device-health.json").write_text('{"saved_at": 1, "devices": [{"name": 1')
    assert load_device_health(data_dir)[0] == []
    (data_dir / "device-health.json").unlink()
    assert "未运行" in load_device_health(data_dir)[1]


# -- `kiosk acceptance` -----------------------------------------------------------------------


def run_cli(data_dir, *args):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "acceptance", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )


def test_cli_json_in_demo_mode(data_dir):
    save_device_health(data_dir, healthy(), now=time.time())
    AuditLog(data_dir).append("qyhe-op-001", "operator", "sign_in", {"method": "essc"})
    done = run_cli(data_dir, "--json")
    assert done.returncode == 1, done.stderr  # demo mode is not the unified platform
    data = json.loads(done.stdout)
    v = {line["no"]: line["verdict"] for line in data["lines"]}
    assert v[2] == "pass" and v[3] == "pass" and v[5] == "pass" and v[9] == "fail"
    assert data["inspector_points"] == 75


def test_cli_table_and_receipt_without_a_running_app(data_dir):
    table = run_cli(data_dir)
    assert table.returncode == 1
    assert "由验收人员评分" in table.stdout and "自助机程序未运行" in table.stdout
    receipt = run_cli(data_dir, "--receipt")
    assert all(display_width(line) <= RECEIPT_WIDTH for line in receipt.stdout.splitlines())


def test_cli_site_mode_against_the_reference_server(tmp_path, data_dir):
    """GIVEN a site config pointing at a running platform that knows this kiosk
    WHEN `kiosk acceptance --json --config site.toml` runs
    THEN line 9 (unified platform) passes on the platform's word."""
    from kiosk.services.embedded_backend import start_embedded_backend

    platform_dir = tmp_path / "platform"
    platform_dir.mkdir()
    url, _secret, handle = start_embedded_backend(platform_dir, KIOSK_ID)
    try:
        site = tmp_path / "site.toml"
        site.write_text(
            "[kiosk]\n"
            'mode = "site"\n'
            f'device_id = "{KIOSK_ID}"\n'
            "[backend]\n"
            f'url = "{url}"\n'
            f'secret_file = "{platform_dir / "device.secret"}"\n',
            encoding="utf-8",
        )
        save_device_health(data_dir, healthy(), now=time.time())
        AuditLog(data_dir).append("qyhe-op-001", "operator", "sign_in", {"method": "essc"})
        done = run_cli(data_dir, "--json", "--config", str(site))
    finally:
        handle.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    v = {line["no"]: line["verdict"] for line in data["lines"]}
    assert v == {
        1: "inspector",
        2: "pass",
        3: "pass",
        4: "inspector",
        5: "pass",
        6: "inspector",
        8: "inspector",
        9: "pass",
        10: "inspector",
        11: "inspector",
        12: "inspector",
    }
    assert data["auto_points"] == 25


def test_line_5_without_any_audit_log_says_it_could_not_verify(platform, data_dir):
    report = run_acceptance(inputs(platform, AuditLog(data_dir)))
    assert verdicts(report)[5] is Verdict.FAIL
    assert evidence(report, 5) == "本机尚无操作审计记录（无法核验）"
