"""Split an ESC/POS byte stream into operations (pure, incremental).

Used by the preview renderer and by the printer simulator, which must find command
boundaries to tell a cut inside raster data from a real one. Knows the subset the kiosk
emits plus the common harmless commands of other software; anything else becomes an
``unknown`` operation so a stray byte never wedges the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RASTER_BYTES = 1 << 22  # a 576-dot-wide band 58,000 rows high: more is a corrupt header
QR_FUNCTIONS = {65: "qr_model", 67: "qr_size", 69: "qr_error", 80: "qr_store", 81: "qr_print"}

# ESC / FS / GS commands with a fixed length (including the prefix and command byte).
_ESC_FIXED = {
    0x40: ("init", 2),
    0x32: ("line_spacing_default", 2),
    0x61: ("align", 3),
    0x45: ("bold", 3),
    0x64: ("feed_lines", 3),
    0x4A: ("feed_dots", 3),
    0x33: ("line_spacing", 3),
    0x21: ("print_mode", 3),
    0x74: ("code_page", 3),
    0x4D: ("font", 3),
    0x2D: ("underline", 3),
    0x47: ("double_strike", 3),
    0x52: ("international", 3),
    0x56: ("rotate", 3),
    0x7B: ("upside_down", 3),
    0x70: ("drawer_pulse", 5),
}
_FS_FIXED = {
    0x26: ("chinese_on", 2),
    0x2E: ("chinese_off", 2),
    0x21: ("chinese_print_mode", 3),
    0x43: ("chinese_code", 3),
    0x57: ("chinese_quad", 3),
}
_GS_FIXED = {
    0x21: ("size", 3),
    0x72: ("paper_status_query", 3),
    0x42: ("reverse", 3),
    0x4C: ("left_margin", 4),
    0x57: ("print_area_width", 4),
    0x48: ("hri_position", 3),
    0x68: ("barcode_height", 3),
    0x77: ("barcode_width", 3),
}


class ParseError(ValueError):
    """The byte stream ended inside a command (only raised by :func:`parse_all`)."""


@dataclass(frozen=True)
class Op:
    """One operation: *name*, its numeric *args*, and its *data* (text bytes, QR data, raster)."""

    name: str
    args: tuple[int, ...] = ()
    data: bytes = b""


class EscPosParser:
    """Feed bytes as they arrive; get back the complete operations.

    Tracks Chinese mode (on at power-up, like most Chinese printers) to keep multi-byte
    GB18030 characters whole. Bytes of an incomplete command wait for the next :meth:`feed`.
    """

    def __init__(self, chinese: bool = True) -> None:
        self.chinese = chinese
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back because the command or character is not complete yet."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Op]:
        self._buf += data
        ops: list[Op] = []
        pos = 0
        buf = self._buf
        while pos < len(buf):
            result = self._parse_one(buf, pos)
            if result is None:
                break
            op, pos = result
            if op is not None:
                if op.name == "chinese_on":
                    self.chinese = True
                elif op.name == "chinese_off":
                    self.chinese = False
                ops.append(op)
        del self._buf[:pos]
        return ops

    def _parse_one(self, buf: bytearray, pos: int) -> tuple[Op | None, int] | None:
        byte = buf[pos]
        if byte == 0x0A:
            return Op("lf"), pos + 1
        if byte >= 0x20:
            return self._text(buf, pos)
        if byte == 0x1B:
            return _fixed(buf, pos, _ESC_FIXED)
        if byte == 0x1C:
            return _fixed(buf, pos, _FS_FIXED)
        if byte == 0x1D:
            return _gs(buf, pos)
        if byte == 0x10:
            if pos + 1 >= len(buf):
                return None
            if buf[pos + 1] in (0x04, 0x05):  # DLE EOT n / DLE ENQ n
                if pos + 2 >= len(buf):
                    return None
                name = "status_query" if buf[pos + 1] == 0x04 else "realtime_request"
                return Op(name, (buf[pos + 2],)), pos + 3
            return Op("unknown", data=bytes(buf[pos : pos + 1])), pos + 1
        if byte in (0x0D, 0x09, 0x00):
            return None, pos + 1  # CR, HT and NUL padding: nothing to print
        return Op("unknown", data=bytes(buf[pos : pos + 1])), pos + 1

    def _text(self, buf: bytearray, pos: int) -> tuple[Op, int] | None:
        end = pos
        while end < len(buf) and buf[end] >= 0x20:
            byte = buf[end]
            if self.chinese and 0x81 <= byte <= 0xFE:
                if end + 1 >= len(buf):
                    break
                width = 4 if 0x30 <= buf[end + 1] <= 0x39 else 2
                if end + width > len(buf):
                    break
                end += width
            else:
                end += 1
        if end == pos:
            return None
        return Op("text", (1 if self.chinese else 0,), bytes(buf[pos:end])), end


def _fixed(buf: bytearray, pos: int, table: dict[int, tuple[str, int]]) -> tuple[Op, int] | None:
    if pos + 1 >= len(buf):
        return None
    entry = table.get(buf[pos + 1])
    if entry is None:
        return Op("unknown", data=bytes(buf[pos : pos + 2])), pos + 2
    name, length = entry
    if pos + length > len(buf):
        return None
    return Op(name, tuple(buf[pos + 2 : pos + length])), pos + length


def _gs(buf: bytearray, pos: int) -> tuple[Op, int] | None:
    if pos + 1 >= len(buf):
        return None
    command = buf[pos + 1]
    if command == 0x56:  # GS V m [n]
        if pos + 2 >= len(buf):
            return None
        mode = buf[pos + 2]
        if mode in (65, 66):
            if pos + 3 >= len(buf):
                return None
            return Op("cut", (mode, buf[pos + 3])), pos + 4
        return Op("cut", (mode,)), pos + 3
    if command == 0x76:  # GS v 0 m xL xH yL yH d...
        if pos + 8 > len(buf):
            return None
        if buf[pos + 2] != 0x30:
            return Op("unknown", data=bytes(buf[pos : pos + 3])), pos + 3
        width = buf[pos + 4] | buf[pos + 5] << 8
        height = buf[pos + 6] | buf[pos + 7] << 8
        size = width * height
        if size == 0 or size > MAX_RASTER_BYTES:
            return Op("invalid", data=bytes(buf[pos : pos + 8])), pos + 8
        if pos + 8 + size > len(buf):
            return None
        data = bytes(buf[pos + 8 : pos + 8 + size])
        return Op("raster", (width, height, buf[pos + 3]), data), pos + 8 + size
    if command == 0x28:  # GS ( x pL pH ...
        if pos + 5 > len(buf):
            return None
        size = buf[pos + 3] | buf[pos + 4] << 8
        if pos + 5 + size > len(buf):
            return None
        body = bytes(buf[pos + 5 : pos + 5 + size])
        end = pos + 5 + size
        if buf[pos + 2] == 0x6B and len(body) >= 2 and body[0] == 0x31 and body[1] in QR_FUNCTIONS:
            name = QR_FUNCTIONS[body[1]]
            if name == "qr_store":
                return Op(name, data=body[3:]), end
            return Op(name, tuple(body[2:])), end
        return Op("unknown", data=bytes(buf[pos:end])), end
    return _fixed(buf, pos, _GS_FIXED)


def parse_all(data: bytes, chinese: bool = True) -> list[Op]:
    """Parse a complete job; raises :class:`ParseError` if it ends inside a command."""
    parser = EscPosParser(chinese=chinese)
    ops = parser.feed(data)
    if parser.pending:
        raise ParseError(f"the job ends inside a command ({parser.pending} bytes left over)")
    return ops
