"""ESC/POS printer driver over a pyserial URL: status queries and confirmed print jobs.

Threads: :meth:`EscPosPrinter.print_job` and :meth:`EscPosPrinter.status` block (call them from
a worker thread, never the UI thread); a lock serialises them with the driver's own monitor
thread, which polls status every *poll_interval* seconds while idle and publishes
:class:`PrinterStatusChanged` when the answer changes. All wire I/O goes through ``_raw``
(write) and ``_read_byte``; the port is reopened on the next call after an unplug.

Honesty rules: a status query without a reply is *unknown*, never OK; a job is reported printed
only when the printer confirmed it (GS r 1 answered after the job, see ``confirm_printed``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from kiosk.devices.base import Counters, DeviceHealth, DeviceState
from kiosk.devices.printer import commands
from kiosk.devices.printer.events import PrinterStatusChanged
from kiosk.devices.printer.status import (
    PROBLEM_MESSAGES,
    UNKNOWN,
    PrinterStatus,
    StatusReplyError,
    combine,
    is_paper_status_reply,
    is_realtime_reply,
    parse_offline_cause,
)
from kiosk.devices.serial_errors import PORT_FAILURES

log = logging.getLogger(__name__)

PRINT_ALLOWANCE_SECONDS = 8.0  # paper movement for a long receipt at a slow 50 mm/s
PROGRESS_POLL_SECONDS = 0.5  # while waiting for the barrier, ask DLE EOT 2 this often
UNCONFIRMED_SETTLE_SECONDS = 1.0  # confirm_printed off: wait this long before the status after


class PrinterError(Exception):
    """Base of the printer driver's errors."""


class PrinterNotReady(PrinterError):
    """The printer cannot take a job now; ``status`` says why (no reply, paper end, ...)."""

    def __init__(self, status: PrinterStatus) -> None:
        super().__init__(PROBLEM_MESSAGES.get(status.problem, "打印机未就绪"))
        self.status = status


