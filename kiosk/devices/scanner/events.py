"""Typed events the QR scanner driver publishes (from its reader thread)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QrScanned:
    """A code was scanned. *code* is exactly what the scanner sent (decoded as UTF-8): pass it
    to the backend unchanged; never parse or trust it locally (e-SSC codes are verified by the
    national platform). It is personal data: never log it (hidden from ``repr``)."""

    code: str = field(repr=False)


@dataclass(frozen=True)
class ScanRejected:
    """Input that is not a usable code: *reason* is "too_long" or "not_utf8"; *length* in bytes."""

    reason: str
    length: int
