"""A scripted social security card that answers the real APDUs; no I/O of its own.

:class:`VirtualCard` behaves like a T=0 SSSE card: SELECT answers ``61xx`` (the FCI waits for GET
RESPONSE), READ RECORD with the wrong Le answers ``6Cxx``, unknown records ``6A83``. A
:class:`CardProfile` scripts the data and the behaviour: a healthy card of generation 1.00 / 2.00
/ 3.00, an expired one, a card without the SSSE application (``6A82``), a mute card (never
answers an APDU), a card pulled mid-read, and one that answers garbage. It records every command
it received (``received``) for tests.

Authentication (docs/sscard-psam.md): a genuine card holds the TEST keys of
:mod:`kiosk.devices.sscard.simkeys` diversified by its 卡识别码 and answers INTERNAL AUTHENTICATE
with the challenge encrypted under its key (3DES on 1.00/2.00 cards, SM4 on 3.00 cards, whose FCI
carries the algorithm flag 9F0C); a 3.00 card gives out EF06 and the dates of EF05 only after
GET CHALLENGE + EXTERNAL AUTHENTICATE with its read key (RKSSSE), else ``6982``. A *cloned*
profile (``genuine=False``) carries the same data without the keys: like an emulator, it answers
INTERNAL AUTHENTICATE with bytes of the right length that no PSAM will match.

The transports that carry it: :mod:`kiosk.devices.sscard.vpcd` (a vsmartcard vpcd client, so
pcscd sees a real reader) and :class:`kiosk.devices.sscard.ports.InProcessPort`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal, Protocol

from kiosk.devices.sscard import apdu, psam, simkeys, tlv
from kiosk.devices.sscard.cardcrypto import Algorithm, encrypt_blocks, pad_to_block
from kiosk.domain.identity import build_id_number

Behaviour = Literal["normal", "wrong_application", "mute", "pulled_mid_read", "garbage"]

# T=0, 13 historical bytes, modelled on the historical bytes in PROTOCOLS.md §2.
_ATR_PREFIX = bytes.fromhex("3B6D0000")
_HISTORICAL_PREFIX = bytes.fromhex("00814E4323869715")


# EF05 records a 3.0 card gives out before EXTERNAL AUTHENTICATE (identification, not personal).
FREE_EF05_TAGS = frozenset({0x01, 0x02, 0x03, 0x04, 0x07})
EXTERNAL_AUTH_TRIES = 3


class CardPulled(Exception):
    """Raised by :meth:`VirtualCard.process` when the script pulls the card mid-read."""


class VirtualChip(Protocol):
    """What a virtual reader slot carries: the virtual card or the virtual PSAM."""

    @property
    def atr(self) -> bytes: ...

    def reset(self) -> None: ...

    def process(self, command: bytes) -> bytes | None: ...


@dataclass(frozen=True)
class CardProfile:
    """The data and behaviour of one scripted card (values as stored on the card)."""

    label: str
    version: str  # "1.00" / "2.00" / "3.00"
    region_code: str
    serial: int  # the last 8 bytes of 卡识别码
    card_number: str
    issue_date: date
    expiry_date: date
    ssn: str
    name: str
    sex: str  # "1" / "2"
    nation: str  # "01"
    birthplace: str  # 6 digits
    birth_date: date
    card_type: bytes = b"3"
    issuer_code: bytes = b"140431000000"
    name_record_length: int = 30  # some first-generation cards answer a shorter record
    ef_select_p1: int = 0x02  # the P1 this card accepts for SELECT EF (some want 00)
    behaviour: Behaviour = "normal"
    pull_after_commands: int = 4  # for "pulled_mid_read"
    genuine: bool = True  # False: a copy of the data without the card's keys

    @property
    def algorithm(self) -> Algorithm:
        """3.00 cards compute SM4, older ones 3DES."""
        return Algorithm.SM4 if self.version.startswith("3") else Algorithm.TDES

    @property
    def needs_external_auth(self) -> bool:
        return self.version.startswith("3")

    @property
    def card_id(self) -> bytes:
        return bytes.fromhex(self.region_code + "D156000005") + self.serial.to_bytes(8, "big")

    @property
    def atr(self) -> bytes:
        card_id = self.card_id
        return _ATR_PREFIX + _HISTORICAL_PREFIX + card_id[1:2] + card_id[12:16]

    def with_behaviour(self, behaviour: Behaviour, **changes: object) -> CardProfile:
        return replace(self, behaviour=behaviour, **changes)

    def __repr__(self) -> str:  # fictional, but keep the habit: no personal fields in repr
        genuine = "" if self.genuine else ", cloned"
        return f"CardProfile({self.label!r}, {self.version}, {self.behaviour}{genuine})"


@dataclass
class VirtualCard:
    """One inserted card: answers APDUs per its profile. Thread-safe; ``received`` logs APDUs."""

    profile: CardProfile
    received: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._selected_app = False
        self._current_ef: int | None = None
        self._pending = b""
        self._records = {apdu.EF05: self._ef05(), apdu.EF06: self._ef06()}
        self._keys: dict[str, bytes] = {}
        if self.profile.genuine:
            algorithm, card_id = self.profile.algorithm, self.profile.card_id
            self._keys = {u: simkeys.card_key(algorithm, u, card_id) for u in simkeys.USAGES}
        self._challenge = b""
        self._read_key_verified = False
        self._external_tries = EXTERNAL_AUTH_TRIES

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    def reset(self) -> None:
        """Power cycle: forget the selected application, pending data and authentication."""
        with self._lock:
            self._selected_app = False
            self._current_ef = None
            self._pending = b""
            self._challenge = b""
            self._read_key_verified = False

    def process(self, command: bytes) -> bytes | None:
        """The response APDU for *command*; None when the card stays mute; CardPulled if pulled."""
        with self._lock:
            self.received.append(bytes(command))
            behaviour = self.profile.behaviour
            if behaviour == "mute":
                return None
            if (
                behaviour == "pulled_mid_read"
                and len(self.received) > self.profile.pull_after_commands
            ):
                raise CardPulled()
            return self._answer(bytes(command))

    # -- the card operating system -------------------------------------------------------------

    def _answer(self, command: bytes) -> bytes:
        if len(command) < 4:
            return b"\x67\x00"
        ins, p1, p2 = command[1], command[2], command[3]
        body, le = _split_body(command)
        if body is None:
            return b"\x67\x00"
        if command[0] != 0x00:
            return b"\x6e\x00"
        if ins == 0xA4:
            return self._select(p1, body)
        if ins == 0xC0:
            return self._get_response(le)
        if ins == 0xB2:
            return self._read_record(p1, p2, le)
        if ins == 0x84:
            return self._get_challenge(le)
        if ins == 0x88:
            return self._internal_authenticate(p2, body)
        if ins == 0x82:
            return self._external_authenticate(p2, body)
        return b"\x6d\x00"

    # -- authentication -----------------------------------------------------------------------------

    def _get_challenge(self, le: int | None) -> bytes:
        if le != psam.CHALLENGE_LENGTH:
            return b"\x67\x00"
        self._challenge = secrets.token_bytes(psam.CHALLENGE_LENGTH)
        return self._challenge + b"\x90\x00"

    def _internal_authenticate(self, key_id: int, data: bytes) -> bytes:
        algorithm = self.profile.algorithm
        if not self._selected_app:
            return b"\x69\x85"
        if len(data) != algorithm.block_size:
            return b"\x67\x00"
        if key_id != psam.DEFAULT_KEY_MAP.internal.card_key_id:
            return b"\x6a\x88"
        if not self.profile.genuine:  # an emulator: the right length, the wrong bytes
            return self._queue(secrets.token_bytes(algorithm.block_size))
        return self._queue(encrypt_blocks(algorithm, self._keys[simkeys.INTERNAL], data))

    def _external_authenticate(self, key_id: int, cryptogram: bytes) -> bytes:
        challenge, self._challenge = self._challenge, b""
        if not self._selected_app:
            return b"\x69\x85"
        if key_id != psam.DEFAULT_KEY_MAP.read_key.card_key_id:
            return b"\x6a\x88"
        if not challenge:
            return b"\x69\x84"  # no challenge to answer: reference data not usable
        if not self.profile.genuine:
            self._read_key_verified = True  # a copy happily lets anyone read it
            return b"\x90\x00"
        if self._external_tries <= 0:
            return b"\x69\x83"  # the key is blocked
        algorithm = self.profile.algorithm
        expected = encrypt_blocks(
            algorithm, self._keys[simkeys.READ_KEY], pad_to_block(algorithm, challenge)
        )
        if cryptogram != expected:
            self._external_tries -= 1
            return bytes([0x63, 0xC0 | self._external_tries])
        self._external_tries = EXTERNAL_AUTH_TRIES
        self._read_key_verified = True
        return b"\x90\x00"

    def _readable(self, tag: int) -> bool:
        """Whether READ RECORD of *tag* in the current EF is allowed now (3.0 access rules)."""
        if not self.profile.needs_external_auth or self._read_key_verified:
            return True
        return self._current_ef == apdu.EF05 and tag in FREE_EF05_TAGS

    # -- files --------------------------------------------------------------------------------------

    def _select(self, p1: int, body: bytes) -> bytes:
        self._pending = b""
        if p1 == 0x04:
            if self.profile.behaviour == "wrong_application" or body != apdu.SSSE_AID:
                return b"\x6a\x82"
            if not self._selected_app:
                self._read_key_verified = False  # (re)entering the application drops it
            self._selected_app = True
            self._current_ef = None
            return self._queue(self._fci())
        if p1 == 0x00 and body == b"\x3f\x00":
            self._selected_app = False
            self._current_ef = None
            return b"\x90\x00"
        if p1 in (0x00, 0x02) and len(body) == 2 and self._selected_app:
            fid = int.from_bytes(body, "big")
            if fid in self._records:
                if p1 != self.profile.ef_select_p1:
                    return b"\x6a\x86"
                self._current_ef = fid
                return b"\x90\x00"
        return b"\x6a\x82"

    def _queue(self, data: bytes) -> bytes:
        self._pending = data
        return bytes([0x61, len(data) & 0xFF])

    def _get_response(self, le: int | None) -> bytes:
        if not self._pending:
            return b"\x69\x85"
        wanted = le or 256
        chunk, self._pending = self._pending[:wanted], self._pending[wanted:]
        if self._pending:
            return chunk + bytes([0x61, len(self._pending) & 0xFF])
        return chunk + b"\x90\x00"

    def _read_record(self, tag: int, p2: int, le: int | None) -> bytes:
        if self._current_ef is None:
            return b"\x69\x86"  # no current EF
        if p2 != 0x00:
            return b"\x6a\x86"
        if self.profile.behaviour == "garbage":
            return b"\x01\x40\x12\x34\x90\x00"  # a TLV whose length runs past its end
        value = self._records[self._current_ef].get(tag)
        if value is None:
            return b"\x6a\x83"
        if not self._readable(tag):
            return b"\x69\x82"  # security status not satisfied: EXTERNAL AUTHENTICATE first
        record = tlv.encode(tag, value)
        if le != len(record):
            return bytes([0x6C, len(record)])
        return record + b"\x90\x00"

    # -- the files -------------------------------------------------------------------------------

    def _fci(self) -> bytes:
        # 9F0C algorithm flag on 2.0/3.0 cards (9F0C 03 86 01 xx): 01 3DES, 03 SM4; none on 1.0.
        proprietary = b""
        if not self.profile.version.startswith("1"):
            proprietary = tlv.encode(0xA5, psam.algorithm_flag_tlv(self.profile.algorithm))
        return tlv.encode(0x6F, tlv.encode(0x84, apdu.SSSE_AID) + proprietary)

    def _ef05(self) -> dict[int, bytes]:
        p = self.profile
        return {
            0x01: p.card_id,
            0x02: p.card_type,
            0x03: p.version.encode("ascii"),
            0x04: p.issuer_code,
            0x05: bytes.fromhex(p.issue_date.strftime("%Y%m%d")),
            0x06: bytes.fromhex(p.expiry_date.strftime("%Y%m%d")),
            0x07: p.card_number.encode("ascii"),
        }

    def _ef06(self) -> dict[int, bytes]:
        p = self.profile
        name_part, extension = _split_name(p.name, p.name_record_length)
        records = {
            0x08: p.ssn.encode("ascii"),
            0x09: name_part.ljust(p.name_record_length, b"\x00"),
            0x0A: p.sex.encode("ascii"),
            0x0B: bytes.fromhex(p.nation),
            0x0C: bytes.fromhex(p.birthplace),
            0x0D: bytes.fromhex(p.birth_date.strftime("%Y%m%d")),
        }
        if extension:
            records[0x4E] = extension.ljust(20, b"\x00")
        return records


def _split_body(command: bytes) -> tuple[bytes | None, int | None]:
    """(data, Le) of a short APDU; (None, None) when Lc does not match the length."""
    if len(command) == 4:
        return b"", None
    if len(command) == 5:
        return b"", command[4]
    lc = command[4]
    if len(command) == 5 + lc:
        return command[5:], None
    if len(command) == 6 + lc:
        return command[5 : 5 + lc], command[-1]
    return None, None


def _split_name(name: str, first_length: int) -> tuple[bytes, bytes]:
    """GBK name → (姓名 part of at most *first_length* bytes, 姓名扩展), cut between characters."""
    first = b""
    for index, char in enumerate(name):
        encoded = char.encode("gbk")
        if len(first) + len(encoded) > first_length:
            return first, name[index:].encode("gbk")
        first += encoded
    return first, b""


def demo_profiles() -> dict[str, CardProfile]:
    """Fictional 沁源县 (140431) residents on cards of every generation and fault, by key."""
    region = "140431"
    gen2 = CardProfile(
        label="第二代卡 王建国",
        version="2.00",
        region_code=region,
        serial=0x00000000_4A7C3B21,
        card_number="B14043107",
        issue_date=date(2021, 3, 18),
        expiry_date=date(2031, 3, 18),
        ssn=build_id_number(region, date(1972, 5, 20), 315),
        name="王建国",
        sex="1",
        nation="01",
        birthplace=region,
        birth_date=date(1972, 5, 20),
    )
    gen1 = replace(
        gen2,
        label="第一代卡 张秀兰",
        version="1.00",
        serial=0x00000000_1B22C0D4,
        card_number="A04310052",
        issue_date=date(2011, 10, 1),
        expiry_date=date(2031, 10, 1),
        ssn=build_id_number(region, date(1956, 9, 12), 126),
        name="张秀兰",
        sex="2",
        birth_date=date(1956, 9, 12),
        name_record_length=20,
    )
    gen3 = replace(
        gen2,
        label="第三代卡 李欣怡",
        version="3.00",
        serial=0x00000000_7E019A55,
        card_number="C00143108",
        issue_date=date(2023, 8, 8),
        expiry_date=date(2033, 8, 8),
        ssn=build_id_number(region, date(1995, 11, 2), 42),
        name="李欣怡",
        sex="2",
        birth_date=date(1995, 11, 2),
    )
    long_name = replace(
        gen3,
        label="第三代卡 长姓名",
        serial=0x00000000_7E019A56,
        card_number="C00143109",
        ssn=build_id_number("650102", date(1988, 4, 6), 57),
        name="阿卜杜热合曼·买买提艾力·吐尔逊",
        sex="1",
        nation="05",
        birthplace="650102",
        birth_date=date(1988, 4, 6),
    )
    expired = replace(
        gen2,
        label="过期卡 赵德胜",
        serial=0x00000000_2C3D4E5F,
        card_number="B14043101",
        issue_date=date(2013, 5, 1),
        expiry_date=date(2023, 5, 1),
        ssn=build_id_number(region, date(1950, 1, 8), 211),
        name="赵德胜",
        birth_date=date(1950, 1, 8),
    )
    select_p1_00 = replace(
        gen2,
        label="第二代卡 P1=00",
        serial=0x00000000_4A7C3B22,
        card_number="B14043108",
        ssn=build_id_number(region, date(1981, 7, 30), 88),
        name="刘美兰",
        sex="2",
        birth_date=date(1981, 7, 30),
        ef_select_p1=0x00,
    )
    return {
        "gen1": gen1,
        "select_p1_00": select_p1_00,
        "gen2": gen2,
        "gen3": gen3,
        "long_name": long_name,
        "expired": expired,
        "wrong_application": gen2.with_behaviour("wrong_application", label="非社保卡"),
        "mute": gen2.with_behaviour("mute", label="无应答卡"),
        "pulled_mid_read": gen2.with_behaviour("pulled_mid_read", label="读卡中拔出"),
        "garbage": gen2.with_behaviour("garbage", label="乱码卡"),
        # The same data as a genuine card, without its keys: what a card emulator carries.
        "cloned": replace(gen3, label="复制卡（第三代卡数据）", genuine=False),
        "cloned_gen1": replace(gen1, label="复制卡（自称第一代卡）", genuine=False),
    }
