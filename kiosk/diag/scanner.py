"""`kiosk diag scanner [--port URL] [--json] [--timeout S]`: wait for one scan and show it.

Exit status: 0 a code was read; 1 nothing within the timeout (or only rejected input). Without
--port the configured scanner is used; ``sim://`` (demo mode) starts the simulator and scans a
demo code after a moment, proving the whole path.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time

DEMO_CODE = "DEMO-ESSC-0000"


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser("scanner", help="wait for one QR code scan")
    parser.add_argument(
        "--port", help="pyserial URL or device, e.g. /dev/ttyACM0 (default: config)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    parser.add_argument("--config", dest="scanner_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from kiosk.config import load_config
    from kiosk.devices.scanner import QrScanned, ScanRejected, open_scanner

    config = load_config(getattr(args, "scanner_config", None) or getattr(args, "config", None))
    section = config.devices.scanner
    if args.port:
        section = dataclasses.replace(section, url=args.port)
    events: queue.Queue = queue.Queue()
    runtime = open_scanner(section, publish=events.put)
    result: dict = {"ok": False, "code": None}
    rejected: list[str] = []
    try:
        runtime.start()
        if runtime.simulator is not None:
            _scan_when_connected(runtime, DEMO_CODE)
        elif not args.json:
            print(f"请扫码 / scan a code within {args.timeout:g} s ...", file=sys.stderr)
        try:
            while True:
                event = events.get(timeout=args.timeout)
                if isinstance(event, QrScanned):
                    result.update(ok=True, code=event.code)
                    break
                if isinstance(event, ScanRejected):
                    rejected.append(event.reason)
        except queue.Empty:
            result["error"] = "timeout"
            result["message"] = f"no scan within {args.timeout:g} s"
            if rejected:
                result["message"] += f" (rejected input: {', '.join(rejected)})"
    finally:
        runtime.stop()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif result["ok"]:
        print(result["code"])
    else:
        print(f"FAILED: {result['message']}", file=sys.stderr)
    return 0 if result["ok"] else 1


def _scan_when_connected(runtime, code: str, timeout: float = 10.0) -> None:
    """The driver flushes input when it opens the port, so the simulator waits for it."""
    from kiosk.devices.base import DeviceState

    deadline = time.monotonic() + timeout
    while runtime.driver.health().state is not DeviceState.OK and time.monotonic() < deadline:
        time.sleep(0.05)
    runtime.simulator.scan(code)
