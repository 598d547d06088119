"""The social security card driver: watches a PC/SC reader, reads each inserted card, publishes.

Threads: ``start()`` runs one monitor thread that only waits for slot changes (so a removal is
published within the reader's polling interval, never delayed by a slow card), and each
insertion is read on its own short-lived thread with a watchdog: a card that stops answering
gives ``CardReadFailed(code="mute")`` after ``read_timeout`` seconds. ``publish`` is called from
those threads and must be thread-safe (``EventBus.publish`` is); events of one driver are
serialised, and a read that finishes after its card was removed is reported as
``CardReadFailed(code="removed")``, never as ``SsCardRead``.

When pcscd stops, the driver publishes ``ReaderFault(code="pcsc_unavailable")``, retries every
``retry_seconds`` and publishes ``ReaderRecovered`` once a matching reader is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from kiosk.devices.base import Counters, DeviceHealth, DeviceState
from kiosk.devices.sscard.auth import Authenticator, NoAuthentication
from kiosk.devices.sscard.errors import (
    CardMuteError,
    CardRemovedError,
    NoReaderError,
    ReaderError,
    ServiceUnavailable,
    SsCardError,
)
from kiosk.devices.sscard.events import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    ReaderFault,
    ReaderRecovered,
    SsCardRead,
)
from kiosk.devices.sscard.ports import ReaderPort, SlotState
from kiosk.devices.sscard.reading import read_card

log = logging.getLogger(__name__)

Publish = Callable[[Any], None]


class SsCardDriver:
    """Social security card reader on *port*; the reader is the first whose name contains
    *reader_filter* (empty: the first reader, skipping *exclude_readers* such as a PSAM slot)."""

    name = "sscard"

    def __init__(
        self,
        port: ReaderPort,
        publish: Publish,
        *,
        reader_filter: str = "",
        exclude_readers: tuple[str, ...] = (),
        authenticator: Authenticator | None = None,
        read_timeout: float = 5.0,
        poll_seconds: float = 0.5,
        retry_seconds: float = 1.0,
        transport_detail: str = "",
        today: Callable[[], date] = date.today,
        enabled: bool = True,
    ) -> None:
        self._port = port
        self._publish = publish
        self._reader_filter = reader_filter
        self._exclude = tuple(name for name in exclude_readers if name)
        self._authenticator = authenticator or NoAuthentication()
        self._read_timeout = read_timeout
        self._poll_seconds = poll_seconds
        self._retry_seconds = retry_seconds
        self._transport_detail = transport_detail or port.transport
        self._today = today
        self.counters = Counters()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        # Serialises publishing and the insertion state. Re-entrant: subscribers run on the
        # publishing thread and may call health() or card_present from their handler.
        self._event_lock = threading.RLock()
        self._insertion = 0  # incremented on every insertion and removal
        self._reader: str | None = None
        self._card_present = False
        self._event_count: int | None = None
        self._ready = threading.Event()
        self._fault: SsCardError | None = None
        self._enabled = enabled
        self._state = DeviceState.UNKNOWN if enabled else DeviceState.DISABLED
        self._last_error = ""
        self._port_open = False

    @property
    def reader_filter(self) -> str:
        return self._reader_filter

    @property
    def authenticator(self) -> Authenticator:
        return self._authenticator

    # -- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        """Start watching (same as start(); Device protocol name)."""
        self.start()

    def start(self) -> None:
        """Start the monitor thread (nothing happens when disabled in config)."""
        if self._thread is not None or not self._enabled:
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="sscard-monitor", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the monitor thread (returns within about poll_seconds)."""
        self._stopped.set()
        self._port.cancel()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self._poll_seconds * 4))
            self._thread = None
        self._close_port()

    @property
    def card_present(self) -> bool:
        """True while a card (readable or not) sits in the watched reader."""
        with self._event_lock:
            return self._card_present

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the monitor has seen the reader's state once (True) or timed out."""
        return self._ready.wait(timeout)

    def health(self) -> DeviceHealth:
        with self._event_lock:
            reader = self._reader
            present = self._card_present
            state = self._state
            last_error = self._last_error
        slot = "已插卡" if present else "无卡"
        detail = f"读卡器 {reader}；{slot}" if reader else "未连接读卡器"
        if not self._enabled:
            detail = "已在配置中停用"
        else:
            detail = f"{detail}；{self._authenticator.describe()}"
        return DeviceHealth(
            name=self.name,
            state=state,
            detail=f"{detail}；{self._transport_detail}",
            last_error=last_error,
            counters=self.counters.snapshot(),
            transport=self._transport_detail,
        )

    # -- monitor thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                if not self._port_open:
                    self._port.open()
                    self._port_open = True
                slots = self._port.wait_for_change(self._poll_seconds)
                if slots is not None:
                    self._on_slots(slots)
                    self._ready.set()
            except (ServiceUnavailable, ReaderError) as exc:
                self._on_fault(exc)
                self._close_port()
                self._stopped.wait(self._retry_seconds)
            except Exception as exc:  # keep watching whatever happens; the reader must not die
                log.exception("sscard monitor error", extra={"device": self.name})
                self._on_fault(ReaderError(f"unexpected {type(exc).__name__}"))
                self._close_port()
                self._stopped.wait(self._retry_seconds)

    def _close_port(self) -> None:
        if self._port_open:
            self._port_open = False
            try:
                self._port.close()
            except Exception:  # pcscd may already be gone; nothing left to release
                log.debug("closing the reader port failed", extra={"device": self.name})

    def _choose(self, slots: list[SlotState]) -> SlotState | None:
        for slot in slots:
            if any(excluded in slot.reader for excluded in self._exclude):
                continue
            if self._reader_filter in slot.reader:
                return slot
        return None

    def _on_slots(self, slots: list[SlotState]) -> None:
        slot = self._choose(slots)
        if slot is None:
            wanted = f"containing {self._reader_filter!r}" if self._reader_filter else "at all"
            self._on_fault(NoReaderError(f"no PC/SC reader {wanted} ({len(slots)} attached)"))
            return
        recovered = False
        with self._event_lock:
            if self._reader != slot.reader and self._card_present:
                self._card_removed_locked()
            self._reader = slot.reader
            if self._fault is not None or self._state != DeviceState.OK:
                recovered = self._fault is not None
                self._fault = None
                self._state = DeviceState.OK
            if recovered:
                self.counters.add("recoveries")
                self._publish(ReaderRecovered(slot.reader))
            if (
                slot.present
                and self._card_present
                and self._event_count is not None
                and slot.event_count != self._event_count
            ):
                self._card_removed_locked()  # pulled and a new card inserted between two polls
            self._event_count = slot.event_count
            if slot.present and not self._card_present:
                self._card_present = True
                self._insertion += 1
                insertion = self._insertion
                self.counters.add("insertions")
                self._publish(CardInserted(slot.reader, slot.atr, insertion))
                self._start_read(insertion, slot.reader)
            elif slot.mute and not self._card_present:
                self._card_present = True
                self._insertion += 1
                self.counters.add("insertions")
                self.counters.add("reads_failed")
                self._publish(CardInserted(slot.reader, b"", self._insertion))
                error = CardMuteError("the reader reports a mute card (no ATR)")
                self._publish(_read_failed(slot.reader, error, self._insertion))
            elif not slot.present and not slot.mute and self._card_present:
                self._card_removed_locked()

    def _card_removed_locked(self) -> None:
        self._card_present = False
        self._insertion += 1
        self.counters.add("removals")
        self._publish(CardRemoved(self._reader or ""))

    def _on_fault(self, error: SsCardError) -> None:
        with self._event_lock:
            self._last_error = f"{error.code}: {error}"
            if self._card_present:
                self._card_removed_locked()  # whatever was read cannot be trusted any more
            first = self._fault is None or type(self._fault) is not type(error)
            self._fault = error
            self._state = (
                DeviceState.OFFLINE if isinstance(error, ServiceUnavailable) else DeviceState.FAULT
            )
            if first:
                self.counters.add("faults")
                log.warning("sscard reader fault", extra={"device": self.name, "code": error.code})
                self._publish(
                    ReaderFault(self._reader or "", error.code, error.message_zh, str(error))
                )

    # -- reading ---------------------------------------------------------------------------------

    def _start_read(self, insertion: int, reader: str) -> None:
        done = threading.Event()
        watchdog = threading.Timer(
            self._read_timeout, self._read_timed_out, args=(insertion, reader, done)
        )
        watchdog.daemon = True
        worker = threading.Thread(
            target=self._read,
            args=(insertion, reader, done, watchdog),
            name="sscard-read",
            daemon=True,
        )
        watchdog.start()
        worker.start()

    def _read(
        self, insertion: int, reader: str, done: threading.Event, watchdog: threading.Timer
    ) -> None:
        try:
            link = self._port.connect(reader)
            try:
                card = read_card(link.transmit, link.atr, self._authenticator, today=self._today())
            finally:
                link.close()
            event: Any = SsCardRead(reader, card, insertion)
        except SsCardError as exc:
            event = _read_failed(reader, exc, insertion)
        except Exception as exc:  # a bug must not leave the resident waiting forever
            log.exception("sscard read crashed", extra={"device": self.name})
            event = CardReadFailed(
                reader, "internal", "读卡出错，请重新插卡", type(exc).__name__, insertion
            )
        finally:
            watchdog.cancel()
        self._finish(insertion, done, event)

    def _read_timed_out(self, insertion: int, reader: str, done: threading.Event) -> None:
        error = CardMuteError(f"no answer within {self._read_timeout:g} s")
        self._finish(insertion, done, _read_failed(reader, error, insertion))

    def _finish(self, insertion: int, done: threading.Event, event: Any) -> None:
        with self._event_lock:
            if done.is_set():
                return  # the watchdog or the reader already reported this insertion
            done.set()
            if insertion != self._insertion and isinstance(event, SsCardRead):
                removed = CardRemovedError("removed before the end of the read")
                event = _read_failed(event.reader, removed, insertion)
            if isinstance(event, SsCardRead):
                self.counters.add("reads_ok")
            else:
                self.counters.add("reads_failed")
                self._last_error = f"{event.code}: {event.detail}"
                log.info("sscard read failed", extra={"device": self.name, "code": event.code})
            self._publish(event)


def _read_failed(reader: str, error: SsCardError, insertion: int) -> CardReadFailed:
    return CardReadFailed(reader, error.code, error.message_zh, str(error), insertion)
