"""Command APDUs for the social security card and the rules for reading their answers; pure.

Builders return ``bytes``. :func:`exchange` runs one command over a ``transmit`` hook
(``bytes -> bytes``, the driver's only I/O) and does what pyscard does not: on ``61xx`` it sends
GET RESPONSE for the remaining bytes (repeatedly), on ``6Cxx`` it resends the command with the
right Le. :func:`check` maps status words to typed errors. Malformed answers (shorter than a
status word, longer than the card may send, endless 61xx chains) raise
:class:`~kiosk.devices.sscard.errors.MalformedResponse`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.devices.sscard.errors import (
    FileNotFound,
    MalformedResponse,
    RecordNotFound,
    SecurityNotSatisfied,
    StatusWordError,
)

Transmit = Callable[[bytes], bytes]

SW_OK = 0x9000
# "sx1.sh.社会保障" in GBK: the SSSE application of every generation.
SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")
EF05 = 0xEF05
EF06 = 0xEF06
MAX_SHORT_RESPONSE = 256
MAX_GET_RESPONSE_ROUNDS = 32  # 32 × 256 bytes: far more than any SSSE answer


@dataclass(frozen=True)
class Response:
    """A response APDU split into ``data`` and ``sw`` (int, e.g. 0x9000)."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def __repr__(self) -> str:  # data may be personal: show its length only
        return f"Response(len={len(self.data)}, sw={self.sw:04X})"


def select_by_name(aid: bytes = SSSE_AID) -> bytes:
    """SELECT by DF name (P1=04), first occurrence, FCI requested (Le absent: T=0 safe)."""
    if not 1 <= len(aid) <= 16:
        raise ValueError("an application name is 1..16 bytes")
    return bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid


def select_file(fid: int, p1: int = 0x02) -> bytes:
    """SELECT an elementary file by its two-byte identifier under the current DF.

    P1=02 is what the SSSE specification says; some cards only accept P1=00 (select by FID).
    """
    if not 0 <= fid <= 0xFFFF:
        raise ValueError("a file identifier is two bytes")
    if p1 not in (0x00, 0x02):
        raise ValueError("P1 is 00 or 02 for a SELECT by file identifier")
    return bytes([0x00, 0xA4, p1, 0x00, 0x02]) + fid.to_bytes(2, "big")


def read_record_by_tag(tag: int, length: int) -> bytes:
    """READ RECORD of the record identified by *tag* in the current EF; Le = tag+len+value."""
    if not 0 < tag <= 0xFE:
        raise ValueError("an SSSE record tag is one byte")
    if not 0 < length <= 253:
        raise ValueError("record value length must be 1..253")
    return bytes([0x00, 0xB2, tag, 0x00, length + 2])


def get_response(le: int) -> bytes:
    """GET RESPONSE for *le* bytes (0 means 256, as in a 61 00 status)."""
    if not 0 <= le <= 0xFF:
        raise ValueError("Le is one byte")
    return bytes([0x00, 0xC0, 0x00, 0x00, le])


def split(raw: bytes, *, max_data: int = MAX_SHORT_RESPONSE) -> Response:
    """Split a raw response into data and status word; MalformedResponse if impossible."""
    if len(raw) < 2:
        raise MalformedResponse(f"response of {len(raw)} bytes has no status word")
    if len(raw) - 2 > max_data:
        raise MalformedResponse(f"response of {len(raw) - 2} data bytes, at most {max_data} due")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def with_le(command: bytes, le: int) -> bytes:
    """The same case-1/2/3 short command with Le replaced or appended (for a 6Cxx retry)."""
    if len(command) < 4:
        raise ValueError("a command APDU has at least 4 bytes")
    header = command[:4]
    if len(command) <= 5:  # case 1, or case 2 whose fifth byte is the old Le
        body = b""
    else:
        lc = command[4]
        body = command[4 : 5 + lc]
    return header + body + bytes([le])


def exchange(
    transmit: Transmit, command: bytes, *, expected_max: int = MAX_SHORT_RESPONSE
) -> Response:
    """Send *command*, follow 6Cxx and 61xx, return the complete response (SW not checked).

    *expected_max* bounds the total data length; a card that sends more raises
    MalformedResponse (a reader buffer overrun or a confused card, never valid SSSE data).
    Errors from *transmit* (card removed, mute) propagate unchanged.
    """
    response = split(transmit(command))
    if response.sw >> 8 == 0x6C:
        response = split(transmit(with_le(command, response.sw & 0xFF)))
        if response.sw >> 8 == 0x6C:
            raise MalformedResponse("card asked for a different Le twice")
    data = bytearray(response.data)
    rounds = 0
    while response.sw >> 8 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE_ROUNDS:
            raise MalformedResponse("card keeps answering 61xx: endless GET RESPONSE chain")
        response = split(transmit(get_response(response.sw & 0xFF)))
        data += response.data
        if len(data) > expected_max:
            break
    if len(data) > expected_max:
        raise MalformedResponse(f"card sent {len(data)} data bytes, at most {expected_max} due")
    return Response(bytes(data), response.sw)


def check(response: Response, context: str) -> bytes:
    """Return the data of a 9000 response, else raise the StatusWordError subclass for its SW."""
    sw = response.sw
    if sw == SW_OK:
        return response.data
    if sw == 0x6A82:
        raise FileNotFound(sw, context)
    if sw == 0x6A83:
        raise RecordNotFound(sw, context)
    if sw in (0x6982, 0x6983, 0x6985):
        raise SecurityNotSatisfied(sw, context)
    raise StatusWordError(sw, context)
