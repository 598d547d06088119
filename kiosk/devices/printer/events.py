"""Typed events the printer driver publishes (from its own thread)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices.printer.status import PrinterStatus


@dataclass(frozen=True)
class PrinterStatusChanged:
    """The printer's answer changed (paper out, cover closed, unplugged, ...)."""

    status: PrinterStatus
    previous: PrinterStatus | None
