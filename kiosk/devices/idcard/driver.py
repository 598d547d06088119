"""ID card reader driver: the SAM protocol over pyserial, a polling thread, typed events.

Two ways to use it:

* Step by step (diagnostics): :meth:`IdCardReader.connect`, :meth:`sam_status`,
  :meth:`read_sam_id`, :meth:`find_card`, :meth:`select_card`, :meth:`read_card`,
  :meth:`disconnect`. Each step blocks for at most its timeout × (retries + 1) and raises an
  :class:`~kiosk.devices.idcard.errors.IdCardError`. Safe from any thread (one lock).
* Polling (the kiosk): :meth:`start` runs a thread that opens the port, checks the SAM, looks for
  a card every ``poll_interval`` seconds and publishes :mod:`~kiosk.devices.idcard.events`
  through ``publish`` *from that thread*. If the port vanishes (unplugged) or stops answering it
  publishes ReaderFault, reopens with a back-off (capped at ``MAX_REOPEN_DELAY``) and publishes
  ReaderRecovered when the reader answers again. :meth:`stop` ends it.

The one I/O hook is :meth:`IdCardReader._exchange` (write a command, read its answer).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import serial

from kiosk.devices.base import Counters, DeviceHealth, DeviceState
from kiosk.devices.idcard import codec, errors
from kiosk.devices.idcard.cards import IdCard, UnsupportedCard
from kiosk.devices.idcard.codec import Command, Response
from kiosk.devices.idcard.events import (
    IdCardRead,
    IdCardReadFailed,
    IdCardRemoved,
    ReaderFault,
    ReaderRecovered,
)
from kiosk.devices.idcard.layout import decode_appended_addresses, decode_card, split_base_info
from kiosk.devices.serial_errors import PORT_FAILURES
from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)

MAX_REOPEN_DELAY = 5.0
FIRST_REOPEN_DELAY = 0.25
READ_SLICE = 0.02  # seconds one port.read() may block; bounds how fast stop() is noticed
FAILED_READ_PAUSE = 1.0  # after a failed card read, before looking for the card again
REPEAT_FAILURE_QUIET = 5.0  # the same failure again within this many seconds is not republished
FRAME_REJECTED_SW3 = (0x10, 0x11)  # the reader got our frame corrupted: send it again

# pyserial's POSIX backend lets termios.error (not an OSError) out of tcflush / tcsetattr.


@dataclass(frozen=True)
class StepTimeouts:
    """Seconds to wait for each kind of answer (vendor practice: 0.3 / 0.5 / 3.5)."""

    sam: float = 0.3
    card: float = 0.5  # find / select / presence probe
    read: float = 3.5


# Success answers with the data length each command must carry; anything else that arrives is a
# late answer to an earlier (timed-out) command and is skipped. None: any length.
_EXPECTED_DATA: dict[Command, int | None] = {
    Command.RESET_SAM: None,
    Command.SAM_STATUS: 0,
    Command.READ_SAM_ID: 16,
    Command.FIND_CARD: 4,
    Command.SELECT_CARD: 8,
    Command.READ_BASE: 4 + 256 + 1024,
    Command.READ_BASE_FINGERPRINT: None,
    Command.READ_APPENDED_ADDRESS: None,
    Command.READ_MANAGEMENT_NUMBER: None,
    Command.SET_MAX_RF_BYTES: None,
}

# Errors that say the card on the reader could not be used (the reader itself is fine).
_CARD_ERRORS = (
    errors.CardReadFailed,
    errors.CardAuthFailed,
    errors.SelectFailed,
    errors.CardDataError,
    errors.FrameError,
    errors.FrameRejected,
    errors.NoCard,
    errors.CommandRejected,
)


class IdCardReader:
    """One SAM ID card reader at a pyserial URL (``/dev/ttyUSB0``, ``hwgrep://VID:PID``,
    ``socket://host:port``, ``spy://…``, a pty path).

    ``publish`` receives events from the polling thread. ``today`` (a callable) fixes the date
    the identity rules use, for tests. ``open_port`` replaces ``serial.serial_for_url``.
    """

    name = "idcard"

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        read_fingerprint: bool = False,
        read_appended_address: bool = True,
        poll_interval: float = 0.3,
        publish: Callable[[Any], None] | None = None,
        timeouts: StepTimeouts | None = None,
        retries: int = 2,
        open_port: Callable[..., Any] = serial.serial_for_url,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.read_fingerprint = read_fingerprint
        self.read_appended_address = read_appended_address
        self.poll_interval = poll_interval
        self.timeouts = timeouts or StepTimeouts()
        self.retries = retries
        self.counters = Counters()
        self._publish = publish or (lambda event: None)
        self._open_port = open_port
        self._today = today
        self._lock = threading.RLock()
        self._port: Any = None
        self._deframer = codec.Deframer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = DeviceState.UNKNOWN
        self._last_error = ""
        self._sam_id = ""
        self._card_present = False
        self._can_probe = True
        self._bytes_out = 0
        self._bytes_in = 0
        self._last_failure: tuple[str, float] = ("", 0.0)

    # -- connection ------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the port. Raises PortError (missing, busy, not a serial device)."""
        with self._lock:
            if self._port is not None:
                return
            try:
                self._port = self._open_port(
                    self.url, baudrate=self.baudrate, timeout=READ_SLICE, exclusive=True
                )
            except (*PORT_FAILURES, ValueError) as exc:
                raise errors.PortError(f"cannot open {self.url}: {exc}") from None
            self.counters.add("opens")

    def disconnect(self) -> None:
        with self._lock:
            port, self._port = self._port, None
            self._deframer.clear()
            if port is not None:
                with contextlib.suppress(*PORT_FAILURES):
                    port.close()

    @property
    def connected(self) -> bool:
        return self._port is not None

    @property
    def sam_id(self) -> str:
        """The SAM ID read at the last (re)connect of the polling thread, or by read_sam_id()."""
        return self._sam_id

    @property
    def wire_bytes(self) -> tuple[int, int]:
        """(bytes written, bytes read) since this driver was made."""
        return self._bytes_out, self._bytes_in

    # -- protocol steps ----------------------------------------------------------------------
    def reset_sam(self) -> None:
        self.transact(Command.RESET_SAM, timeout=self.timeouts.sam).raise_for_status()

    def sam_status(self) -> None:
        """Return if the SAM reports OK; raises SamFault (or another IdCardError)."""
        self.transact(Command.SAM_STATUS, timeout=self.timeouts.sam).raise_for_status()

    def read_sam_id(self) -> str:
        response = self.transact(Command.READ_SAM_ID, timeout=self.timeouts.sam)
        self._sam_id = codec.format_sam_id(response.raise_for_status().data)
        return self._sam_id

    def find_card(self) -> bool:
        """True if a card not yet read lies on the reader (SW3 9F), False on 80 (no card)."""
        try:
            self.transact(Command.FIND_CARD, timeout=self.timeouts.card).raise_for_status()
        except errors.NoCard:
            return False
        return True

    def select_card(self) -> None:
        """Select the found card; raises SelectFailed (card moved) or another IdCardError."""
        self.transact(Command.SELECT_CARD, timeout=self.timeouts.card).raise_for_status()

    def read_card(self) -> IdCard | UnsupportedCard:
        """Read the selected card: base info (30 01, or 30 10 with fingerprint when configured)
        and, when configured, the appended addresses (30 03). Decodes the result.

        Raises CardReadFailed / CardAuthFailed / CardDataError (card lifted, bad chip) and the
        transport errors. An unknown layout is returned as UnsupportedCard, not raised.
        """
        with self._lock:
            with_fingerprint = self.read_fingerprint
            command = Command.READ_BASE_FINGERPRINT if with_fingerprint else Command.READ_BASE
            try:
                response = self.transact(command, timeout=self.timeouts.read).raise_for_status()
            except errors.CommandRejected:
                if not with_fingerprint:
                    raise
                # A reader without fingerprint support: fall back to 30 01 from now on.
                log.warning("idcard: reader rejects 30 10, reading without fingerprint")
                self.read_fingerprint = with_fingerprint = False
                response = self.transact(Command.READ_BASE, timeout=self.timeouts.read)
                response.raise_for_status()
            info = split_base_info(response.data, with_fingerprint=with_fingerprint)
            try:
                appended: tuple[str, ...] = ()
                if self.read_appended_address:
                    appended = self._read_appended_addresses()
                return decode_card(
                    info.text,
                    photo=info.photo,
                    fingerprint=info.fingerprint,
                    appended_addresses=appended,
                    today=self._today(),
                )
            except BaseException:
                for buffer in (info.photo, info.fingerprint):  # no card object will own them
                    buffer[:] = bytes(len(buffer))
                raise

    def read_card_present(self) -> IdCard | UnsupportedCard | None:
        """Find → select → read in one go; None if no (unread) card lies on the reader."""
        with self._lock:
            if not self.find_card():
                return None
            self.select_card()
            return self.read_card()

    def probe_card(self) -> bool | None:
        """Is the card that was read still on the reader? None if the reader cannot tell.

        Asks for the card-body management number (30 05), which an already-read card still
        answers; readers that reject the command get None from then on.
        """
        if not self._can_probe:
            return None
        response = self.transact(Command.READ_MANAGEMENT_NUMBER, timeout=self.timeouts.card)
        if response.sw3 in (0x21, 0x23):  # command unknown / not permitted
            self._can_probe = False
            return None
        return response.ok

    def _read_appended_addresses(self) -> tuple[str, ...]:
        try:
            response = self.transact(Command.READ_APPENDED_ADDRESS, timeout=self.timeouts.read)
            return decode_appended_addresses(response.raise_for_status().data)
        except errors.NoContent:
            return ()
        except errors.CommandRejected:
            log.warning("idcard: reader rejects 30 03, appended addresses switched off")
            self.read_appended_address = False
            return ()

    def transact(self, command: Command, data: bytes = b"", *, timeout: float) -> Response:
        """Send *command*, return the reader's answer (any SW3; call raise_for_status()).

        Retries up to ``retries`` times on retryable transport trouble (timeout, bad frame, the
        reader reporting our frame corrupt). Raises PortError if the port fails, the last
        retryable error if every attempt failed.
        """
        frame = codec.build_command(command, data)
        with self._lock:
            for attempt in range(self.retries + 1):
                try:
                    response = self._exchange(frame, command, timeout)
                    if response.sw3 in FRAME_REJECTED_SW3:
                        raise codec.status_error(response.sw3)
                    return response
                except (errors.FrameError, errors.ReaderTimeout, errors.FrameRejected) as exc:
                    self.counters.add(exc.code)
                    if attempt == self.retries:
                        raise
                    self.counters.add("retries")
        raise AssertionError("unreachable")

    # -- the I/O hook ------------------------------------------------------------------------
    def _exchange(self, frame: bytes, command: Command, timeout: float) -> Response:
        """Write *frame*, read until its answer or *timeout* seconds. Caller holds the lock."""
        port = self._port
        if port is None:
            raise errors.PortError("port is not open")
        expected = _EXPECTED_DATA.get(command)
        try:
            port.reset_input_buffer()  # a late answer to an earlier command must not match
            self._deframer.clear()
            port.write(frame)
            self._bytes_out += len(frame)
            deadline = time.monotonic() + timeout
            while True:
                chunk = port.read(max(1, port.in_waiting))
                self._bytes_in += len(chunk)
                response, problem = self._take_response(chunk, expected)
                if response is not None:
                    return response
                if problem is not None:
                    raise problem
                if time.monotonic() >= deadline:
                    if self._deframer.pending:
                        raise errors.Truncated(f"answer incomplete after {timeout:g} s")
                    raise errors.ReaderTimeout(f"no answer within {timeout:g} s")
        except PORT_FAILURES as exc:
            raise errors.PortError(f"port failed: {exc}") from None

    def _take_response(
        self, chunk: bytes, expected: int | None
    ) -> tuple[Response | None, errors.IdCardError | None]:
        problem: errors.IdCardError | None = None
        for item in self._deframer.feed(chunk):
            if isinstance(item, errors.FrameError):
                problem = problem or item
                continue
            try:
                response = codec.parse_response(item.payload)
            except errors.BadLength as exc:
                problem = problem or exc
                continue
            if response.ok and expected is not None and len(response.data) != expected:
                self.counters.add("stale_frames")
                continue
            return response, None
        return None, problem

    # -- polling thread ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the polling thread (it opens the port itself). Idempotent."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and close the port; waits for the thread to finish its step."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.timeouts.read * (self.retries + 1) + MAX_REOPEN_DELAY)
        self.disconnect()

    open = start
    close = stop

    def health(self) -> DeviceHealth:
        details = {
            DeviceState.OK: f"正常（SAM {self._sam_id}）" if self._sam_id else "正常",
            DeviceState.FAULT: "身份证阅读器安全模块故障",
            DeviceState.OFFLINE: "身份证阅读器未连接或无应答",
            DeviceState.UNKNOWN: "尚未检测",
        }
        return DeviceHealth(
            name=self.name,
            state=self._state,
            detail=details.get(self._state, ""),
            last_error=self._last_error,
            counters=self.counters.snapshot(),
            transport=self.url,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_until_stopped()
            except Exception as exc:  # a bug must not end polling while health() says OK
                self._crashed(exc)
                self._stop.wait(MAX_REOPEN_DELAY)
        self.disconnect()

    def _poll_until_stopped(self) -> None:
        delay = FIRST_REOPEN_DELAY
        while not self._stop.is_set():
            if self._state is not DeviceState.OK:
                try:
                    self._bring_up()
                except errors.IdCardError as exc:
                    self._enter_fault(exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, MAX_REOPEN_DELAY)
                    continue
                delay = FIRST_REOPEN_DELAY
                self._enter_ok()
            try:
                pause = self._poll_once()
            except (errors.PortError, errors.ReaderTimeout, errors.SamFault) as exc:
                self._enter_fault(exc)
                continue
            except errors.IdCardError as exc:  # transport noise that outlasted the retries
                self._note_error(exc)
                pause = self.poll_interval
            self._stop.wait(pause)

    def _crashed(self, exc: Exception) -> None:
        """Report an unexpected error of the polling thread as a fault, then start afresh.

        Only the error's type and place are logged: it arose while handling card data.
        """
        log.error("idcard: polling failed: %s", failure_summary(exc), extra={"device": self.name})
        try:
            self._enter_fault(errors.IdCardError(f"internal error ({type(exc).__name__})"))
        except Exception:  # publishing the fault failed too: at least health() tells the truth
            self._state = DeviceState.OFFLINE
            self._card_present = False

    def _bring_up(self) -> None:
        """Open the port if needed and check the SAM (one reset if it reports a fault)."""
        self.connect()
        try:
            self.sam_status()
        except errors.SamFault:
            self.reset_sam()
            self.sam_status()
        # The SAM ID only labels the reader in health(); a reader that will not tell still works.
        with contextlib.suppress(
            errors.CommandRejected, errors.BadLength, errors.CardReadFailed, errors.NoContent
        ):
            self.read_sam_id()

    def _poll_once(self) -> float:
        """One look at the reader; returns the seconds to wait before the next."""
        if self._card_present:
            present = self.probe_card()
            if present:
                return self.poll_interval
            if present is False:
                self._card_removed()
        try:
            found = self.find_card()
        except errors.NotAnIdCard as exc:
            self._read_failed(exc.code, exc.message_zh, exc.detail)
            return FAILED_READ_PAUSE
        if not found:
            return self.poll_interval
        if self._card_present:  # could not probe: a new presentation means the old card left
            self._card_removed()
        try:
            self.select_card()
            card = self.read_card()
        except _CARD_ERRORS as exc:
            self._read_failed(exc.code, exc.message_zh, exc.detail)
            return FAILED_READ_PAUSE
        if isinstance(card, UnsupportedCard):
            self._read_failed("unsupported_card", card.message_zh, f"marker {card.marker:02X}")
            self._card_present = True
            return self.poll_interval
        self.counters.add("reads")
        self._card_present = True
        self._last_failure = ("", 0.0)
        self._publish(IdCardRead(card))
        return self.poll_interval

    def _card_removed(self) -> None:
        self._card_present = False
        self._publish(IdCardRemoved())

    def _read_failed(self, code: str, message_zh: str, detail: str) -> None:
        self.counters.add("read_failures")
        now = time.monotonic()
        last_code, last_at = self._last_failure
        if code == last_code and now - last_at < REPEAT_FAILURE_QUIET:
            return  # a card that keeps failing where it lies: the screen already says why
        self._last_failure = (code, now)
        log.info("idcard: read failed: %s %s", code, detail, extra={"device": self.name})
        self._publish(IdCardReadFailed(code=code, message_zh=message_zh, detail=detail))

    def _enter_fault(self, exc: errors.IdCardError) -> None:
        self._note_error(exc)
        if isinstance(exc, errors.PortError | errors.ReaderTimeout | errors.FrameError):
            self.disconnect()
        state = DeviceState.FAULT if isinstance(exc, errors.SamFault) else DeviceState.OFFLINE
        if state is not self._state:  # once per fault, not per failed reopen attempt
            self.counters.add("faults")
            self._publish(ReaderFault(code=exc.code, message_zh=exc.message_zh, detail=exc.detail))
        self._state = state
        self._card_present = False  # after a fault nothing is known about the card

    def _enter_ok(self) -> None:
        recovered = self._state in (DeviceState.FAULT, DeviceState.OFFLINE)
        self._state = DeviceState.OK
        self._can_probe = True
        if recovered:
            self.counters.add("recoveries")
            self._publish(ReaderRecovered())

    def _note_error(self, exc: errors.IdCardError) -> None:
        message = f"{exc.code}: {exc.detail}"
        if message != self._last_error:
            log.warning("idcard: %s", message, extra={"device": self.name})
        self._last_error = message
        self.counters.add("errors")
