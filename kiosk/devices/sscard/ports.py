"""Reader ports: the one I/O boundary of the driver, real (pcscd via pyscard) or in-process.

A :class:`ReaderPort` lists readers, waits for slot changes and connects to a card, giving a
:class:`CardLink` whose ``transmit(bytes) -> bytes`` is the APDU layer's hook. Both ports raise
only :mod:`kiosk.devices.sscard.errors` types: ServiceUnavailable (pcscd gone), ReaderGoneError,
CardRemovedError, CardMuteError, ReaderError.

:class:`PcscPort` uses pyscard's thin ``smartcard.scard`` layer (SCardGetStatusChange) rather than
``CardMonitor``: the monitor thread of CardMonitor dies for good when pcscd stops
(SCARD_E_NO_SERVICE) and hides the error, and polls at a fixed 0.1 s; here the driver sees the
error, re-establishes the context when pcscd returns, and wakes on the change itself.
A read runs inside one PC/SC transaction (SCardBeginTransaction), so another program reading the
same card cannot change the selected file mid-sequence. Each connection uses its own PC/SC context, because pcsc-lite serialises calls per context: a
transmit stuck on a mute card must not block the thread watching for removal.

:class:`InProcessPort` holds a :class:`~kiosk.devices.sscard.virtual_card.VirtualChip` (the virtual
card, or the virtual PSAM) in memory (demo mode without pcscd); it is also the slot the demo
inserts cards into.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.devices.sscard.errors import (
    CardMuteError,
    CardRemovedError,
    ReaderError,
    ReaderGoneError,
    ServiceUnavailable,
)
from kiosk.devices.sscard.virtual_card import CardPulled, VirtualChip

PNP_NOTIFICATION = r"\\?PnP?\Notification"
_SCARD_PRESENT = 0x0004  # SCardStatus() dwState bit (pcsclite.h); pyscard does not export it


@dataclass(frozen=True)
class SlotState:
    """One reader's state: ``present`` a powered card with an ATR, ``mute`` a card without."""

    reader: str
    present: bool
    mute: bool = False
    atr: bytes = field(default=b"", repr=False)
    # Insertion/removal counter of the slot: a change while "present" means a new card.
    event_count: int = 0


class CardLink(Protocol):
    atr: bytes

    def transmit(self, command: bytes) -> bytes: ...

    def close(self) -> None: ...