class PrintNotConfirmed(PrinterError):
    """The job was sent but the printer did not confirm printing it (stopped, unplugged)."""

    def __init__(self, status: PrinterStatus, bytes_sent: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.bytes_sent = bytes_sent


@dataclass(frozen=True)
class PrintResult:
    bytes_sent: int
    status: PrinterStatus
    confirmed: bool  # True: GS r 1 barrier answered; False: confirm_printed is off


class EscPosPrinter:
    """One serial ESC/POS printer. See the module docstring for threads and guarantees."""

    name = "printer"

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        confirm_printed: bool = True,
        status_timeout: float = 1.0,
        poll_interval: float = 5.0,
        publish: Callable[[Any], None] | None = None,
        open_port: Callable[..., Any] = serial.serial_for_url,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.confirm_printed = confirm_printed
        self.status_timeout = status_timeout
        self.poll_interval = poll_interval
        self._publish = publish or (lambda event: None)
        self._open_port = open_port
        self._port: Any = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._last_status: PrinterStatus | None = None
        self._status_lock = threading.Lock()  # compare-and-set of _last_status across threads
        self._last_error = ""
        self.counters = Counters()

    # -- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port (failure is recorded, not raised) and start the status monitor."""
        with self._lock:
            self._ensure_open()
        if self.poll_interval > 0 and self._monitor is None:
            self._stop.clear()
            self._monitor = threading.Thread(
                target=self._monitor_loop, name="printer-monitor", daemon=True
            )
            self._monitor.start()

    def close(self) -> None:
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=self.status_timeout * 4 + 5)
            self._monitor = None
        with self._lock:
            self._drop_port()

    def health(self) -> DeviceHealth:
        status = self._last_status
        if status is None:
            state, detail = DeviceState.UNKNOWN, ""
        elif status.ready:
            state, detail = DeviceState.OK, "纸将用尽" if status.paper_near_end else ""
        elif not status.known:
            state, detail = DeviceState.OFFLINE, PROBLEM_MESSAGES["no_reply"]
        else:
            state, detail = DeviceState.FAULT, PROBLEM_MESSAGES.get(status.problem, "")
        return DeviceHealth(
            name=self.name,
            state=state,
            detail=detail,
            last_error=self._last_error,
            counters=self.counters.snapshot(),
            transport=self.url,
        )

    @property
    def last_status(self) -> PrinterStatus | None:
        return self._last_status

    # -- status ---------------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        """Ask DLE EOT 1, 2 and 4. Never raises; unanswered questions stay ``None``."""
        with self._lock:
            status = self._query_status()
        self._remember(status)
        return status

    def _query_status(self) -> PrinterStatus:
        if not self._ensure_open():
            return UNKNOWN
        try:
            printer = self._query(commands.STATUS_PRINTER)
            if printer is None:
                return UNKNOWN  # silent to the first question: do not wait out two more
            cause = self._query(commands.STATUS_OFFLINE_CAUSE)
            paper = self._query(commands.STATUS_PAPER_SENSOR)
            return combine(printer, cause, paper)
        except StatusReplyError as exc:  # unreachable: _query filters; kept as a guard
            self._note_error(f"bad status reply: {exc}")
            return UNKNOWN
        except PORT_FAILURES as exc:
            self._note_error(f"port error: {exc}")
            self._drop_port()
            return UNKNOWN

    def _query(self, command: bytes) -> int | None:
        self._port.reset_input_buffer()
        self._raw(command)
        deadline = time.monotonic() + self.status_timeout
        while time.monotonic() < deadline:
            byte = self._read_byte(deadline - time.monotonic())
            if byte is None:
                break
            if is_realtime_reply(byte):
                return byte
            self.counters.add("garbage_bytes")  # resynchronise: skip what is not a reply
        self.counters.add("status_timeouts")
        return None

    # -- printing -------------------------------------------------------------------------
    def print_job(self, data: bytes) -> PrintResult:
        """Send one complete job; return only when the printer confirmed it.

        Raises :class:`PrinterNotReady` (nothing sent) or :class:`PrintNotConfirmed` (sent,
        not confirmed: paper ran out, cover opened, no reply). Blocks for up to the transfer
        time plus ``PRINT_ALLOWANCE_SECONDS``.
        """
        with self._lock:
            before = self._query_status()
            self._remember(before)
            if not before.ready:
                raise PrinterNotReady(before)
            try:
                self._raw(data)
                confirmed = None
                if self.confirm_printed:
                    self._raw(commands.TRANSMIT_PAPER_STATUS)
                    confirmed = self._await_barrier(len(data))
                else:
                    # No barrier: real-time status is answered before the job is printed, so
                    # give the printer time to print it (or to stop) before asking.
                    time.sleep(UNCONFIRMED_SETTLE_SECONDS + len(data) * 10 / self.baudrate)
            except PORT_FAILURES as exc:
                self._note_error(f"port error while printing: {exc}")
                self._drop_port()
                self._remember(UNKNOWN)
                raise PrintNotConfirmed(UNKNOWN, len(data), "打印时连接中断") from None
            after = self._query_status()
        self._remember(after)
        if confirmed is False:
            self.counters.add("jobs_unconfirmed")
            reason = PROBLEM_MESSAGES.get(after.problem, "打印机未确认打印完成")
            raise PrintNotConfirmed(after, len(data), reason)
        if confirmed is None and not after.ready:
            self.counters.add("jobs_unconfirmed")
            raise PrintNotConfirmed(after, len(data), PROBLEM_MESSAGES.get(after.problem, ""))
        self.counters.add("jobs_printed")
        self.counters.add("bytes_sent", len(data))
        return PrintResult(bytes_sent=len(data), status=after, confirmed=bool(confirmed))

    def _await_barrier(self, job_bytes: int) -> bool:
        """Wait for the GS r 1 reply; give up early when DLE EOT 2 reports a stop."""
        transfer = job_bytes * 10 / max(self.baudrate, 1)
        deadline = time.monotonic() + self.status_timeout + transfer + PRINT_ALLOWANCE_SECONDS
        next_poll = time.monotonic() + PROGRESS_POLL_SECONDS
        silent_polls = 0
        while time.monotonic() < deadline:
            byte = self._read_byte(min(next_poll, deadline) - time.monotonic())
            if byte is not None:
                if is_paper_status_reply(byte):
                    return True
                if is_realtime_reply(byte):
                    silent_polls = 0
                    cover_open, paper_end, error = parse_offline_cause(byte)
                    if cover_open or paper_end or error:
                        return False
                continue
            if time.monotonic() >= next_poll:
                silent_polls += 1
                if silent_polls > max(2, int(self.status_timeout / PROGRESS_POLL_SECONDS) + 1):
                    return False  # the printer stopped answering even real-time queries
                self._raw(commands.STATUS_OFFLINE_CAUSE)
                next_poll = time.monotonic() + PROGRESS_POLL_SECONDS
        return False

    # -- I/O hooks ------------------------------------------------------------------------
    def _raw(self, data: bytes) -> None:
        """The single write hook: every byte to the printer goes through here."""
        self._port.write(data)
        self._port.flush()

    def _read_byte(self, timeout: float) -> int | None:
        if timeout <= 0:
            return None
        if self._port.timeout != timeout:  # pyserial reconfigures the tty on every change
            self._port.timeout = timeout
        data = self._port.read(1)
        return data[0] if data else None

    # -- helpers --------------------------------------------------------------------------
    def _ensure_open(self) -> bool:
        if self._port is not None:
            return True
        try:
            self._port = self._open_port(
                self.url,
                baudrate=self.baudrate,
                timeout=self.status_timeout,
                write_timeout=30,
            )
            self.counters.add("opens")
            return True
        except (*PORT_FAILURES, ValueError) as exc:
            self._note_error(f"cannot open {self.url}: {exc}")
            return False

    def _drop_port(self) -> None:
        if self._port is not None:
            with contextlib.suppress(*PORT_FAILURES):
                self._port.close()
            self._port = None

    def _note_error(self, message: str) -> None:
        if message != self._last_error:  # an unplugged printer must not flood the log
            log.warning("printer: %s", message, extra={"device": self.name})
        self._last_error = message
        self.counters.add("errors")

    def _remember(self, status: PrinterStatus) -> None:
        with self._status_lock:
            previous = self._last_status
            self._last_status = status
        if status != previous:
            self._publish(PrinterStatusChanged(status=status, previous=previous))

    def _monitor_loop(self) -> None:
        while not self._stop.wait(self.poll_interval):
            if self._lock.acquire(blocking=False):  # printing holds the lock: skip this round
                try:
                    status = self._query_status()
                finally:
                    self._lock.release()
                self._remember(status)
