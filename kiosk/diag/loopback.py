"""`kiosk diag loopback --port URL [--trace FILE] [--json]`: write a pattern, read it back.

For a serial cable with TX and RX bridged (a loopback plug), a USB-serial adapter under test,
or pyserial's ``loop://``. The pattern is written ``--rounds`` times; each round must come back
byte for byte within ``--timeout`` seconds. ``--trace FILE`` writes a hex dump of every byte
sent and received: for a device path through pyserial's own ``spy://`` handler, for any other
URL (``loop://``, ``socket://``, ``rfc2217://``) through :class:`HexTrace`, which uses the same
hexdump format. A ``spy://`` URL may also be given directly as ``--port``.

Exit status: 0 every round came back; 1 a mismatch or nothing came back; 2 the port could not
be opened. Never imports Kivy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_PATTERN = bytes([0x55, 0xAA, 0x00, 0xFF, 0x01, 0x80, 0x7F, 0xFE]) + b"KIOSK-LOOP\r\n"
EXIT_OK, EXIT_MISMATCH, EXIT_PORT = 0, 1, 2


class LoopbackError(Exception):
    """The port could not be opened or used; ``str()`` says why."""


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "loopback",
        help="serial loopback test: write a pattern, read it back (TX-RX bridged, loop://)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--port", required=True, help="device or pyserial URL, e.g. loop://")
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--pattern", help="hex bytes to send (default: a mixed 20-byte pattern)")
    parser.add_argument("--rounds", type=int, default=3, help="times to send it (default 3)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--trace", help="write a hex dump of the traffic to this file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        pattern = bytes.fromhex(args.pattern) if args.pattern else DEFAULT_PATTERN
    except ValueError:
        return _report(args, {"ok": False, "error": "usage", "message": "--pattern is not hex"}, 2)
    if not pattern or args.rounds < 1 or args.timeout <= 0:
        result = {
            "ok": False,
            "error": "usage",
            "message": "need a pattern, rounds ≥ 1, timeout > 0",
        }
        return _report(args, result, 2)
    try:
        result = loopback_test(
            args.port,
            pattern,
            rounds=args.rounds,
            timeout=args.timeout,
            baudrate=args.baudrate,
            trace=Path(args.trace) if args.trace else None,
        )
    except LoopbackError as exc:
        result = {"ok": False, "port": args.port, "error": "port", "message": str(exc)}
        return _report(args, result, EXIT_PORT)
    return _report(args, result, EXIT_OK if result["ok"] else EXIT_MISMATCH)


def is_device_path(url: str) -> bool:
    """True for a plain device path (``/dev/ttyUSB0``, ``COM3``), False for ``scheme://``."""
    return "://" not in url


def open_traced(url: str, *, timeout: float, baudrate: int = 9600, trace: Path | None = None):
    """Open *url* with pyserial; with *trace*, every byte is hex-dumped into that file.

    Raises :class:`LoopbackError` when the port cannot be opened.
    """
    import serial

    target = url
    if trace is not None and is_device_path(url):
        target = f"spy://{url}?file={trace}"
    try:
        port = serial.serial_for_url(target, baudrate=baudrate, timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise LoopbackError(f"cannot open {url}: {exc}") from None
    if trace is not None and not target.startswith("spy://"):
        return HexTrace(port, trace)
    return port


class HexTrace:
    """Wraps an open pyserial port and hex-dumps its traffic with pyserial's spy formatter.

    Only what the loopback test needs (write, read, reset_input_buffer, close); the trace file
    is flushed on every call and closed with the port.
    """

    def __init__(self, port: Any, path: Path) -> None:
        from serial.urlhandler.protocol_spy import FormatHexdump

        self._port = port
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._format = FormatHexdump(self._file, False)

    def write(self, data: bytes) -> int | None:
        self._format.tx(data)
        self._file.flush()
        return self._port.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        if data:
            self._format.rx(data)
            self._file.flush()
        return data

    def reset_input_buffer(self) -> None:
        self._port.reset_input_buffer()

    def close(self) -> None:
        try:
            self._port.close()
        finally:
            self._file.close()


def loopback_test(
    url: str,
    pattern: bytes = DEFAULT_PATTERN,
    *,
    rounds: int = 3,
    timeout: float = 2.0,
    baudrate: int = 9600,
    trace: Path | None = None,
) -> dict:
    """Send *pattern* *rounds* times and compare what comes back; returns a JSON-ready dict.

    ``ok`` is True only if every round came back exactly. A mismatch reports the round, the
    first differing byte and both byte strings in hex. Raises :class:`LoopbackError` when the
    port cannot be opened. Blocks up to ``rounds × timeout`` seconds.
    """
    port = open_traced(url, timeout=timeout, baudrate=baudrate, trace=trace)
    result: dict = {"ok": False, "port": url, "rounds": rounds, "bytes_per_round": len(pattern)}
    started = time.monotonic()
    try:
        port.reset_input_buffer()
        for round_no in range(1, rounds + 1):
            port.write(pattern)
            received = _read_exactly(port, len(pattern), timeout)
            if received != pattern:
                result.update(_mismatch(round_no, pattern, received))
                return result
        result["ok"] = True
        elapsed = max(time.monotonic() - started, 1e-6)
        result["bytes_per_second"] = round(rounds * len(pattern) / elapsed)
        return result
    finally:
        _close(port, trace)


def _read_exactly(port: Any, count: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < count and time.monotonic() < deadline:
        data += port.read(count - len(data))
    return data


def _mismatch(round_no: int, sent: bytes, received: bytes) -> dict:
    first = next(
        (i for i, (a, b) in enumerate(zip(sent, received, strict=False)) if a != b),
        min(len(sent), len(received)),
    )
    reason = "nothing came back" if not received else "data differs"
    if received and len(received) < len(sent) and sent.startswith(received):
        reason = f"only {len(received)} of {len(sent)} bytes came back"
    return {
        "error": "mismatch" if received else "no_echo",
        "message": f"round {round_no}: {reason} (first difference at byte {first})",
        "round": round_no,
        "first_difference": first,
        "sent": sent.hex(" "),
        "received": received.hex(" "),
    }


def _close(port: Any, trace: Path | None) -> None:
    port.close()
    formatter = getattr(port, "formatter", None)  # pyserial's spy leaves its file open
    output = getattr(formatter, "output", None)
    if trace is not None and output is not None and output is not sys.stderr:
        output.close()


def _report(args: argparse.Namespace, result: dict, exit_code: int) -> int:
    result["exit_code"] = exit_code
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif result["ok"]:
        print(
            f"loopback OK: {result['rounds']} × {result['bytes_per_round']} bytes on "
            f"{result['port']} ({result.get('bytes_per_second', 0)} B/s)"
        )
    else:
        print(f"FAILED: {result.get('message')}", file=sys.stderr)
        if result.get("sent"):
            print(f"sent:     {result['sent']}\nreceived: {result['received']}", file=sys.stderr)
    if getattr(args, "trace", None) and exit_code != EXIT_PORT and not args.json:
        print(f"trace written to {args.trace}")
    return exit_code
