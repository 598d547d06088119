"""A serial QR scanner on a pty pair: :meth:`ScannerSimulator.scan` "scans" a code.

The driver opens :attr:`port` like a real scanner's serial port. Thread-safe; no threads of
its own (a scanner only talks, it never listens).
"""

from __future__ import annotations

import os
import threading
import tty

from kiosk.devices.scanner.framing import TERMINATORS


class ScannerSimulator:
    def __init__(self, terminator: str = "CR") -> None:
        self.terminator = TERMINATORS[terminator]
        self._lock = threading.Lock()
        self._master = self._slave = -1
        self.port = ""

    def start(self) -> str:
        """Open the pty pair; returns the port path for the driver."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        return self.port

    def stop(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> ScannerSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def scan(self, code: str) -> None:
        """Send *code* (UTF-8) and the configured terminator, as a scanner does."""
        self.send_raw(code.encode("utf-8") + self.terminator)

    def send_raw(self, data: bytes) -> None:
        """Send arbitrary bytes: partial codes, garbage, other terminators."""
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._master, view)
                view = view[written:]
