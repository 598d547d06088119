"""Serial QR scanner driver: frames codes, debounces repeats, publishes QrScanned.

Threads: :meth:`QrScanner.open` starts a reader thread that owns the port; events are published
from that thread. If the port disappears (scanner unplugged) the thread reopens it with a
back-off (capped at ``MAX_REOPEN_DELAY``) until :meth:`close`. The only read hook is ``_read``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from kiosk.devices.base import Counters, DeviceHealth, DeviceState
from kiosk.devices.scanner.events import QrScanned, ScanRejected
from kiosk.devices.scanner.framing import Overlong, ScanFramer
from kiosk.devices.serial_errors import PORT_FAILURES
from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)

MAX_REOPEN_DELAY = 5.0
READ_TIMEOUT = 0.2  # seconds; bounds how long close() waits for the reader thread


class QrScanner:
    """One serial scanner. *debounce_seconds*: the same code again within this time is dropped
    (a resident holding the phone under the scanner sends it many times)."""

    name = "scanner"

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 9600,
        terminator: str = "CR",
        max_length: int = 4096,
        debounce_seconds: float = 2.0,
        publish: Callable[[Any], None] | None = None,
        open_port: Callable[..., Any] = serial.serial_for_url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.debounce_seconds = debounce_seconds
        self._framer = ScanFramer(terminator, max_length)
        self._publish = publish or (lambda event: None)
        self._open_port = open_port
        self._clock = clock
        self._port: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # A digest, not the code: the driver must not keep a resident's code after the session.
        self._last_code: tuple[bytes, float] | None = None
        self._last_error = ""
        self._connected = False
        self.counters = Counters()

    def open(self) -> None:
        """Start the reader thread (it opens the port, and reopens it after an unplug)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner-reader", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=READ_TIMEOUT * 10 + MAX_REOPEN_DELAY)
            self._thread = None
        self._drop_port()

    def health(self) -> DeviceHealth:
        if self._thread is None:
            state = DeviceState.UNKNOWN
        else:
            state = DeviceState.OK if self._connected else DeviceState.OFFLINE
        return DeviceHealth(
            name=self.name,
            state=state,
            detail="" if self._connected else "扫码器未连接",
            last_error=self._last_error,
            counters=self.counters.snapshot(),
            transport=self.url,
        )

    # -- reader thread --------------------------------------------------------------------
    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            if self._port is None:
                try:
                    self._port = self._open_port(
                        self.url, baudrate=self.baudrate, timeout=READ_TIMEOUT
                    )
                    self._connected = True
                    self.counters.add("opens")
                    delay = 0.2
                except (*PORT_FAILURES, ValueError) as exc:
                    self._note_error(f"cannot open {self.url}: {exc}")
                    self._stop.wait(delay)
                    delay = min(delay * 2, MAX_REOPEN_DELAY)
                    continue
            try:
                data = self._read()
            except PORT_FAILURES as exc:
                self._note_error(f"port error: {exc}")
                self._drop_port()
                continue
            if data:
                try:
                    self.handle_bytes(data)
                except Exception as exc:  # a bug must not end scanning while health() says OK
                    # Only the type and place: the error arose around a resident's code.
                    log.error(
                        "scanner: handling a scan failed: %s",
                        failure_summary(exc),
                        extra={"device": self.name},
                    )
                    self._note_error(f"internal error ({type(exc).__name__})")

    def _read(self) -> bytes:
        """The single read hook: whatever arrived, waiting at most READ_TIMEOUT."""
        waiting = self._port.in_waiting
        return self._port.read(max(1, waiting))

    def handle_bytes(self, data: bytes) -> None:
        """Frame *data* and publish the results (called by the reader thread)."""
        for item in self._framer.feed(data):
            if isinstance(item, Overlong):
                self.counters.add("rejected")
                self._publish(ScanRejected("too_long", item.length))
                continue
            try:
                code = item.decode("utf-8")
            except UnicodeDecodeError:
                self.counters.add("rejected")
                self._publish(ScanRejected("not_utf8", len(item)))
                continue
            now = self._clock()
            digest = hashlib.blake2b(item, digest_size=16).digest()
            last = self._last_code
            if last and last[0] == digest and now - last[1] < self.debounce_seconds:
                self.counters.add("debounced")
                self._last_code = (digest, now)  # still held under the scanner: keep quiet
                continue
            self._last_code = (digest, now)
            self.counters.add("scans")
            self._publish(QrScanned(code))

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        self._connected = False
        if port is not None:
            with contextlib.suppress(*PORT_FAILURES):
                port.close()

    def _note_error(self, message: str) -> None:
        if message != self._last_error:
            log.warning("scanner: %s", message, extra={"device": self.name})
        self._last_error = message
        self.counters.add("errors")
