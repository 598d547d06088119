"""`kiosk diag sscard`: list PC/SC readers, wait for a social security card, read and show it.

Personal fields are masked unless --unmasked. In demo mode (``url = "sim://"``) a virtual card is
inserted after a moment (``--card`` picks which), through pcscd + vpcd when pcscd runs.
Exit codes are in :data:`EXIT_CODES` and in ``--help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import sys
import time
from datetime import date

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_PCSC_UNAVAILABLE = 3
EXIT_NO_READER = 4
EXIT_NO_CARD = 5
EXIT_NOT_SSCARD = 6
EXIT_REMOVED = 7
EXIT_MUTE = 8
EXIT_BAD_DATA = 9
EXIT_AUTH = 10
EXIT_READER_FAULT = 11

EXIT_CODES = {
    EXIT_OK: "card read",
    EXIT_INTERNAL: "internal error",
    EXIT_CONFIG: "bad configuration or option",
    EXIT_PCSC_UNAVAILABLE: "pcscd is not running",
    EXIT_NO_READER: "no (matching) PC/SC reader",
    EXIT_NO_CARD: "no card inserted within --timeout",
    EXIT_NOT_SSCARD: "not a social security card (SSSE application not found)",
    EXIT_REMOVED: "card removed during the read",
    EXIT_MUTE: "card does not answer",
    EXIT_BAD_DATA: "card answered malformed or invalid data",
    EXIT_AUTH: "card authentication failed (a cloned card, the PSAM) or is not configured",
    EXIT_READER_FAULT: "other reader fault",
}

# error code (kiosk.devices.sscard.errors.*.code) -> exit code
_EXIT_FOR_CODE = {
    "pcsc_unavailable": EXIT_PCSC_UNAVAILABLE,
    "no_reader": EXIT_NO_READER,
    "reader_gone": EXIT_NO_READER,
    "not_found": EXIT_NOT_SSCARD,
    "removed": EXIT_REMOVED,
    "mute": EXIT_MUTE,
    "auth_failed": EXIT_AUTH,
    "auth_not_configured": EXIT_AUTH,
    "card_not_genuine": EXIT_AUTH,
    "read_key_refused": EXIT_AUTH,
    "psam_unavailable": EXIT_AUTH,
    "psam_algorithm": EXIT_AUTH,
    "psam_key_missing": EXIT_AUTH,
    "security": EXIT_AUTH,
    "reader": EXIT_READER_FAULT,
    "internal": EXIT_INTERNAL,
}

_GENERATION_ZH = {1: "第一代", 2: "第二代", 3: "第三代"}


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    codes = "\n".join(f"  {code:>2}  {text}" for code, text in EXIT_CODES.items())
    parser = diag_subparsers.add_parser(
        "sscard",
        help="read a social security card (PC/SC)",
        description="List PC/SC readers, wait for a social security card, print its data.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--reader", help="substring of the reader name (default: config)")
    parser.add_argument(
        "--url", help="'pcsc://' real readers or 'sim://' demo card (default: config)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--unmasked", action="store_true", help="show personal fields in full")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a card")
    parser.add_argument(
        "--card", default="gen2", help="demo card to insert with url sim:// (default gen2)"
    )
    parser.add_argument("--config", dest="sscard_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


@dataclasses.dataclass
class _Outcome:
    exit_code: int = EXIT_INTERNAL
    readers: list[str] = dataclasses.field(default_factory=list)
    reader: str = ""
    transport: str = ""
    atr: bytes = b""
    card: object = None
    error_code: str = ""
    message: str = ""
    message_zh: str = ""


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    config = load_config(getattr(args, "sscard_config", None) or getattr(args, "config", None))
    section = config.devices.sscard
    if args.url:
        section = dataclasses.replace(section, url=args.url)
    if args.reader:
        section = dataclasses.replace(section, reader=args.reader)
    outcome = _diagnose(section, args, device_id=config.kiosk.device_id)
    _report(outcome, args, device_id=config.kiosk.device_id)
    return outcome.exit_code


def _diagnose(section, args: argparse.Namespace, *, device_id: str) -> _Outcome:
    from kiosk.devices.sscard import TRANSPORT_IN_PROCESS, open_reader
    from kiosk.devices.sscard.errors import SsCardError
    from kiosk.devices.sscard.events import (
        CardInserted,
        CardReadFailed,
        ReaderFault,
        SsCardRead,
    )
    from kiosk.devices.sscard.ports import InProcessPort, PcscPort

    outcome = _Outcome()
    events: queue.Queue = queue.Queue()
    try:
        runtime = open_reader(section, events.put)
    except ValueError as exc:
        return _fail(outcome, EXIT_CONFIG, "config", str(exc))
    control = runtime.virtual_card
    if control is not None and control.transport == TRANSPORT_IN_PROCESS:
        outcome.readers = [InProcessPort.READER_NAME]
    else:
        try:
            outcome.readers = PcscPort().readers()
        except SsCardError as exc:
            return _fail(
                outcome, _EXIT_FOR_CODE.get(exc.code, EXIT_READER_FAULT), exc.code, str(exc)
            )
    outcome.transport = runtime.driver.health().transport
    if control is not None and args.card not in control.profiles:
        known = ", ".join(control.profiles)
        return _fail(outcome, EXIT_CONFIG, "config", f"unknown demo card {args.card!r} ({known})")
    wanted = [r for r in outcome.readers if (runtime.driver.reader_filter or "") in r]
    if not wanted:
        return _fail(outcome, EXIT_NO_READER, "no_reader", "no PC/SC reader matches")
    runtime.start()
    try:
        expected_atr = None  # with a virtual card: only its own insertion counts
        if control is not None:
            # Let pcscd settle first: a card pulled by a previous run may still look present.
            runtime.driver.wait_ready(3.0)
            settle = time.monotonic() + 3.0
            while runtime.driver.card_present and time.monotonic() < settle:
                time.sleep(0.05)
            expected_atr = control.insert(args.card).atr
        elif not args.json:
            print(f"请插入社保卡 / insert a card within {args.timeout:g} s ...", file=sys.stderr)
        deadline = time.monotonic() + args.timeout
        inserted = False
        insertion = None  # results of other (stale) insertions are ignored
        while True:
            remaining = deadline - time.monotonic()
            if inserted:  # the driver's own watchdog bounds the read
                remaining = max(remaining, section.read_timeout + 2)
            try:
                event = events.get(timeout=max(0.0, remaining))
            except queue.Empty:
                return _fail(outcome, EXIT_NO_CARD, "no_card", f"no card within {args.timeout:g} s")
            if isinstance(event, ReaderFault):
                code = _EXIT_FOR_CODE.get(event.code, EXIT_READER_FAULT)
                return _fail(outcome, code, event.code, event.detail)
            if isinstance(event, CardInserted):
                if expected_atr is None or event.atr == expected_atr:
                    inserted, insertion = True, event.insertion
                    outcome.reader, outcome.atr = event.reader, event.atr
            elif getattr(event, "insertion", None) != insertion:
                continue
            elif isinstance(event, SsCardRead):
                outcome.card = event.card
                outcome.exit_code = EXIT_OK
                return outcome
            elif isinstance(event, CardReadFailed):
                outcome.message_zh = event.message_zh
                code = _EXIT_FOR_CODE.get(event.code, EXIT_BAD_DATA)
                return _fail(outcome, code, event.code, event.detail)
    finally:
        if control is not None:
            control.remove()
        runtime.stop()


def _fail(outcome: _Outcome, exit_code: int, code: str, message: str) -> _Outcome:
    outcome.exit_code, outcome.error_code, outcome.message = exit_code, code, message
    return outcome


def _authentication_zh(authentication) -> str:
    if authentication.method != "psam":
        return "未认证（authenticator = none）"
    steps = "内部认证" + ("、外部认证(RKSSSE)" if authentication.external else "")
    algorithm = authentication.algorithm.upper()
    return f"PSAM {algorithm} {steps}通过；终端机编号 {authentication.terminal_number or '未知'}"


def _report(outcome: _Outcome, args: argparse.Namespace, *, device_id: str) -> None:
    card = outcome.card
    masked = not args.unmasked
    if args.json:
        result: dict[str, object] = {
            "ok": outcome.exit_code == EXIT_OK,
            "exit_code": outcome.exit_code,
            "readers": outcome.readers,
            "reader": outcome.reader,
            "transport": outcome.transport,
            "atr": outcome.atr.hex().upper(),
            "card": None,
        }
        if card is not None:
            result["card"] = card.to_dict(masked=masked)
            result["expired"] = card.is_expired(date.today())
            if not masked:
                from kiosk.devices.sscard.card import ireadcardbas

                result["ireadcardbas"] = ireadcardbas(
                    card,
                    terminal_number=card.authentication.terminal_number,
                    device_number=device_id,
                )
        if outcome.exit_code != EXIT_OK:
            result["error"] = {
                "code": outcome.error_code,
                "message": outcome.message,
                "message_zh": outcome.message_zh,
            }
        print(json.dumps(result, ensure_ascii=False))
        return
    if outcome.readers:
        print(f"读卡器 / readers: {', '.join(outcome.readers)}")
    if outcome.transport:
        print(f"通道 / transport: {outcome.transport}")
    if outcome.atr:
        print(f"ATR: {outcome.atr.hex(' ').upper()}")
    if outcome.exit_code != EXIT_OK:
        shown = (
            f"{outcome.message_zh} / {outcome.message}" if outcome.message_zh else outcome.message
        )
        print(f"FAILED ({outcome.exit_code} {outcome.error_code}): {shown}", file=sys.stderr)
        return
    fields = card.to_dict(masked=masked)
    generation = _GENERATION_ZH.get(fields["generation"], "?")
    print(f"代次 / generation: {generation}（规范版本 {fields['version']}）")
    labels = [
        ("card_number", "卡号"),
        ("card_id", "卡识别码"),
        ("region_code", "区划代码"),
        ("card_type", "卡类别"),
        ("issuer_code", "初始化机构编号"),
        ("issue_date", "发卡日期"),
        ("expiry_date", "有效期"),
        ("ssn", "社会保障号码"),
        ("name", "姓名"),
        ("sex", "性别"),
        ("nation", "民族"),
        ("birthplace", "出生地"),
        ("birth_date", "出生日期"),
    ]
    for key, label in labels:
        print(f"{label}: {fields[key]}")
    print(f"卡片认证 / authentication: {_authentication_zh(card.authentication)}")
    if card.is_expired(date.today()):
        print("注意 / note: 此卡已过有效期 (card expired)")
