"""Carry a virtual chip (the virtual card or PSAM) to pcscd as a vsmartcard vpcd client.

The vpcd reader driver listens on TCP (127.0.0.1:35963 for "Virtual PCD 00 00", 35964 for the
second slot). A card is "inserted" by connecting and "removed" by closing the socket. Frames are
a 2-byte big-endian length and a payload; a 1-byte payload is control (0 power off, 1 power on,
2 reset, 4 get ATR — only get ATR is answered), anything longer is a command APDU answered with
the response APDU.

:class:`VpcdCardSlot` owns one background thread. ``insert(card)`` connects (retrying while pcscd
is restarting), ``remove()`` closes the socket. When pcscd goes away while a card is inserted,
the slot reconnects when it comes back, as a card left in a real reader would reappear.
A mute card is never answered (pcscd's transmit then waits until the card is removed); a card
scripted to be pulled mid-read closes the socket in the middle of the read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time

from kiosk.devices.sscard.virtual_card import CardPulled, VirtualChip

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963
_CONTROL_POWER_OFF, _CONTROL_POWER_ON, _CONTROL_RESET, _CONTROL_GET_ATR = 0, 1, 2, 4
_RECONNECT_SECONDS = 0.2
# A card pulled and another pushed in faster than pcscd's poll of vpcd (0.4 s) would look to
# pcscd like one card that never left: no removal, no insertion, the old ATR. A hand cannot
# swap cards that fast; the slot keeps itself empty at least this long after a removal.
MIN_ABSENT_SECONDS = 0.6


class VpcdProtocolError(Exception):
    """vpcd sent something that is not a frame (empty frame or a truncated one)."""


def read_frame(sock: socket.socket) -> bytes:
    """One payload from *sock*; EOFError when the peer closed, VpcdProtocolError if empty."""
    (length,) = struct.unpack(">H", _recv_exact(sock, 2))
    if length == 0:
        raise VpcdProtocolError("empty vpcd frame")
    return _recv_exact(sock, length)


def write_frame(sock: socket.socket, payload: bytes) -> None:
    if len(payload) > 0xFFFF:
        raise ValueError("vpcd payload too long")
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        _quick_ack(sock)
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        data += chunk
    return bytes(data)


class VpcdCardSlot:
    """A virtual card slot behind vpcd at *host*:*port*; insert/remove cards from any thread."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._card: VirtualChip | None = None
        self._socket: socket.socket | None = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._left_at = -MIN_ABSENT_SECONDS  # monotonic time the last card left the slot
        self.connected = threading.Event()  # set while pcscd holds our connection

    @property
    def card(self) -> VirtualChip | None:
        return self._card

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sscard-vpcd", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self.remove()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def insert(self, card: VirtualChip) -> None:
        """Insert *card* (replacing any card in the slot); returns at once, connects async."""
        self.remove()
        with self._lock:
            self._card = card
        self._wake.set()

    def remove(self) -> None:
        """Pull the card: close the socket, so vpcd reports the slot empty."""
        with self._lock:
            self._card = None
            sock, self._socket = self._socket, None
        if sock is not None:
            _close(sock)
            self._left_at = time.monotonic()
        self.connected.clear()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                card = self._card
            if card is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            absent = time.monotonic() - self._left_at
            if absent < MIN_ABSENT_SECONDS:
                self._stopped.wait(MIN_ABSENT_SECONDS - absent)
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
            except OSError:
                self._wake.wait(_RECONNECT_SECONDS)  # pcscd (re)starting: try again
                self._wake.clear()
                continue
            sock.settimeout(None)
            _tune(sock)
            with self._lock:
                if self._card is not card:  # removed while we connected
                    _close(sock)
                    continue
                self._socket = sock
            self.connected.set()
            self._serve(sock, card)
            self.connected.clear()
            with self._lock:
                if self._socket is sock:
                    self._socket = None
            _close(sock)
            self._left_at = time.monotonic()

    def _serve(self, sock: socket.socket, card: VirtualChip) -> None:
        try:
            while True:
                payload = read_frame(sock)
                if len(payload) == 1:
                    if payload[0] == _CONTROL_GET_ATR:
                        write_frame(sock, card.atr)
                    elif payload[0] in (_CONTROL_POWER_OFF, _CONTROL_RESET):
                        card.reset()
                    continue
                response = card.process(payload)
                if response is None:
                    continue  # mute: vpcd waits until the card is removed
                write_frame(sock, response)
        except CardPulled:
            with self._lock:
                if self._card is card:
                    self._card = None
        except (EOFError, OSError, VpcdProtocolError) as exc:
            log.debug("vpcd connection ended", extra={"event": type(exc).__name__})


def _tune(sock: socket.socket) -> None:
    """No Nagle on our answers; see _quick_ack for vpcd's."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge at once (Linux; the kernel clears the flag, so set it before every read).

    vpcd writes a frame's length and its payload separately; with Nagle on its side and delayed
    ACKs on ours, every APDU and every presence poll would wait ~40 ms for the ACK.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
