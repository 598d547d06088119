"""`kiosk diag printer [--port URL] [--json]`: ask the printer's status, then print a test page.

Exit status: 0 printed and confirmed; 1 the printer is not ready (the message says why: out of
paper, cover open, no reply) or did not confirm the page. Without --port the configured
printer is used; ``sim://`` (demo mode) starts the simulator, which saves the page as PNG.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "printer", help="printer status and a test page (Chinese text, sizes, QR code, cut)"
    )
    parser.add_argument(
        "--port", help="pyserial URL or device, e.g. /dev/ttyUSB0 (default: config)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--config", dest="printer_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.devices.printer import open_printer
    from kiosk.devices.printer.driver import PrinterNotReady, PrintNotConfirmed
    from kiosk.devices.printer.glyphs import GlyphRenderer
    from kiosk.devices.printer.layout import diagnostic_page_bytes
    from kiosk.devices.printer.status import PROBLEM_MESSAGES
    from kiosk.fonts import find_cjk_font
    from kiosk.paths import data_dir

    config = load_config(getattr(args, "printer_config", None) or getattr(args, "config", None))
    section = config.devices.printer
    if args.port:
        section = dataclasses.replace(section, url=args.port)
    runtime = open_printer(
        section,
        publish=lambda event: None,
        data_dir=data_dir(config.kiosk.data_dir),
        poll_interval=0,
    )
    result: dict = {"ok": False, "status": None, "bytes_sent": 0}
    try:
        runtime.start()
        status = runtime.driver.status()
        result["status"] = status.as_dict()
        if not status.ready:
            result["error"] = status.problem
            result["message"] = _problem_text(status.problem, PROBLEM_MESSAGES)
        else:
            page = diagnostic_page_bytes(
                runtime.profile, GlyphRenderer(find_cjk_font()), datetime.now()
            )
            try:
                printed = runtime.driver.print_job(page)
                result.update(ok=True, bytes_sent=printed.bytes_sent)
                result["status"] = printed.status.as_dict()
                if runtime.simulator is not None:
                    runtime.simulator.wait_for_receipts(1, timeout=10)
                    if runtime.simulator.receipts:
                        result["saved_png"] = str(runtime.simulator.receipts[-1])
            except (PrinterNotReady, PrintNotConfirmed) as exc:
                result["status"] = exc.status.as_dict()
                result["bytes_sent"] = getattr(exc, "bytes_sent", 0)
                result["error"] = exc.status.problem or "unconfirmed"
                result["message"] = _problem_text(result["error"], PROBLEM_MESSAGES)
        if not result["ok"] and runtime.driver.health().last_error:
            result["detail"] = runtime.driver.health().last_error
    finally:
        runtime.stop()
    _report(result, args.json)
    return 0 if result["ok"] else 1


def _problem_text(problem: str, messages: dict[str, str]) -> str:
    english = {
        "paper_end": "printer is out of paper",
        "cover_open": "printer cover is open",
        "no_reply": "printer does not answer (not connected or switched off)",
        "offline": "printer is offline",
        "error": "printer reports an error",
        "unconfirmed": "printer did not confirm the test page",
    }
    return f"{messages.get(problem, '打印机未确认打印完成')} / {english.get(problem, problem)}"


def _report(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    status = result["status"] or {}
    for key in ("online", "cover_open", "paper_end", "paper_near_end"):
        value = status.get(key)
        print(f"{key:15} {'unknown' if value is None else value}")
    if result["ok"]:
        print(f"test page printed ({result['bytes_sent']} bytes)")
        if result.get("saved_png"):
            print(f"simulator saved it as {result['saved_png']}")
    else:
        print(f"FAILED: {result['message']}", file=sys.stderr)
        if result.get("detail"):
            print(f"detail: {result['detail']}", file=sys.stderr)
