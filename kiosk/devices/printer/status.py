"""Printer status as data, and pure parsers for the printer's status replies.

DLE EOT n replies are one byte with bits 0x12 set and bits 0x81 clear; GS r 1 replies have bits
0x90 clear, which is how a reader tells the two apart on one wire. A query that got no reply
leaves its fields ``None`` (unknown) — unknown is never reported as OK.
"""

from __future__ import annotations

from dataclasses import dataclass


class StatusReplyError(ValueError):
    """A status byte does not have the fixed bits its command guarantees (line noise, wrong device)."""


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer last said. ``None`` = it did not answer that question."""

    online: bool | None = None
    cover_open: bool | None = None
    paper_end: bool | None = None
    paper_near_end: bool | None = None
    error: bool | None = None

    @property
    def known(self) -> bool:
        """True when every question was answered."""
        return None not in (
            self.online,
            self.cover_open,
            self.paper_end,
            self.paper_near_end,
            self.error,
        )

    @property
    def ready(self) -> bool:
        """True only when the printer answered and can print now (near end still prints)."""
        return (
            self.known
            and self.online is True
            and not self.cover_open
            and not self.paper_end
            and not self.error
        )

    @property
    def problem(self) -> str:
        """The most useful single reason it cannot print: a code for messages, '' when ready."""
        if not self.known:
            return "no_reply"
        if self.paper_end:
            return "paper_end"
        if self.cover_open:
            return "cover_open"
        if self.error:
            return "error"
        if not self.online:
            return "offline"
        return ""

    def as_dict(self) -> dict[str, bool | None]:
        """The fields `kiosk diag printer --json` reports."""
        return {
            "online": self.online,
            "cover_open": self.cover_open,
            "paper_end": self.paper_end,
            "paper_near_end": self.paper_near_end,
        }


UNKNOWN = PrinterStatus()

PROBLEM_MESSAGES = {
    "no_reply": "打印机无应答（未连接或未开机）",
    "paper_end": "打印机缺纸",
    "cover_open": "打印机纸仓盖未关",
    "error": "打印机故障",
    "offline": "打印机离线",
}


def is_realtime_reply(byte: int) -> bool:
    """True when *byte* has the fixed bits of a DLE EOT reply (0x12 set, 0x81 clear)."""
    return byte & 0x93 == 0x12


def is_paper_status_reply(byte: int) -> bool:
    """True when *byte* has the fixed bits of a GS r 1 reply (0x90 clear)."""
    return byte & 0x90 == 0


def _check(byte: int) -> None:
    if not 0 <= byte <= 0xFF:
        raise StatusReplyError(f"status reply {byte} is not a byte")
    if not is_realtime_reply(byte):
        raise StatusReplyError(f"status reply 0x{byte:02x} lacks the fixed bits 0x12")


def parse_printer_status(byte: int) -> bool:
    """DLE EOT 1 reply → online (bit 0x08 clear)."""
    _check(byte)
    return not byte & 0x08


def parse_offline_cause(byte: int) -> tuple[bool, bool, bool]:
    """DLE EOT 2 reply → (cover_open 0x04, stopped by paper end 0x20, error 0x40)."""
    _check(byte)
    return bool(byte & 0x04), bool(byte & 0x20), bool(byte & 0x40)


def parse_paper_sensor(byte: int) -> tuple[bool, bool]:
    """DLE EOT 4 reply → (paper_near_end 0x0C, paper_end 0x60)."""
    _check(byte)
    return bool(byte & 0x0C), bool(byte & 0x60)


def combine(printer: int | None, offline_cause: int | None, paper: int | None) -> PrinterStatus:
    """Build a status from the three replies (``None`` = no reply); raises StatusReplyError."""
    online = None if printer is None else parse_printer_status(printer)
    cover_open = stopped = error = None
    if offline_cause is not None:
        cover_open, stopped, error = parse_offline_cause(offline_cause)
    near_end = paper_end = None
    if paper is not None:
        near_end, paper_end = parse_paper_sensor(paper)
    if stopped:
        paper_end = True  # the printer stopped for paper even if the sensor reply was lost
    return PrinterStatus(
        online=online,
        cover_open=cover_open,
        paper_end=paper_end,
        paper_near_end=near_end,
        error=error,
    )


def encode_replies(status: PrinterStatus) -> tuple[int, int, int, int]:
    """The DLE EOT 1/2/4 and GS r 1 reply bytes a printer in *status* sends (for simulators)."""
    offline = not status.online or status.cover_open or status.paper_end or status.error
    printer = 0x12 | (0x08 if offline else 0)
    cause = 0x12 | (0x04 if status.cover_open else 0) | (0x20 if status.paper_end else 0)
    cause |= 0x40 if status.error else 0
    paper = 0x12 | (0x0C if status.paper_near_end else 0) | (0x60 if status.paper_end else 0)
    gs_r = (0x03 if status.paper_near_end else 0) | (0x0C if status.paper_end else 0)
    return printer, cause, paper, gs_r
