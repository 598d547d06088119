"""Pure codec of the SAM (GA 467) serial frame protocol: build, parse, checksum, deframe.

Frames (PROTOCOLS.md §1)::

    command   AA AA AA 96 69 | Len1 Len2 | CMD PARA | data | CHK
    response  AA AA AA 96 69 | Len1 Len2 | SW1 SW2 SW3 | data | CHK

The length is big-endian and counts every byte after the length field, CHK included; CHK is the
XOR of Len1 … last data byte. Nothing here does I/O; every function is safe from any thread.
:class:`Deframer` turns an arbitrary byte stream into frames and typed framing errors and always
resynchronises on the next preamble, so no input can make it raise or grow without bound.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import reduce

from kiosk.devices.idcard import errors

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_LENGTH = len(PREAMBLE) + 2
# The longest real answer is 30 10 with a 1024-byte fingerprint (2314); leave room, stay bounded.
MAX_LENGTH = 4096
MIN_LENGTH = 3  # a command's CMD PARA + CHK; a response needs 4 (SW1 SW2 SW3 + CHK)

SW3_SUCCESS = 0x90
SW3_CARD_FOUND = 0x9F


class Command(enum.Enum):
    """(CMD, PARA) of each command the kiosk uses."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    READ_SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_BASE = (0x30, 0x01)
    READ_BASE_FINGERPRINT = (0x30, 0x10)
    READ_APPENDED_ADDRESS = (0x30, 0x03)
    READ_MANAGEMENT_NUMBER = (0x30, 0x05)
    SET_MAX_RF_BYTES = (0x61, 0xFF)

    @classmethod
    def lookup(cls, cmd: int, para: int) -> Command | None:
        """The command with these two bytes, or None if the kiosk does not know it."""
        return _BY_BYTES.get((cmd, para))


_BY_BYTES = {command.value: command for command in Command}

# SW3 → (error class, short English text for logs and diagnostics).
SW3_ERRORS: dict[int, tuple[type[errors.StatusError], str]] = {
    0x10: (errors.FrameRejected, "reader received a frame with a bad checksum"),
    0x11: (errors.FrameRejected, "reader received a frame with a bad length"),
    0x21: (errors.CommandRejected, "command not recognised"),
    0x23: (errors.CommandRejected, "command not permitted"),
    0x24: (errors.SamFault, "unrecognised error"),
    0x31: (errors.CardAuthFailed, "card failed to authenticate the SAM"),
    0x32: (errors.CardAuthFailed, "SAM failed to authenticate the card"),
    0x33: (errors.CardReadFailed, "information verification error"),
    0x40: (errors.NotAnIdCard, "unrecognised card type"),
    0x41: (errors.CardReadFailed, "card read failed"),
    0x47: (errors.CardReadFailed, "random number failed"),
    0x60: (errors.SamFault, "SAM self-test failed"),
    0x66: (errors.SamFault, "SAM not authorised"),
    0x80: (errors.NoCard, "no card found"),
    0x81: (errors.SelectFailed, "card select failed"),
    0x91: (errors.NoContent, "no content"),
}


def checksum(body: bytes | bytearray | memoryview) -> int:
    """XOR of *body* (Len1 … last data byte), one byte."""
    return reduce(lambda acc, byte: acc ^ byte, bytes(body), 0)


def encode_frame(payload: bytes) -> bytes:
    """Wrap *payload* (CMD PARA data, or SW1 SW2 SW3 data) in preamble, length and CHK.

    Raises ``ValueError`` if the payload is longer than the protocol allows.
    """
    length = len(payload) + 1
    if length > MAX_LENGTH:
        raise ValueError(f"payload of {len(payload)} bytes is too long for one frame")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_command(command: Command, data: bytes = b"") -> bytes:
    """The complete command frame, e.g. FIND_CARD → ``AA AA AA 96 69 00 03 20 01 22``."""
    cmd, para = command.value
    return encode_frame(bytes([cmd, para]) + data)


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """The complete response frame (used by the simulator and tests)."""
    return encode_frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Frame:
    """One well-formed frame: *payload* is everything between the length field and CHK."""

    payload: bytes = field(repr=False)

    def __repr__(self) -> str:  # payloads carry personal data: show only the size
        return f"Frame({len(self.payload)} bytes)"


@dataclass(frozen=True)
class CommandFrame:
    cmd: int
    para: int
    data: bytes = field(default=b"", repr=False)

    @property
    def command(self) -> Command | None:
        return Command.lookup(self.cmd, self.para)


@dataclass(frozen=True)
class Response:
    """A parsed response. ``data`` may hold personal data and is kept out of ``repr``."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        return self.sw3 in (SW3_SUCCESS, SW3_CARD_FOUND)

    def raise_for_status(self) -> Response:
        """Return self if SW3 is 90/9F, else raise the :func:`status_error` for it."""
        if not self.ok:
            raise status_error(self.sw3)
        return self


def status_error(sw3: int) -> errors.StatusError:
    """The typed error for a non-success SW3; unknown codes become CardReadFailed."""
    error_class, text = SW3_ERRORS.get(sw3, (errors.CardReadFailed, "unknown status"))
    return error_class(sw3, f"SW3={sw3:02X} {text}")


def parse_response(payload: bytes) -> Response:
    """Parse a response frame's payload. Raises :class:`errors.BadLength` if under 3 bytes."""
    if len(payload) < 3:
        raise errors.BadLength(f"response payload of {len(payload)} bytes")
    return Response(payload[0], payload[1], payload[2], bytes(payload[3:]))


