"""The APDUs of card authentication with a PSAM, and where the keys sit; pure, no I/O.

Card side (ISO/IEC 7816-4 §7.5): GET CHALLENGE ``00 84``, INTERNAL AUTHENTICATE ``00 88`` (the
card proves it holds its key), EXTERNAL AUTHENTICATE ``00 82`` (the terminal proves it holds the
card's read key RKSSSE, which 3.0 cards require before they give out personal data).
PSAM side (PBOC-style PSAM, 通用DES计算): DELIVER KEY / 通用计算初始化 ``80 1A`` (select a key by
usage and index and diversify it by the card's factors), CIPHER DATA ``80 FA`` (encrypt one
block under the diversified key), READ BINARY of SFI 16 (终端机编号), SELECT of the key directory
of the card's algorithm.

The byte values of the social-security key system (key usages, indexes, directories, card key
ids) are provincial and not public: :class:`PsamKeyMap` holds them in one place, with the values
docs/sscard-psam.md explains ("verify on real hardware"). Builders raise ValueError on values
that cannot be encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.devices.sscard import tlv
from kiosk.devices.sscard.cardcrypto import Algorithm
from kiosk.devices.sscard.errors import TlvError

TAG_ALGORITHM_FLAG = 0x9F0C
TAG_ALGORITHM_VALUE = 0x86  # 9F0C 03 86 01 xx: the flag as some cards wrap it
# 算法环境标识 → algorithm. A card without the flag (1.00) uses 3DES.
ALGORITHM_BY_FLAG = {0x01: Algorithm.TDES, 0x02: Algorithm.SSF33, 0x03: Algorithm.SM4}
CHALLENGE_LENGTH = 8  # GET CHALLENGE: 8 random bytes from the card
TERMINAL_NUMBER_LENGTH = 6  # 终端机编号, 6 bytes BCD in the PSAM's EF 16
SFI_TERMINAL_NUMBER = 0x16
FID_MF = 0x3F00


class UnknownAlgorithmFlag(ValueError):
    """Tag 9F0C names an algorithm this kiosk does not know (``flag`` is the raw value)."""

    def __init__(self, flag: bytes) -> None:
        self.flag = flag
        super().__init__(f"algorithm flag {flag.hex().upper()} is not 01, 02 or 03")


@dataclass(frozen=True)
class KeyReference:
    """One card key as the two sides name it: the PSAM's key usage and index (``80 1A`` P1/P2)
    and the card's key identifier (P2 of ``00 88`` / ``00 82``)."""

    psam_usage: int
    psam_index: int
    card_key_id: int


@dataclass(frozen=True)
class PsamKeyMap:
    """Where the keys of the social security key system sit (see docs/sscard-psam.md)."""

    internal: KeyReference = KeyReference(psam_usage=0x27, psam_index=0x01, card_key_id=0x00)
    read_key: KeyReference = KeyReference(psam_usage=0x2A, psam_index=0x01, card_key_id=0x0A)
    directories: dict[Algorithm, int] = field(
        default_factory=lambda: {
            Algorithm.TDES: 0xDF01,
            Algorithm.SSF33: 0xDF02,
            Algorithm.SM4: 0xDF03,
        }
    )


DEFAULT_KEY_MAP = PsamKeyMap()


def algorithm_of(fci: bytes) -> Algorithm:
    """The card's algorithm from the SSSE SELECT answer: tag 9F0C, bare (``9F0C 01 xx``) or
    wrapped (``9F0C 03 86 01 xx``); 3DES when the flag is absent. UnknownAlgorithmFlag for a
    value we do not know; a malformed FCI counts as absent (the card then has to pass 3DES)."""
    try:
        found = tlv.find(tlv.parse(fci), TAG_ALGORITHM_FLAG)
    except TlvError:
        return Algorithm.TDES
    if found is None:
        return Algorithm.TDES
    value = found.value
    if len(value) == 3 and value[0] == TAG_ALGORITHM_VALUE and value[1] == 1:
        value = value[2:]
    if len(value) != 1 or value[0] not in ALGORITHM_BY_FLAG:
        raise UnknownAlgorithmFlag(found.value)
    return ALGORITHM_BY_FLAG[value[0]]


def algorithm_flag_tlv(algorithm: Algorithm) -> bytes:
    """The wrapped 9F0C object a card of *algorithm* puts in its FCI (for the virtual card)."""
    flag = {v: k for k, v in ALGORITHM_BY_FLAG.items()}[algorithm]
    return tlv.encode(TAG_ALGORITHM_FLAG, tlv.encode(TAG_ALGORITHM_VALUE, bytes([flag])))


# -- card commands ----------------------------------------------------------------------------


def get_challenge(length: int = CHALLENGE_LENGTH) -> bytes:
    """GET CHALLENGE for *length* random bytes (4 or 8 on these cards)."""
    _byte(length, "Le")
    return bytes([0x00, 0x84, 0x00, 0x00, length])


def internal_authenticate(key_id: int, challenge: bytes) -> bytes:
    """INTERNAL AUTHENTICATE: the card encrypts *challenge* under key *key_id* (00: its default
    authentication key). Case 3 form; a T=0 card answers 61xx and the caller fetches the data."""
    return _case3(0x88, key_id, challenge)


def external_authenticate(key_id: int, cryptogram: bytes) -> bytes:
    """EXTERNAL AUTHENTICATE with the terminal's *cryptogram* of the card's last challenge."""
    return _case3(0x82, key_id, cryptogram)


# -- PSAM commands ----------------------------------------------------------------------------


def select_directory(fid: int) -> bytes:
    """SELECT a PSAM directory (MF or an algorithm's key directory) by file identifier."""
    if not 0 <= fid <= 0xFFFF:
        raise ValueError("a file identifier is two bytes")
    return bytes([0x00, 0xA4, 0x00, 0x00, 0x02]) + fid.to_bytes(2, "big")


def read_terminal_number() -> bytes:
    """READ BINARY of the PSAM's terminal-number file (SFI 16), 6 bytes."""
    return bytes([0x00, 0xB0, 0x80 | SFI_TERMINAL_NUMBER, 0x00, TERMINAL_NUMBER_LENGTH])


def deliver_key(key: KeyReference, factors: bytes) -> bytes:
    """通用计算初始化: take the PSAM key (*usage*, *index*) and diversify it by *factors*
    (8 bytes per level, here the card's 卡识别码)."""
    if not factors or len(factors) % 8 or len(factors) > 32:
        raise ValueError("diversification data is one to four 8-byte factors")
    _byte(key.psam_usage, "key usage")
    _byte(key.psam_index, "key index")
    return bytes([0x80, 0x1A, key.psam_usage, key.psam_index, len(factors)]) + factors


def cipher_data(block: bytes) -> bytes:
    """通用计算: encrypt *block* under the key the last DELIVER KEY prepared (P1 00 = encrypt)."""
    if not 0 < len(block) <= 0xF0:
        raise ValueError("cipher data is 1..240 bytes")
    return bytes([0x80, 0xFA, 0x00, 0x00, len(block)]) + block


def _case3(ins: int, p2: int, data: bytes) -> bytes:
    _byte(p2, "P2")
    if not 0 < len(data) <= 0xFF:
        raise ValueError("command data is 1..255 bytes")
    return bytes([0x00, ins, 0x00, p2, len(data)]) + data


def _byte(value: int, what: str) -> None:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what} is one byte")
