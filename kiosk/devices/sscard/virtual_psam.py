"""A scripted social-security PSAM that answers the real APDUs; no I/O of its own.

:class:`VirtualPsam` is the second reader slot's chip in demo mode and tests (carried by
:mod:`kiosk.devices.sscard.vpcd` on vpcd port 35964, or in-process). It holds the TEST master
keys of :mod:`kiosk.devices.sscard.simkeys` in one key directory per algorithm (DF01 3DES, DF03
SM4; none for SSF33) and answers, like a T=0 PBOC-style PSAM:

- ``00 A4 00 00 02 <FID>`` SELECT MF / a key directory (``6A82`` for one it lacks);
- ``00 B0 96 00 06`` READ BINARY of SFI 16 under the MF: the 终端机编号;
- ``80 1A <usage> <index> <Lc> <factors>`` take a key and diversify it (``6A88`` unknown key);
- ``80 FA 00 00 <Lc> <data>`` encrypt whole blocks under that key, answered ``61xx``
  (``6985`` without a DELIVER KEY first), then ``00 C0`` GET RESPONSE.

*Behaviours* script faults: ``"no_sm4"`` (no SM4 directory: third-generation cards cannot be
checked), ``"no_read_key"`` (no RKSSSE key), ``"mute"`` (never answers). ``received`` records
every command for tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from kiosk.devices.sscard import psam, simkeys
from kiosk.devices.sscard.cardcrypto import Algorithm, diversify_levels, encrypt_blocks

PsamBehaviour = Literal["normal", "no_sm4", "no_read_key", "mute"]
# A T=0 chip, historical bytes "JJB-PSAM" (not a vendor's ATR).
PSAM_ATR = bytes.fromhex("3B680000") + b"JJB-PSAM"
DEMO_TERMINAL_NUMBER = bytes.fromhex("140431000001")


@dataclass
class VirtualPsam:
    """One inserted PSAM; thread-safe; ``received`` logs the APDUs it got."""

    behaviour: PsamBehaviour = "normal"
    terminal_number: bytes = DEMO_TERMINAL_NUMBER
    keys: psam.PsamKeyMap = field(default_factory=psam.PsamKeyMap)
    received: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._directories = {fid: alg for alg, fid in self.keys.directories.items()}
        self._usages = {
            (self.keys.internal.psam_usage, self.keys.internal.psam_index): simkeys.INTERNAL,
            (self.keys.read_key.psam_usage, self.keys.read_key.psam_index): simkeys.READ_KEY,
        }
        self._algorithm: Algorithm | None = None
        self._in_mf = True
        self._session_key = b""
        self._pending = b""

    @property
    def atr(self) -> bytes:
        return PSAM_ATR

    def reset(self) -> None:
        """Power cycle: back to the MF, no key delivered."""
        with self._lock:
            self._algorithm = None
            self._in_mf = True
            self._session_key = b""
            self._pending = b""

    def process(self, command: bytes) -> bytes | None:
        """The response APDU for *command*; None when the PSAM stays mute."""
        with self._lock:
            self.received.append(bytes(command))
            if self.behaviour == "mute":
                return None
            return self._answer(bytes(command))

    def _answer(self, command: bytes) -> bytes:
        if len(command) < 5:
            return b"\x67\x00"
        cla, ins, p1, p2, lc = command[:5]
        body = command[5:]
        if ins == 0xC0 and cla == 0x00:
            return self._get_response(lc)
        self._pending = b""
        if cla == 0x00 and ins == 0xA4:
            return self._select(p1, body if len(body) == lc else b"")
        if cla == 0x00 and ins == 0xB0:
            return self._read_binary(p1, lc)
        if cla == 0x80 and ins == 0x1A:
            return self._deliver_key(p1, p2, body if len(body) == lc else b"")
        if cla == 0x80 and ins == 0xFA:
            return self._cipher(p1, body if len(body) == lc else b"")
        return b"\x6d\x00" if cla in (0x00, 0x80) else b"\x6e\x00"

    def _select(self, p1: int, body: bytes) -> bytes:
        if p1 != 0x00 or len(body) != 2:
            return b"\x6a\x86"
        fid = int.from_bytes(body, "big")
        self._session_key = b""
        if fid == psam.FID_MF:
            self._algorithm, self._in_mf = None, True
            return b"\x90\x00"
        algorithm = self._directories.get(fid)
        if algorithm is None or not self._has(algorithm):
            return b"\x6a\x82"
        self._algorithm, self._in_mf = algorithm, False
        return b"\x90\x00"

    def _has(self, algorithm: Algorithm) -> bool:
        if algorithm is Algorithm.SSF33:
            return False  # not computable in software
        return not (algorithm is Algorithm.SM4 and self.behaviour == "no_sm4")

    def _read_binary(self, p1: int, le: int) -> bytes:
        if not self._in_mf or p1 != 0x80 | psam.SFI_TERMINAL_NUMBER:
            return b"\x6a\x82"
        data = self.terminal_number[: le or 256]
        return data + b"\x90\x00"

    def _deliver_key(self, usage: int, index: int, factors: bytes) -> bytes:
        self._session_key = b""
        if self._algorithm is None:
            return b"\x69\x85"  # no key directory selected
        if not factors or len(factors) % 8:
            return b"\x67\x00"
        name = self._usages.get((usage, index))
        if name is None or (name == simkeys.READ_KEY and self.behaviour == "no_read_key"):
            return b"\x6a\x88"  # referenced key not found
        master = simkeys.master_key(self._algorithm, name)
        self._session_key = diversify_levels(self._algorithm, master, factors)
        return b"\x90\x00"

    def _cipher(self, p1: int, data: bytes) -> bytes:
        if not self._session_key or self._algorithm is None:
            return b"\x69\x85"  # conditions of use not satisfied: DELIVER KEY first
        if p1 != 0x00:
            return b"\x6a\x86"  # this PSAM only encrypts
        if not data or len(data) % self._algorithm.block_size:
            return b"\x67\x00"
        self._pending = encrypt_blocks(self._algorithm, self._session_key, data)
        return bytes([0x61, len(self._pending)])

    def _get_response(self, le: int) -> bytes:
        if not self._pending:
            return b"\x69\x85"
        chunk, self._pending = self._pending[: le or 256], b""
        return chunk + b"\x90\x00"
