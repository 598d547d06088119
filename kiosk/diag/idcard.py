"""`kiosk diag idcard [--port URL] [--json] [--unmasked] [--timeout S]`: check the ID card reader.

Opens the reader, reports the SAM status and SAM ID, waits for one card and prints it decoded
(masked unless --unmasked). Without --port the configured reader is used; ``sim://`` (demo mode)
starts the simulator and lays a demo card on it after a moment (--demo-card chooses which).
Each fault prints one line and exits with its own code (see EXIT_CODES / --help).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PORT = 3
EXIT_NO_ANSWER = 4
EXIT_SAM = 5
EXIT_NO_CARD = 6
EXIT_READ_FAILED = 7
EXIT_UNSUPPORTED = 8
EXIT_INVALID_ID = 9

EXIT_HELP = """exit status:
  0  card read and its ID number passes the identity rules
  2  usage or configuration error
  3  the port cannot be opened (missing, busy, unplugged)
  4  the reader does not answer (timeout or garbled answers)
  5  the SAM module reports a fault
  6  no card laid on the reader within --timeout
  7  a card was found but could not be read (lifted, not an ID card, failed authentication)
  8  the card's layout is not supported
  9  the card was read but its ID number fails the identity rules
"""

DEMO_CARD_DELAY = 0.5  # seconds before the simulator lays its card, so the wait is visible
POLL_INTERVAL = 0.2


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "idcard",
        help="ID card reader: SAM status and ID, then read one card",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        help="pyserial URL or device, e.g. /dev/ttyUSB0, hwgrep://VID:PID (default: config)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--unmasked", action="store_true", help="show name, number, address in full"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for a card (default 30)"
    )
    parser.add_argument(
        "--demo-card",
        default="resident",
        help="simulator only: which demo card to lay (resident, long_term, appended, "
        "fingerprint, hk_mo_tw, foreigner, unknown)",
    )
    parser.add_argument("--config", dest="idcard_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


class _Failure(Exception):
    def __init__(self, exit_code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.error = error
        self.message = message


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.devices.idcard import SIM_URL
    from kiosk.devices.idcard.demo_cards import demo_cards
    from kiosk.devices.idcard.driver import IdCardReader
    from kiosk.devices.idcard.simulator import DEMO_DELAYS, IdCardSimulator

    config = load_config(getattr(args, "idcard_config", None) or getattr(args, "config", None))
    section = config.devices.idcard
    if args.port:
        section = dataclasses.replace(section, url=args.port)
    if args.timeout <= 0:
        return _finish(args, {"ok": False}, _Failure(EXIT_USAGE, "usage", "--timeout must be > 0"))
    result: dict = {"ok": False, "port": section.url, "sam_status": None, "sam_id": None}
    simulator = None
    if section.url == SIM_URL:
        cards = demo_cards()
        if args.demo_card not in cards:
            failure = _Failure(EXIT_USAGE, "usage", f"unknown demo card {args.demo_card!r}")
            return _finish(args, result, failure)
        simulator = IdCardSimulator(delays=DEMO_DELAYS)
        section = dataclasses.replace(section, url=simulator.start())
        result["port"] = f"{SIM_URL} (simulator at {section.url})"
        timer = threading.Timer(DEMO_CARD_DELAY, simulator.place, args=(cards[args.demo_card],))
        timer.daemon = True
        timer.start()
    reader = IdCardReader(
        section.url,
        baudrate=section.baudrate,
        read_fingerprint=section.read_fingerprint,
        read_appended_address=section.read_appended_address,
    )
    failure = None
    try:
        _diagnose(reader, args, result)
    except _Failure as exc:
        failure = exc
    finally:
        reader.disconnect()
        if simulator is not None:
            simulator.stop()
    return _finish(args, result, failure)


def _diagnose(reader, args: argparse.Namespace, result: dict) -> None:
    from kiosk.devices.idcard import errors
    from kiosk.devices.idcard.cards import UnsupportedCard

    try:
        reader.connect()
        try:
            reader.sam_status()
        except errors.SamFault as exc:
            result["sam_status"] = f"fault {exc.sw3:02X}"
            raise _Failure(EXIT_SAM, exc.code, f"SAM fault ({exc.detail})") from None
        result["sam_status"] = "ok"
        result["sam_id"] = reader.read_sam_id()
        if not args.json:
            print(
                f"请放置身份证 / lay an ID card on the reader ({args.timeout:g} s) ...",
                file=sys.stderr,
            )
        deadline = time.monotonic() + args.timeout
        while not reader.find_card():
            if time.monotonic() >= deadline:
                raise _Failure(EXIT_NO_CARD, "no_card", f"no card within {args.timeout:g} s")
            time.sleep(POLL_INTERVAL)
        reader.select_card()
        card = reader.read_card()
    except errors.PortError as exc:
        raise _Failure(EXIT_PORT, exc.code, exc.detail) from None
    except errors.SamFault as exc:
        raise _Failure(EXIT_SAM, exc.code, f"SAM fault ({exc.detail})") from None
    except (errors.ReaderTimeout, errors.FrameError, errors.FrameRejected) as exc:
        message = f"reader does not answer properly ({exc.code}: {exc.detail})"
        raise _Failure(EXIT_NO_ANSWER, exc.code, message) from None
    except errors.IdCardError as exc:
        raise _Failure(EXIT_READ_FAILED, exc.code, f"card read failed ({exc.detail})") from None
    if isinstance(card, UnsupportedCard):
        result["card"] = {"type": "unsupported", "marker": f"{card.marker:02X}"}
        raise _Failure(
            EXIT_UNSUPPORTED,
            "unsupported_card",
            f"unsupported card layout (byte 248 = {card.marker:02X})",
        )
    result["card"] = card.as_dict(masked=not args.unmasked)
    card.wipe()
    if card.id_problem:
        raise _Failure(
            EXIT_INVALID_ID,
            "invalid_id_number",
            f"ID number on the card fails the identity rules ({card.id_problem})",
        )
    result["ok"] = True


def _finish(args: argparse.Namespace, result: dict, failure: _Failure | None) -> int:
    exit_code = EXIT_OK if failure is None else failure.exit_code
    result["exit_code"] = exit_code
    if failure is not None:
        result.update(ok=False, error=failure.error, message=failure.message)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_text(result)
        if failure is not None:
            print(f"FAILED (exit {exit_code}): {failure.message}", file=sys.stderr)
    return exit_code


_LABELS = (
    ("type_zh", "证件 type"),
    ("name", "姓名 name"),
    ("english_name", "英文名 English name"),
    ("sex", "性别 sex"),
    ("nation", "民族 nation"),
    ("nationality", "国籍 nationality"),
    ("birth_date", "出生 birth"),
    ("address", "住址 address"),
    ("id_number", "号码 ID number"),
    ("pass_number", "通行证 pass number"),
    ("authority", "签发机关 authority"),
    ("valid_from", "有效期起 valid from"),
    ("valid_to", "有效期止 valid to"),
)


def _print_text(result: dict) -> None:
    print(f"port:       {result.get('port')}")
    if result.get("sam_status") is not None:
        print(f"SAM status: {result['sam_status']}")
    if result.get("sam_id"):
        print(f"SAM ID:     {result['sam_id']}")
    card = result.get("card")
    if not card:
        return
    if card.get("type") == "unsupported":
        print(f"card:       unsupported layout (marker {card['marker']})")
        return
    for key, label in _LABELS:
        if card.get(key):
            print(f"{label}: {card[key]}")
    if card.get("id_problem"):
        print(f"号码校验 ID check: FAILED ({card['id_problem']})")