class ReaderPort(Protocol):
    transport: str

    def readers(self) -> list[str]:
        """Names of the attached readers (opens nothing that must be closed)."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def wait_for_change(self, timeout: float) -> list[SlotState] | None:
        """Block up to *timeout* s; the states of all readers after a change, None if none."""

    def cancel(self) -> None:
        """Wake a wait_for_change() blocked in another thread."""

    def connect(self, reader: str) -> CardLink: ...


# ---------------------------------------------------------------------------------------------
# pcscd through pyscard


def _u32(value: int) -> int:
    return value & 0xFFFFFFFF


class PcscPort:
    """Readers of the local pcscd. Threads: wait_for_change() on one thread; connect() anywhere."""

    transport = "pcsc"

    def __init__(self) -> None:
        from smartcard import scard  # imported here: pyscard loads libpcsclite

        self._scard = scard
        self._context: int | None = None
        self._known: dict[str, int] = {}
        self._pnp_state = 0
        self._readers: list[str] = []
        self._atr_of: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- context --------------------------------------------------------------------------------

    def open(self) -> None:
        """Establish the monitoring context; ServiceUnavailable when pcscd is not running."""
        if self._context is not None:
            return
        hresult, context = self._scard.SCardEstablishContext(self._scard.SCARD_SCOPE_USER)
        self._raise_for(hresult, "SCardEstablishContext")
        with self._lock:
            self._context = context
        self._known = {}
        self._pnp_state = 0
        self._readers = self._list_readers(context)

    def close(self) -> None:
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            self._scard.SCardReleaseContext(context)

    def cancel(self) -> None:
        with self._lock:
            context = self._context
        if context is not None:
            self._scard.SCardCancel(context)

    def readers(self) -> list[str]:
        """Reader names; opens a short-lived context (safe from any thread)."""
        hresult, context = self._scard.SCardEstablishContext(self._scard.SCARD_SCOPE_USER)
        self._raise_for(hresult, "SCardEstablishContext")
        try:
            return self._list_readers(context)
        finally:
            self._scard.SCardReleaseContext(context)

    def _list_readers(self, context: int) -> list[str]:
        hresult, names = self._scard.SCardListReaders(context, [])
        if _u32(hresult) == _u32(self._scard.SCARD_E_NO_READERS_AVAILABLE):
            return []
        self._raise_for(hresult, "SCardListReaders")
        return list(names)

    # -- monitoring ----------------------------------------------------------------------------

    def wait_for_change(self, timeout: float) -> list[SlotState] | None:
        scard = self._scard
        context = self._context
        if context is None:
            raise ServiceUnavailable("port not open")
        states = [
            (name, self._known.get(name, scard.SCARD_STATE_UNAWARE)) for name in self._readers
        ]
        states.append((PNP_NOTIFICATION, self._pnp_state))
        first_look = any(name not in self._known for name in self._readers)
        hresult, new_states = scard.SCardGetStatusChange(
            context, 0 if first_look else int(timeout * 1000), states
        )
        code = _u32(hresult)
        if code in (_u32(scard.SCARD_E_TIMEOUT), _u32(scard.SCARD_E_CANCELLED)):
            return None
        if code in (_u32(scard.SCARD_E_UNKNOWN_READER), _u32(scard.SCARD_E_READER_UNAVAILABLE)):
            self._readers = self._list_readers(context)  # a reader went away: look again
            self._known = {n: s for n, s in self._known.items() if n in self._readers}
            return self._snapshot()
        self._raise_for(hresult, "SCardGetStatusChange")
        readers_changed = False
        for name, event_state, atr in new_states:
            settled = event_state & ~scard.SCARD_STATE_CHANGED
            if name == PNP_NOTIFICATION:
                readers_changed = settled != self._pnp_state
                self._pnp_state = settled
            else:
                self._known[name] = settled
                self._atr_of[name] = bytes(atr) if atr else b""
        if readers_changed:
            self._readers = self._list_readers(context)
            self._known = {n: s for n, s in self._known.items() if n in self._readers}
        return self._snapshot()

    def _snapshot(self) -> list[SlotState]:
        scard = self._scard
        slots = []
        for name in self._readers:
            state = self._known.get(name, 0)
            present = bool(state & scard.SCARD_STATE_PRESENT)
            mute = bool(state & scard.SCARD_STATE_MUTE)
            slots.append(
                SlotState(
                    name,
                    present=present and not mute,
                    mute=present and mute,
                    atr=self._atr_of.get(name, b""),
                    event_count=(state >> 16) & 0xFFFF,
                )
            )
        return slots

    # -- cards ----------------------------------------------------------------------------------

    def connect(self, reader: str) -> _PcscLink:
        scard = self._scard
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        self._raise_for(hresult, "SCardEstablishContext")
        hresult, handle, protocol = scard.SCardConnect(
            context,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if _u32(hresult) != 0:
            scard.SCardReleaseContext(context)
            self._raise_for(hresult, "SCardConnect")
        link = _PcscLink(scard, context, handle, protocol, self)
        hresult, _name, _state, _proto, atr = scard.SCardStatus(handle)
        if _u32(hresult) == 0:
            # The read is a sequence (SELECT, then READ RECORD in the selected EF): another
            # program talking to the card in between would change the current file under us.
            hresult = scard.SCardBeginTransaction(handle)
            link.in_transaction = _u32(hresult) == 0
        if _u32(hresult) != 0:
            link.close()
            self._raise_for(hresult, "SCardStatus/SCardBeginTransaction")
        link.atr = bytes(atr)
        return link

    def _raise_for(self, hresult: int, call: str) -> None:
        """Raise the typed error for a PC/SC result code (nothing for SCARD_S_SUCCESS)."""
        scard = self._scard
        code = _u32(hresult)
        if code == 0:
            return
        text = f"{call}: {scard.SCardGetErrorMessage(hresult)} (0x{code:08X})"
        if code in (
            _u32(scard.SCARD_E_NO_SERVICE),
            _u32(scard.SCARD_E_SERVICE_STOPPED),
            _u32(scard.SCARD_F_COMM_ERROR),  # pcscd died under an open context
            _u32(scard.SCARD_E_INVALID_HANDLE),  # a context of a pcscd that is gone
        ):
            raise ServiceUnavailable(text)
        if code in (_u32(scard.SCARD_E_NO_SMARTCARD), _u32(scard.SCARD_W_REMOVED_CARD)):
            raise CardRemovedError(text)
        if code in (_u32(scard.SCARD_W_UNRESPONSIVE_CARD), _u32(scard.SCARD_W_UNPOWERED_CARD)):
            raise CardMuteError(text)
        if code in (_u32(scard.SCARD_E_UNKNOWN_READER), _u32(scard.SCARD_E_READER_UNAVAILABLE)):
            raise ReaderGoneError(text)
        raise ReaderError(text)


class _PcscLink:
    """One connection to the card in a reader, on its own context. Not shared across threads."""

    def __init__(self, scard, context: int, handle: int, protocol: int, port: PcscPort) -> None:
        self._scard = scard
        self._context = context
        self._handle = handle
        self._protocol = protocol
        self._port = port
        self.atr = b""
        self.in_transaction = False

    def transmit(self, command: bytes) -> bytes:
        scard = self._scard
        hresult, response = scard.SCardTransmit(self._handle, self._protocol, list(command))
        code = _u32(hresult)
        if code == _u32(scard.SCARD_E_NOT_TRANSACTED):
            # vpcd and some CCID readers say "not transacted" when the card vanished mid-APDU.
            raise CardRemovedError(f"SCardTransmit: not transacted (0x{code:08X})")
        self._port._raise_for(hresult, "SCardTransmit")
        if len(response) < 2 and self._card_gone():
            # vpcd answers an APDU whose card vanished with an empty "success".
            raise CardRemovedError("SCardTransmit: the card left during the command")
        return bytes(response)

    def _card_gone(self, settle_seconds: float = 1.0) -> bool:
        """True once pcscd reports the card absent, polling up to *settle_seconds*."""
        scard = self._scard
        deadline = time.monotonic() + settle_seconds
        while True:
            hresult, _name, state, _proto, _atr = scard.SCardStatus(self._handle)
            if _u32(hresult) != 0 or not state & _SCARD_PRESENT:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def close(self) -> None:
        scard = self._scard
        if self._handle is not None and self.in_transaction:
            scard.SCardEndTransaction(self._handle, scard.SCARD_LEAVE_CARD)
            self.in_transaction = False
        if self._handle is not None:
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
            self._handle = None
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None


# ---------------------------------------------------------------------------------------------
# in-process virtual card


class InProcessPort:
    """One in-memory reader holding a virtual chip; also the slot demo code inserts cards into."""

    transport = "in-process"
    READER_NAME = "Virtual SSCard (in-process)"
    PSAM_READER_NAME = "Virtual PSAM (in-process)"

    def __init__(self, reader_name: str = READER_NAME) -> None:
        self.reader_name = reader_name
        self._changed = threading.Condition()
        self._card: VirtualChip | None = None
        self._version = 0
        self._seen_version = -1
        self._cancelled = False

    @property
    def card(self) -> VirtualChip | None:
        return self._card

    def readers(self) -> list[str]:
        return [self.reader_name]

    def insert(self, card: VirtualChip) -> None:
        with self._changed:
            self._card = card
            card.reset()
            self._version += 1
            self._changed.notify_all()

    def remove(self) -> None:
        with self._changed:
            if self._card is None:
                return
            self._card = None
            self._version += 1
            self._changed.notify_all()

    def open(self) -> None:
        """(Re)open: the next wait_for_change() reports the current state, as pcscd's does."""
        with self._changed:
            self._seen_version = -1

    def close(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        with self._changed:
            self._cancelled = True
            self._changed.notify_all()

    def wait_for_change(self, timeout: float) -> list[SlotState] | None:
        with self._changed:
            if self._version == self._seen_version:
                self._changed.wait_for(
                    lambda: self._version != self._seen_version or self._cancelled, timeout
                )
            self._cancelled = False
            if self._version == self._seen_version:
                return None
            self._seen_version = self._version
            card = self._card
        return [
            SlotState(
                self.reader_name,
                present=card is not None,
                atr=card.atr if card else b"",
                event_count=self._seen_version,
            )
        ]

    def connect(self, reader: str) -> _InProcessLink:
        if reader != self.reader_name:
            raise ReaderGoneError(f"no in-process reader named {reader!r}")
        card = self._card
        if card is None:
            raise CardRemovedError("no card in the in-process reader")
        return _InProcessLink(self, card)


class _InProcessLink:
    def __init__(self, port: InProcessPort, card: VirtualChip) -> None:
        self._port = port
        self._card = card
        self.atr = card.atr

    def transmit(self, command: bytes) -> bytes:
        if self._port.card is not self._card:
            raise CardRemovedError("the card left the in-process reader")
        try:
            response = self._card.process(command)
        except CardPulled:
            self._port.remove()
            raise CardRemovedError("the card was pulled mid-read") from None
        if response is None:
            # A real reader gives up after its own timeout; in memory there is nothing to wait for.
            raise CardMuteError("the card did not answer")
        return response

    def close(self) -> None:
        return None
