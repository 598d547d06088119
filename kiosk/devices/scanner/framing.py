"""Split a QR scanner's byte stream into codes (pure, incremental; no I/O).

Scanners in serial mode send each code followed by a terminator (CR, LF or CR LF, set in the
scanner and in config). A stray CR or LF left over from another terminator setting is trimmed,
and empty frames are skipped. A frame longer than *max_length* bytes is discarded up to its
terminator and reported once as :class:`Overlong`, so a jammed or misconfigured scanner can
neither exhaust memory nor deliver half a code.
"""

from __future__ import annotations

from dataclasses import dataclass

TERMINATORS = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}


@dataclass(frozen=True)
class Overlong:
    """A frame exceeded the limit; *length* = bytes discarded."""

    length: int


class ScanFramer:
    """Feed bytes, get complete codes (``bytes``) and :class:`Overlong` markers, in order."""

    def __init__(self, terminator: str = "CR", max_length: int = 4096) -> None:
        try:
            self.terminator = TERMINATORS[terminator]
        except KeyError:
            raise ValueError(f"terminator must be CR, LF or CRLF, not {terminator!r}") from None
        if max_length < 1:
            raise ValueError("max_length must be at least 1 byte")
        self.max_length = max_length
        self._buf = bytearray()
        self._discarding = 0  # > 0: inside an overlong frame, bytes dropped so far

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        out: list[bytes | Overlong] = []
        self._buf += data
        while True:
            end = self._buf.find(self.terminator)
            if end < 0:
                break
            frame = bytes(self._buf[:end])
            del self._buf[: end + len(self.terminator)]
            if self._discarding:
                out.append(Overlong(self._discarding + len(frame)))
                self._discarding = 0
                continue
            if len(frame) > self.max_length:
                out.append(Overlong(len(frame)))
                continue
            code = frame.strip(b"\r\n")
            if code:
                out.append(code)
        # Keep a possible partial terminator at the end; drop the rest of an overlong frame.
        keep = len(self.terminator) - 1
        if len(self._buf) > self.max_length + keep:
            excess = len(self._buf) - keep
            self._discarding += excess
            del self._buf[:excess]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)
