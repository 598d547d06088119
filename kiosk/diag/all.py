"""`kiosk diag all [--json]`: the vendor's full hardware check, with no personal data in it.

1. Inventory: serial ports (pyserial ``list_ports``: device, VID:PID, description, USB serial
   number of the adapter) and PC/SC readers (pcscd), plus each device's configured URL.
2. Self-test of each enabled device by running its own diag module (``kiosk diag idcard``,
   ``sscard``, ``printer``, ``scanner``) in JSON mode: SAM status and ID, one ID card read, one
   social security card read, printer status and test page, one scanner read. Card and scan
   contents are dropped: a check reports *that* a card was read (and its type), never whose.
3. The sound output the voice and the help chime use (``kiosk diag sound``).
4. Optionally a loopback test of a spare port (``--loopback URL``).

With simulated devices (``sim://``, demo mode) every check runs against the simulators; on a
site the vendor lays an ID card, inserts a social security card and scans a code within
``--card-timeout`` seconds each. The running kiosk app holds the device ports: stop it first
(``systemctl stop jinjinban-kiosk``) or the self-tests report the ports as busy.
Exit 0 when every check passed, 1 otherwise. Never imports Kivy.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from typing import Any

DEVICES = ("idcard", "sscard", "printer", "scanner")
DEVICE_LABELS = {
    "idcard": "身份证阅读器 ID card reader",
    "sscard": "社保卡读卡器 social security card reader",
    "printer": "凭条打印机 receipt printer",
    "scanner": "扫码器 QR scanner",
    "sound": "声音输出 sound output",
}
# What a self-test may report about a card; everything else on it is personal.
_IDCARD_KEEP = ("type", "type_zh", "id_valid", "has_photo", "has_fingerprint")
_SSCARD_KEEP = ("version", "generation", "card_type")


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "all",
        help="every device: inventory, self-tests, optional loopback (no personal data)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--card-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for each card / scan (default 30)",
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=DEVICES, help="skip a device's self-test"
    )
    parser.add_argument("--no-test-page", action="store_true", help="do not print a test page")
    parser.add_argument("--loopback", metavar="URL", help="also loopback-test this serial port")
    parser.add_argument("--config", dest="all_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    config_path = getattr(args, "all_config", None) or getattr(args, "config", None)
    config = load_config(config_path)
    report = collect(
        config,
        config_path=config_path,
        card_timeout=args.card_timeout,
        skip=set(args.skip),
        test_page=not args.no_test_page,
        loopback_url=args.loopback,
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0 if report["ok"] else 1


# -- inventory -------------------------------------------------------------------------------


def serial_ports() -> list[dict]:
    """Serial ports pyserial finds, with USB VID:PID (``hwgrep://VID:PID`` matches them)."""
    from serial.tools import list_ports

    ports = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        vid_pid = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None else ""
        ports.append(
            {
                "device": port.device,
                "vid_pid": vid_pid,
                "description": port.description or "",
                "manufacturer": port.manufacturer or "",
                "product": port.product or "",
                "serial_number": port.serial_number or "",
                "location": port.location or "",
                "hwid": port.hwid or "",
            }
        )
    return ports


def pcsc_readers() -> dict:
    """``{"ok", "readers", "error"}``: PC/SC readers through pcscd (error if pcscd is down)."""
    from kiosk.devices.sscard.errors import SsCardError
    from kiosk.devices.sscard.ports import PcscPort

    try:
        return {"ok": True, "readers": PcscPort().readers(), "error": ""}
    except SsCardError as exc:
        return {"ok": False, "readers": [], "error": f"{exc.code}: {exc}"}
    except Exception as exc:  # pyscard missing its library, ...: report, never crash
        return {"ok": False, "readers": [], "error": f"{type(exc).__name__}: {exc}"}


def inventory(config: Any) -> dict:
    devices = config.devices
    return {
        "serial_ports": serial_ports(),
        "pcsc": pcsc_readers(),
        "configured": {
            name: {"enabled": getattr(devices, name).enabled, "url": getattr(devices, name).url}
            for name in DEVICES
        },
    }


# -- self-tests ------------------------------------------------------------------------------


def _run_module(name: str, args: argparse.Namespace) -> dict:
    """Run ``kiosk diag <name> --json`` in-process and return its JSON (stdout captured)."""
    import importlib

    module = importlib.import_module(f"kiosk.diag.{name}")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exit_code = module.run(args)
    except Exception as exc:  # a diag module's bug must not end the whole check
        return {"ok": False, "error": "internal", "message": f"{type(exc).__name__}: {exc}"}
    text = out.getvalue().strip().splitlines()
    try:
        result = json.loads(text[-1]) if text else {}
    except ValueError:
        result = {"ok": False, "error": "internal", "message": "no JSON from the diag module"}
    result.setdefault("exit_code", exit_code)
    result["ok"] = bool(result.get("ok")) and exit_code == 0
    return result


def _idcard(config_path, timeout: float) -> dict:
    args = argparse.Namespace(
        port=None, json=True, unmasked=False, timeout=timeout, demo_card="resident",
        idcard_config=config_path, config=config_path,
    )  # fmt: skip
    result = _run_module("idcard", args)
    card = result.pop("card", None)
    result["card_read"] = bool(card) and card.get("type") != "unsupported"
    if isinstance(card, dict):
        result["card"] = {k: card[k] for k in _IDCARD_KEEP if k in card}
    return result


def _sscard(config_path, timeout: float) -> dict:
    args = argparse.Namespace(
        reader=None, url=None, json=True, unmasked=False, timeout=timeout, card="gen2",
        sscard_config=config_path, config=config_path,
    )  # fmt: skip
    result = _run_module("sscard", args)
    card = result.pop("card", None)
    result.pop("ireadcardbas", None)
    result["card_read"] = isinstance(card, dict)
    if isinstance(card, dict):
        result["card"] = {k: card[k] for k in _SSCARD_KEEP if k in card}
    return result


def _printer(config_path, test_page: bool) -> dict:
    if not test_page:
        return {"ok": True, "skipped": "test page not requested"}
    args = argparse.Namespace(port=None, json=True, printer_config=config_path, config=config_path)
    result = _run_module("printer", args)
    result.pop("saved_png", None)  # a path inside the data dir; the page itself is harmless
    return result


def _scanner(config_path, timeout: float) -> dict:
    args = argparse.Namespace(
        port=None, json=True, timeout=timeout, scanner_config=config_path, config=config_path
    )
    result = _run_module("scanner", args)
    code = result.pop("code", None)  # could be a resident's e-SSC code: never shown
    result["scan_read"] = bool(code)
    result["scan_length"] = len(code) if code else 0
    return result


def collect(
    config: Any,
    *,
    config_path: str | None = None,
    card_timeout: float = 30.0,
    skip: set[str] | frozenset[str] = frozenset(),
    test_page: bool = True,
    loopback_url: str | None = None,
    in_app: bool = False,
) -> dict:
    """Inventory + each enabled device's self-test (+ loopback); JSON-ready, no personal data.

    Blocks while the tests run (up to ``card_timeout`` per card/scan). ``ok`` is True when
    every check that ran passed. *in_app*: called from the running kiosk app, whose drivers
    hold the real ports — real devices are then skipped (their live health is on the screen);
    simulated ones (``sim://``) still run, each self-test on its own simulator. From the
    command line, a warning is added when the kiosk app seems to be running.
    """
    report: dict = {"inventory": inventory(config), "checks": {}}
    holder = None if in_app else running_app_pid(config)
    if holder is not None:
        report["warning"] = (
            f"the kiosk app (pid {holder}) is running and holds the device ports; "
            "stop it first (systemctl stop jinjinban-kiosk) for the self-tests"
        )
    devices = config.devices
    runners = {
        "idcard": lambda: _idcard(config_path, card_timeout),
        "sscard": lambda: _sscard(config_path, card_timeout),
        "printer": lambda: _printer(config_path, test_page),
        "scanner": lambda: _scanner(config_path, card_timeout),
    }
    for name in DEVICES:
        if name in skip:
            report["checks"][name] = {"ok": True, "skipped": "--skip"}
        elif not getattr(devices, name).enabled:
            report["checks"][name] = {"ok": True, "skipped": "disabled in config"}
        elif in_app and getattr(devices, name).url != "sim://":
            report["checks"][name] = {"ok": True, "skipped": "held by the running app"}
        else:
            report["checks"][name] = runners[name]()
    if in_app:
        # The app's mixer holds the output; its state is on the maintenance 声音 page.
        report["checks"]["sound"] = {"ok": True, "skipped": "held by the running app"}
    else:
        from kiosk.diag.sound import check as sound_check

        report["checks"]["sound"] = sound_check(config)
    if loopback_url:
        from kiosk.diag.loopback import LoopbackError, loopback_test

        try:
            report["checks"]["loopback"] = loopback_test(loopback_url)
        except LoopbackError as exc:
            report["checks"]["loopback"] = {"ok": False, "error": "port", "message": str(exc)}
    report["ok"] = all(check.get("ok") for check in report["checks"].values())
    return report


def running_app_pid(config: Any) -> int | None:
    """The pid of a running kiosk app (from its activity stamp in the data dir), else None."""
    import os

    from kiosk.paths import data_dir
    from kiosk.services.watchdog import ACTIVITY_FILE_NAME

    try:
        path = data_dir(config.kiosk.data_dir) / ACTIVITY_FILE_NAME
        pid = int(json.loads(path.read_text(encoding="ascii"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, another user's
    return pid


def format_report(report: dict) -> str:
    """The report for people: inventory first, then one block per check."""
    lines = [f"WARNING: {report['warning']}", ""] if report.get("warning") else []
    lines.append("串口 / serial ports:")
    ports = report["inventory"]["serial_ports"]
    for port in ports:
        lines.append(f"  {port['device']:<16} {port['vid_pid'] or '-':<10} {port['description']}")
    if not ports:
        lines.append("  (none)")
    pcsc = report["inventory"]["pcsc"]
    lines.append("PC/SC 读卡器 / readers:")
    if pcsc["ok"]:
        lines += [f"  {name}" for name in pcsc["readers"]] or ["  (none)"]
    else:
        lines.append(f"  unavailable: {pcsc['error']}")
    lines.append("")
    for name, check in report["checks"].items():
        verdict = "SKIP" if check.get("skipped") else ("OK" if check.get("ok") else "FAIL")
        lines.append(f"[{verdict:4}] {DEVICE_LABELS.get(name, name)}")
        facts = ("sam_status", "sam_id", "card_read", "scan_read", "readers", "transport")
        for key in (*facts, "driver", "devices", "note"):
            if key in check and check[key] not in (None, "", []):
                lines.append(f"         {key}: {check[key]}")
        if check.get("skipped"):
            lines.append(f"         {check['skipped']}")
        elif not check.get("ok"):
            message = check.get("message") or check.get("error") or "failed"
            if isinstance(message, dict):
                message = message.get("message", "")
            lines.append(f"         {message}")
    lines.append("")
    lines.append("全部通过 / all passed" if report["ok"] else "有未通过项 / some checks failed")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: kiosk diag all")
