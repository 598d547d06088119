"""``kiosk acceptance [--json] [--receipt]``: the service-point acceptance self-check (附件4).

For each line of the standard: the kiosk's own verdict with evidence (lines 2, 3, 5, 9) or
"由验收人员评分". Device health is the snapshot the running app last saved in the data dir (the
app owns the serial ports); the platform is asked over HTTP — in demo mode the reference server
is started in-process for the check. ``--receipt`` prints the receipt layout (≤ 24 汉字 a line).
Exit 0 when every self-checked line passes, 1 otherwise. Never imports Kivy.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "acceptance", help="service-point acceptance self-check (附件4)", description=__doc__
    )
    parser.add_argument("--config", help="site config file (default: $KIOSK_CONFIG or demo)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument("--receipt", action="store_true", help="print the receipt layout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.domain.acceptance import Verdict, receipt_lines
    from kiosk.paths import data_dir
    from kiosk.services.acceptance import report_to_json

    config = load_config(args.config)
    directory = data_dir(config.kiosk.data_dir)
    report = _run_with_platform(config, directory)
    if args.json:
        json.dump(report_to_json(report), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.receipt:
        sys.stdout.write("\n".join(receipt_lines(report)) + "\n")
    else:
        sys.stdout.write(format_table(report))
    failed = any(r.verdict is Verdict.FAIL for r in report.results)
    return 1 if failed else 0


def _run_with_platform(config, directory):
    """Build the inputs (starting the embedded backend in demo mode) and run the check."""
    import kiosk
    from kiosk.domain.catalogue import load_catalogue
    from kiosk.domain.clock import ServiceClock
    from kiosk.services.acceptance import (
        AcceptanceInputs,
        ClientPlatformProbe,
        load_device_health,
        run_acceptance,
    )
    from kiosk.services.audit import AuditLog

    healths, note = load_device_health(directory)
    devices = config.devices
    enabled = [
        name
        for name in ("idcard", "sscard", "printer", "scanner")
        if getattr(devices, name).enabled
    ]
    announce = {
        "version": kiosk.__version__,
        "service_point": config.kiosk.service_point,
        "region_code": config.kiosk.region_code,
        "capabilities": enabled,
    }
    handle = None
    session = None
    probe = None
    try:
        client, handle, session = _backend_client(config, directory)
        if client is not None:
            probe = ClientPlatformProbe(client, announce)
        inputs = AcceptanceInputs(
            service_point=config.kiosk.service_point,
            device_id=config.kiosk.device_id,
            devices=healths,
            enabled_devices=enabled,
            platform_url=config.backend.url,
            demo_mode=config.is_demo,
            platform=probe,
            load_catalogue=load_catalogue,
            audit=AuditLog(directory),
            device_note=note,
            now=ServiceClock(config.kiosk.timezone).now,
        )
        return run_acceptance(inputs)
    finally:
        if session is not None:
            session.close()
        if handle is not None:
            handle.stop()


def _backend_client(config, directory):
    """(client, embedded-server handle, requests session); client None if unconfigured."""
    from pathlib import Path

    import requests

    from kiosk.services import signing
    from kiosk.services.backend_client import BackendClient

    handle = None
    if config.backend.url:
        url = config.backend.url
        secret_path = Path(config.backend.secret_file or directory / "device.secret")
        try:
            secret = signing.load_secret(secret_path)
        except signing.SecretFileError as exc:
            print(f"设备密钥不可用 / device secret unusable: {exc}", file=sys.stderr)
            secret = b""
    elif config.is_demo:
        from kiosk.services.embedded_backend import start_embedded_backend

        url, secret, handle = start_embedded_backend(directory, config.kiosk.device_id)
    else:
        return None, None, None
    session = requests.Session()
    try:
        client = BackendClient.from_config(
            session, config.backend, url, config.kiosk.device_id, secret
        )
    except Exception:
        session.close()
        if handle is not None:
            handle.stop()
        raise
    return client, handle, session


def format_table(report) -> str:
    """A table for people: part, no, points, verdict, then the evidence lines indented."""
    lines = [f"{report.service_point}  设备 {report.device_id}  {report.checked_at}", ""]
    part = ""
    for result in report.results:
        if result.line.part != part:
            part = result.line.part
            lines.append(f"{part}（{result.line.part_points}分）")
        lines.append(
            f"  {result.line.no:>2}. [{result.line.points:>2}分] {result.verdict.label}  "
            f"{result.line.text}"
        )
        lines.extend(f"        · {item}" for item in result.evidence)
    lines.append("")
    lines.append(
        f"本机自查得分 {report.auto_points}/{report.auto_possible}，"
        f"其余 {report.inspector_points} 分由验收人员评分"
    )
    return "\n".join(lines) + "\n"
