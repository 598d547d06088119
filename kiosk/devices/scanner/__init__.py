"""The serial QR scanner: framing, driver, simulator, events.

``open_scanner(section, publish)`` is the factory the composition root calls; with
``url = "sim://"`` it also runs a :class:`ScannerSimulator` on a pty (demo mode scans with
``runtime.simulator.scan(code)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.devices.base import SIM_URL, SimulatedSerialRuntime
from kiosk.devices.scanner.driver import QrScanner
from kiosk.devices.scanner.events import QrScanned, ScanRejected
from kiosk.devices.scanner.simulator import ScannerSimulator

__all__ = [
    "SIM_URL",
    "QrScanned",
    "QrScanner",
    "ScanRejected",
    "ScannerRuntime",
    "open_scanner",
]


@dataclass
class ScannerRuntime(SimulatedSerialRuntime):
    """What :func:`open_scanner` builds: the driver and, in demo mode, its simulator."""

    driver: QrScanner
    simulator: ScannerSimulator | None = None


def open_scanner(section: Any, publish: Callable[[Any], None]) -> ScannerRuntime:
    """Build (not start) the scanner for a ``ScannerSection``."""
    simulator = ScannerSimulator(section.terminator) if section.url == SIM_URL else None
    driver = QrScanner(
        "" if simulator else section.url,
        baudrate=section.baudrate,
        terminator=section.terminator,
        max_length=section.max_length,
        debounce_seconds=section.debounce_seconds,
        publish=publish,
    )
    return ScannerRuntime(driver=driver, simulator=simulator)
