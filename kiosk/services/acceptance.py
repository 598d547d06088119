"""Gather the kiosk's own evidence for the acceptance standard (附件4) and build the report.

The kiosk verifies four lines itself; the rest are left to the inspector
(:data:`kiosk.domain.acceptance.INSPECTOR_TEXT`):

* line 2 — computer and self-service device present and online: every enabled device reports
  ``DeviceState.OK`` and the platform answers its health check over the internet;
* line 3 — items and procedures publicised: the catalogue loads with its 40 items, and every
  item states its conditions/materials and time limit (一次性告知);
* line 5 — staff have system access: an operator signed in on this kiosk by e-SSC before, per an
  intact audit log;
* line 9 — the province's unified platform is used: a platform URL is configured (not demo
  mode) and the platform accepts this kiosk's signed registration.

Inputs come from outside (device health snapshots, a :class:`PlatformProbe`, a catalogue
loader, the audit log), so the screen passes live objects and tests pass real ones. Blocking
(network): call from a worker thread. Evidence strings hold no personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.domain.acceptance import (
    STANDARD,
    AcceptanceReport,
    Check,
    LineResult,
    StandardLine,
    Verdict,
)
from kiosk.domain.clock import ServiceClock
from kiosk.domain.roles import Role
from kiosk.services.audit import AuditLog
from kiosk.services.errors import BackendAuthError, BackendError

EXPECTED_ITEMS = 40
DEVICE_HEALTH_FILE_NAME = "device-health.json"
HEALTH_SNAPSHOT_MAX_AGE_S = 600.0

DEVICE_LABELS = {
    "idcard": "身份证阅读器",
    "sscard": "社保卡读卡器",
    "printer": "凭条打印机",
    "scanner": "扫码器",
}


class PlatformProbe(Protocol):
    """What the acceptance check asks of the platform (an adapter over the backend client)."""

    def health(self) -> Any:
        """Return if the platform answers its health check; raise ``BackendError`` if not."""

    def check_registration(self) -> Any:
        """Return if the platform accepts this kiosk's signed request; raise
        ``BackendAuthError`` if it does not know the kiosk, another ``BackendError`` if the
        question could not be asked."""


@dataclass(frozen=True)
class AcceptanceInputs:
    """Everything the self-check looks at. ``devices``: health snapshots of the drivers;
    ``enabled_devices``: names the configuration enables (idcard, sscard, printer, scanner)."""

    service_point: str
    device_id: str
    devices: Sequence[DeviceHealth]
    enabled_devices: Sequence[str]
    platform_url: str
    demo_mode: bool
    platform: PlatformProbe | None
    load_catalogue: Callable[[], Any]
    audit: AuditLog
    device_note: str = ""  # why ``devices`` is empty, when it is (app not running, ...)
    now: Callable[[], dt.datetime] = ServiceClock().now  # the service point's clock


def run_acceptance(inputs: AcceptanceInputs) -> AcceptanceReport:
    """Check every line of the standard; never raises for a failed check (it becomes FAIL)."""
    platform_ok, platform_evidence = _platform_health(inputs)
    checks: dict[Check, Callable[[], tuple[Verdict, list[str]]]] = {
        Check.EQUIPMENT_ONLINE: lambda: _equipment(inputs, platform_ok, platform_evidence),
        Check.PUBLICITY: lambda: _publicity(inputs),
        Check.STAFF_ACCOUNT: lambda: _staff_account(inputs),
        Check.UNIFIED_PLATFORM: lambda: _unified_platform(inputs, platform_ok),
    }
    results = []
    for line in STANDARD:
        results.append(_result(line, checks))
    return AcceptanceReport(
        service_point=inputs.service_point,
        device_id=inputs.device_id,
        checked_at=inputs.now().strftime("%Y-%m-%d %H:%M"),
        results=tuple(results),
    )


def report_to_json(report: AcceptanceReport) -> dict:
    """The report as plain JSON data (``kiosk acceptance --json``)."""
    return {
        "service_point": report.service_point,
        "device_id": report.device_id,
        "checked_at": report.checked_at,
        "lines": [
            {
                "part": r.line.part,
                "no": r.line.no,
                "text": r.line.text,
                "points": r.line.points,
                "verdict": r.verdict.value,
                "evidence": list(r.evidence),
            }
            for r in report.results
        ],
        "auto_points": report.auto_points,
        "auto_possible": report.auto_possible,
        "inspector_points": report.inspector_points,
        "total_points": sum(r.line.points for r in report.results),
    }


def _result(line: StandardLine, checks) -> LineResult:
    if line.check is None:
        return LineResult(line, Verdict.INSPECTOR)
    verdict, evidence = checks[line.check]()
    return LineResult(line, verdict, tuple(evidence))


def _platform_health(inputs: AcceptanceInputs) -> tuple[bool, str]:
    if inputs.platform is None:
        return False, "未配置平台地址，无法检查网络"
    try:
        inputs.platform.health()
    except BackendError as exc:
        return False, f"平台健康检查失败：{exc.message}"
    return True, "互联网络已接通，平台健康检查正常"


def _equipment(inputs: AcceptanceInputs, platform_ok: bool, platform_evidence: str):
    evidence = ["本机为就业社保自助服务设备"]
    if inputs.device_note:
        evidence.append(inputs.device_note)
    elif not inputs.devices:
        evidence.append("未取得设备状态")
    ok = bool(inputs.devices)
    by_name = {h.name: h for h in inputs.devices}
    for name in inputs.enabled_devices if inputs.devices else ():
        label = DEVICE_LABELS.get(name, name)
        health = by_name.get(name)
        if health is None:
            evidence.append(f"{label}：未检测到")
            ok = False
        elif health.state is DeviceState.OK:
            evidence.append(f"{label}：在线")
        else:
            reason = health.last_error or health.detail or health.state.value
            evidence.append(f"{label}：{_state_label(health.state)}（{reason}）")
            ok = False
    if not inputs.enabled_devices:
        evidence.append("配置中未启用任何外设")
        ok = False
    evidence.append(platform_evidence)
    ok = ok and platform_ok
    return (Verdict.PASS if ok else Verdict.FAIL), evidence


def _state_label(state: DeviceState) -> str:
    return {
        DeviceState.FAULT: "故障",
        DeviceState.OFFLINE: "离线",
        DeviceState.UNKNOWN: "状态未知",
        DeviceState.DISABLED: "未启用",
    }.get(state, state.value)


def _publicity(inputs: AcceptanceInputs):
    try:
        catalogue = inputs.load_catalogue()
    except Exception as exc:  # any load failure means nothing is publicised; say what
        return Verdict.FAIL, [f"服务事项目录无法加载：{exc}"]
    items = list(catalogue)
    evidence = [f"本机公示服务事项{len(items)}项（省定{EXPECTED_ITEMS}项）"]
    missing = [
        item.no
        for item in items
        if not (item.conditions.strip() and item.time_limit_text.strip() and item.materials)
    ]
    if missing:
        shown = "、".join(str(no) for no in missing[:10])
        evidence.append(f"第{shown}项未完整告知办理条件、材料或时限")
    else:
        evidence.append("每项均公示办理条件、所需材料和办结时限（一次性告知）")
    kiosk_items = sum(1 for item in items if item.kiosk_runs)
    evidence.append(f"自助机可办{kiosk_items}项，其余项公示柜台办理流程")
    ok = len(items) == EXPECTED_ITEMS and not missing
    return (Verdict.PASS if ok else Verdict.FAIL), evidence


def _staff_account(inputs: AcceptanceInputs):
    result = inputs.audit.verify()
    if not result.ok:
        return Verdict.FAIL, [f"操作审计记录校验失败（第{result.broken_seq}条：{result.reason}）"]
    sign_ins = [
        e
        for e in inputs.audit.entries()
        if e.action == "sign_in"
        and e.role == Role.OPERATOR.value
        and e.detail.get("method") == "essc"
    ]
    if not sign_ins:
        return Verdict.FAIL, ["尚无业务操作员通过电子社保卡在本机登录的记录"]
    accounts = {e.account for e in sign_ins}
    last = max(e.time for e in sign_ins)[:10]
    return Verdict.PASS, [
        f"{len(accounts)}个业务操作员账号曾在本机扫码登录，最近一次{last}",
        "操作审计记录完整",
    ]


def _unified_platform(inputs: AcceptanceInputs, platform_ok: bool):
    if inputs.demo_mode:
        return Verdict.FAIL, ["演示模式：使用内置参考平台，未接入省统一公共服务平台"]
    if not inputs.platform_url:
        return Verdict.FAIL, ["未配置平台地址（backend.url），未接入省统一公共服务平台"]
    evidence = [f"平台地址：{inputs.platform_url}"]
    if inputs.platform is None or not platform_ok:
        evidence.append("平台不可达，无法确认本机注册")
        return Verdict.FAIL, evidence
    try:
        inputs.platform.check_registration()
    except BackendAuthError:
        evidence.append("平台未认可本机（未注册或密钥不符）")
        return Verdict.FAIL, evidence
    except BackendError as exc:
        evidence.append(f"无法确认本机注册：{exc.message}")
        return Verdict.FAIL, evidence
    evidence.append(f"平台已确认本机注册（设备编号 {inputs.device_id}）")
    return Verdict.PASS, evidence


class ClientPlatformProbe:
    """:class:`PlatformProbe` over the kiosk's ``BackendClient``: ``GET /health`` and the signed
    ``POST /kiosks/register`` announce (the same call the app makes at start-up)."""

    def __init__(self, client: Any, announce: dict[str, Any]) -> None:
        self._client = client
        self._announce = dict(announce)

    def health(self) -> Any:
        return self._client.health()

    def check_registration(self) -> Any:
        return self._client.post_command("/kiosks/register", self._announce)


# -- device health snapshots ------------------------------------------------------------------
# The running app owns the devices (serial ports are exclusive), so a separate `kiosk
# acceptance` process reads the health the app last saw from a small file in the data dir.


def save_device_health(
    data_dir: os.PathLike | str, healths: Sequence[DeviceHealth], *, now: float | None = None
) -> None:
    """Write the drivers' health snapshots atomically (the app calls this on each heartbeat)."""
    path = os.path.join(data_dir, DEVICE_HEALTH_FILE_NAME)
    data = {
        "saved_at": time.time() if now is None else now,
        "devices": [
            {
                "name": h.name,
                "state": h.state.value,
                "detail": h.detail,
                "last_error": h.last_error,
                "counters": dict(h.counters),
                "transport": h.transport,
            }
            for h in healths
        ],
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(tmp, path)


def load_device_health(
    data_dir: os.PathLike | str,
    *,
    now: float | None = None,
    max_age_s: float = HEALTH_SNAPSHOT_MAX_AGE_S,
) -> tuple[list[DeviceHealth], str]:
    """The saved snapshots and a note; an empty list (with the reason) when the file is
    missing, damaged or older than *max_age_s* (the app is not running)."""
    path = os.path.join(data_dir, DEVICE_HEALTH_FILE_NAME)
    now = time.time() if now is None else now
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        saved_at = float(data["saved_at"])
        healths = [
            DeviceHealth(
                name=str(d["name"]),
                state=DeviceState(d["state"]),
                detail=str(d.get("detail", "")),
                last_error=str(d.get("last_error", "")),
                counters={str(k): int(v) for k, v in dict(d.get("counters", {})).items()},
                transport=str(d.get("transport", "")),
            )
            for d in data["devices"]
        ]
    except FileNotFoundError:
        return [], "自助机程序未运行，设备状态未知"
    except (OSError, ValueError, KeyError, TypeError):
        return [], "设备状态文件损坏"
    if now - saved_at > max_age_s:
        return [], f"设备状态已过时（{int((now - saved_at) // 60)}分钟前），自助机程序可能未运行"
    return healths, ""
