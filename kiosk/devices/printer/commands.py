"""ESC/POS command bytes the kiosk sends, as named constants and small pure builders.

Byte values follow PROTOCOLS.md §4 (Epson ESC/POS as implemented by common Chinese 58/80 mm
thermal printers). Everything here is pure: bytes in, bytes out, no I/O.
"""

from __future__ import annotations

ESC = 0x1B
GS = 0x1D
FS = 0x1C
DLE = 0x10
EOT = 0x04
LF = b"\n"

INIT = b"\x1b\x40"  # ESC @
ALIGN_LEFT = b"\x1b\x61\x00"  # ESC a 0
ALIGN_CENTER = b"\x1b\x61\x01"  # ESC a 1
ALIGN_RIGHT = b"\x1b\x61\x02"  # ESC a 2
BOLD_ON = b"\x1b\x45\x01"  # ESC E 1
BOLD_OFF = b"\x1b\x45\x00"  # ESC E 0
CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
LINE_SPACING_DEFAULT = b"\x1b\x32"  # ESC 2
CUT_FULL = b"\x1d\x56\x00"  # GS V 0
CUT_PARTIAL = b"\x1d\x56\x01"  # GS V 1

# Real-time status (DLE EOT n): answered at once, even while the printer is busy.
STATUS_PRINTER = b"\x10\x04\x01"  # online / offline
STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"  # cover open, stopped by paper end, error
STATUS_ERROR_CAUSE = b"\x10\x04\x03"  # cutter, unrecoverable, auto-recoverable
STATUS_PAPER_SENSOR = b"\x10\x04\x04"  # paper near end, paper end
# GS r 1: paper sensor status, processed in order with the data before it. The kiosk sends it
# after a job as a barrier: its reply means the printer has processed (printed) the job.
TRANSMIT_PAPER_STATUS = b"\x1d\x72\x01"

QR_PRINT = b"\x1d\x28\x6b\x03\x00\x31\x51\x30"  # GS ( k <fn 81>: print the stored symbol
QR_ERROR_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}
ALIGNMENTS = {"left": ALIGN_LEFT, "center": ALIGN_CENTER, "right": ALIGN_RIGHT}

# GS v 0 carries at most 65535 rows; printers' receive buffers are far smaller, so send bands.
RASTER_BAND_ROWS = 256


class CommandError(ValueError):
    """A builder was given an argument the printer cannot accept (message names it)."""


def align(where: str) -> bytes:
    """ESC a n for "left", "center" or "right"."""
    try:
        return ALIGNMENTS[where]
    except KeyError:
        raise CommandError(f"alignment must be left/center/right, not {where!r}") from None


def bold(on: bool) -> bytes:
    return BOLD_ON if on else BOLD_OFF


def char_size(width: int, height: int) -> bytes:
    """GS ! n: character width and height multipliers, each 1..8."""
    for name, value in (("width", width), ("height", height)):
        if not 1 <= value <= 8:
            raise CommandError(f"character {name} multiplier must be 1..8, not {value}")
    return bytes((GS, 0x21, ((width - 1) << 4) | (height - 1)))


def feed_lines(lines: int) -> bytes:
    """ESC d n: print the buffer and feed *lines* lines (0..255)."""
    if not 0 <= lines <= 255:
        raise CommandError(f"feed must be 0..255 lines, not {lines}")
    return bytes((ESC, 0x64, lines))


def cut(partial: bool = False, feed_dots: int | None = None) -> bytes:
    """GS V: cut now (m=0/1), or feed *feed_dots* then cut (m=65/66 n)."""
    if feed_dots is None:
        return CUT_PARTIAL if partial else CUT_FULL
    if not 0 <= feed_dots <= 255:
        raise CommandError(f"cut feed must be 0..255 dots, not {feed_dots}")
    return bytes((GS, 0x56, 66 if partial else 65, feed_dots))


def qr_model(model: int = 2) -> bytes:
    """GS ( k fn 65: QR model 1 or 2."""
    if model not in (1, 2):
        raise CommandError(f"QR model must be 1 or 2, not {model}")
    return bytes((GS, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 48 + model, 0x00))


def qr_module_size(dots: int) -> bytes:
    """GS ( k fn 67: module (cell) size in dots, 1..16."""
    if not 1 <= dots <= 16:
        raise CommandError(f"QR module size must be 1..16 dots, not {dots}")
    return bytes((GS, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, dots))


def qr_error_level(level: str) -> bytes:
    """GS ( k fn 69: error correction L/M/Q/H."""
    try:
        return bytes((GS, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, QR_ERROR_LEVELS[level]))
    except KeyError:
        raise CommandError(f"QR error level must be L/M/Q/H, not {level!r}") from None


def qr_store(data: bytes) -> bytes:
    """GS ( k fn 80: store *data* (1..7089 bytes) in the symbol storage area."""
    if not 1 <= len(data) <= 7089:
        raise CommandError(f"QR data must be 1..7089 bytes, not {len(data)}")
    size = len(data) + 3
    return bytes((GS, 0x28, 0x6B, size & 0xFF, size >> 8, 0x31, 0x50, 0x30)) + data


def raster(width_bytes: int, height: int, data: bytes) -> bytes:
    """GS v 0 m=0: one raster band, *width_bytes* × 8 dots wide, *height* dots high, MSB left."""
    if not 1 <= width_bytes <= 0xFFFF or not 1 <= height <= 0xFFFF:
        raise CommandError(f"raster size {width_bytes} bytes x {height} rows is out of range")
    if len(data) != width_bytes * height:
        raise CommandError(f"raster data is {len(data)} bytes, expected {width_bytes * height}")
    header = bytes((GS, 0x76, 0x30, 0, width_bytes & 0xFF, width_bytes >> 8))
    return header + bytes((height & 0xFF, height >> 8)) + data