def parse_command(payload: bytes) -> CommandFrame:
    """Parse a command frame's payload. Raises :class:`errors.BadLength` if under 2 bytes."""
    if len(payload) < 2:
        raise errors.BadLength(f"command payload of {len(payload)} bytes")
    return CommandFrame(payload[0], payload[1], bytes(payload[2:]))


def decode_frame(frame: bytes) -> bytes:
    """Check one complete frame (preamble … CHK) and return its payload.

    Raises :class:`errors.BadLength` (wrong size or preamble) or
    :class:`errors.ChecksumMismatch`.
    """
    if len(frame) < HEADER_LENGTH + MIN_LENGTH or not frame.startswith(PREAMBLE):
        raise errors.BadLength("not a frame")
    length = int.from_bytes(frame[5:7], "big")
    if length != len(frame) - HEADER_LENGTH:
        raise errors.BadLength(f"length field {length}, frame has {len(frame) - HEADER_LENGTH}")
    if checksum(frame[5:-1]) != frame[-1]:
        raise errors.ChecksumMismatch("frame checksum does not match")
    return bytes(frame[HEADER_LENGTH:-1])


class Deframer:
    """Streaming splitter: bytes in (any chunking), :class:`Frame` or a FrameError instance out.

    Garbage before a preamble is skipped and counted in :attr:`skipped`. A frame with an
    impossible length or a wrong CHK yields the error and the search resumes one byte later, so
    a good frame right after a bad one is still found. An incomplete frame followed by a
    complete valid one yields :class:`errors.Truncated`. The buffer never exceeds the longest frame
    plus one chunk. Not thread-safe: one instance per reader thread.
    """

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._buffer = bytearray()
        self.skipped = 0

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def clear(self) -> None:
        """Drop everything buffered (overwritten first: it may hold personal data)."""
        self._buffer[:] = bytes(len(self._buffer))
        self._buffer.clear()

    def feed(self, data: bytes) -> list[Frame | errors.FrameError]:
        self._buffer += data
        out: list[Frame | errors.FrameError] = []
        buffer = self._buffer
        while True:
            start = buffer.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the start of a preamble split across reads.
                keep = _partial_preamble_tail(buffer)
                self.skipped += len(buffer) - keep
                del buffer[: len(buffer) - keep]
                break
            if start:
                self.skipped += start
                del buffer[:start]
            if len(buffer) < HEADER_LENGTH:
                break
            length = int.from_bytes(buffer[5:7], "big")
            if not MIN_LENGTH <= length <= self.max_length:
                out.append(errors.BadLength(f"length field {length}"))
                self._drop(1)
                continue
            end = HEADER_LENGTH + length
            if len(buffer) < end:
                later = self._later_complete_frame(buffer)
                if later is None:
                    break
                out.append(errors.Truncated(f"frame cut after {later} of {end} bytes"))
                self._drop(later)
                continue
            if checksum(buffer[5 : end - 1]) != buffer[end - 1]:
                out.append(errors.ChecksumMismatch("frame checksum does not match"))
                self._drop(1)
                continue
            out.append(Frame(bytes(buffer[HEADER_LENGTH : end - 1])))
            self._drop(end)
        return out

    def _drop(self, count: int) -> None:
        del self._buffer[:count]

    def _later_complete_frame(self, buffer: bytearray) -> int | None:
        """Offset of a later preamble that starts a complete, valid frame, else None."""
        position = buffer.find(PREAMBLE, 1)
        while position > 0:
            if len(buffer) - position < HEADER_LENGTH:
                return None
            length = int.from_bytes(buffer[position + 5 : position + 7], "big")
            end = position + HEADER_LENGTH + length
            if (
                MIN_LENGTH <= length <= self.max_length
                and end <= len(buffer)
                and checksum(buffer[position + 5 : end - 1]) == buffer[end - 1]
            ):
                return position
            position = buffer.find(PREAMBLE, position + 1)
        return None


def _partial_preamble_tail(buffer: bytearray) -> int:
    """How many trailing bytes of *buffer* could begin a preamble (0–4)."""
    for size in range(min(len(PREAMBLE) - 1, len(buffer)), 0, -1):
        if buffer[-size:] == PREAMBLE[:size]:
            return size
    return 0


def format_sam_id(data: bytes) -> str:
    """The SAM ID as vendor tools print it: ``05.01-20101214-0001234567-1234567890``.

    16 bytes, little-endian groups of 2, 2, 4, 4 and 4 bytes. Raises BadLength otherwise.
    """
    if len(data) != 16:
        raise errors.BadLength(f"SAM ID of {len(data)} bytes, expected 16")
    parts = [int.from_bytes(data[a:b], "little") for a, b in ((0, 2), (2, 4), (4, 8), (8, 12))]
    last = int.from_bytes(data[12:16], "little")
    return f"{parts[0]:02d}.{parts[1]:02d}-{parts[2]:08d}-{parts[3]:010d}-{last:010d}"


def encode_sam_id(text: str) -> bytes:
    """The 16 bytes :func:`format_sam_id` renders as *text* (for the simulator and tests)."""
    head, rest = text.split("-", 1)
    major, minor = head.split(".")
    date_part, serial, check = rest.split("-")
    sizes = ((major, 2), (minor, 2), (date_part, 4), (serial, 4), (check, 4))
    return b"".join(int(value).to_bytes(size, "little") for value, size in sizes)
