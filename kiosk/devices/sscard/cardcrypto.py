"""Block ciphers and key diversification of the card/PSAM key system, for the simulators; pure.

The kiosk itself never computes a cryptogram: on a real site the PSAM does (docs/sscard-psam.md).
This module is what the virtual PSAM and the virtual card use to hold *the same* keys, derived
the way PBOC-style key systems do (JR/T 0025 "密钥分散"): a card key is the issuer's master key
diversified by the card's identifier, level by level.

- 3DES: 16-byte two-key keys, 8-byte blocks. Diversifying key ``K`` by an 8-byte factor ``D``
  gives ``3DES_K(D) || 3DES_K(D XOR FF…FF)``.
- SM4 (GB/T 32907): 16-byte keys and blocks. Diversifying ``K`` by ``D`` gives
  ``SM4_K(D || (D XOR FF…FF))``.
- SSF33 is named by some cards' algorithm flag; its specification is not public, so it is
  known here only by name and block size (a PSAM computes it; the simulators do not).

Everything is ECB on single blocks: challenge-response authentication never needs a mode.
Raises ValueError for wrong key or data lengths and :class:`UnsupportedAlgorithm` for SSF33.
"""

from __future__ import annotations

import enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class Algorithm(enum.StrEnum):
    """A card's algorithm environment (算法环境), from tag 9F0C of the SSSE SELECT answer."""

    TDES = "3des"
    SSF33 = "ssf33"
    SM4 = "sm4"

    @property
    def block_size(self) -> int:
        return 8 if self is Algorithm.TDES else 16

    @property
    def label(self) -> str:
        return {Algorithm.TDES: "3DES", Algorithm.SSF33: "SSF33", Algorithm.SM4: "SM4"}[self]


class UnsupportedAlgorithm(ValueError):
    """The simulators cannot compute this algorithm (SSF33)."""


KEY_SIZE = 16
FACTOR_SIZE = 8


def encrypt_blocks(algorithm: Algorithm, key: bytes, data: bytes) -> bytes:
    """ECB-encrypt *data* (a whole number of blocks) under the 16-byte *key*."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"a card key is {KEY_SIZE} bytes, not {len(key)}")
    if not data or len(data) % algorithm.block_size:
        raise ValueError(f"{algorithm.label} data must be whole {algorithm.block_size}-byte blocks")
    if algorithm is Algorithm.TDES:
        cipher = TripleDES(key + key[:8])  # K1 K2 K1: two-key 3DES without the deprecated form
    elif algorithm is Algorithm.SM4:
        cipher = algorithms.SM4(key)
    else:
        raise UnsupportedAlgorithm(f"{algorithm.label} is not available in software")
    encryptor = Cipher(cipher, modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def diversify(algorithm: Algorithm, key: bytes, factor: bytes) -> bytes:
    """One level of key diversification (分散) of *key* by the 8-byte *factor*."""
    if len(factor) != FACTOR_SIZE:
        raise ValueError(f"a diversification factor is {FACTOR_SIZE} bytes, not {len(factor)}")
    inverted = bytes(b ^ 0xFF for b in factor)
    if algorithm is Algorithm.TDES:
        return encrypt_blocks(algorithm, key, factor) + encrypt_blocks(algorithm, key, inverted)
    return encrypt_blocks(algorithm, key, factor + inverted)


def diversify_levels(algorithm: Algorithm, key: bytes, factors: bytes) -> bytes:
    """Diversify *key* by each 8-byte factor in *factors* in turn (one level per factor)."""
    if not factors or len(factors) % FACTOR_SIZE:
        raise ValueError("diversification data is one or more 8-byte factors")
    for start in range(0, len(factors), FACTOR_SIZE):
        key = diversify(algorithm, key, factors[start : start + FACTOR_SIZE])
    return key


def card_factors(card_id: bytes) -> bytes:
    """The diversification data of a card: its 16-byte 卡识别码, read as two 8-byte levels.

    The first half (区划代码 + ``D156000005``) is shared by the cards of one issuing region, the
    second half is the card's own serial: region key first, then the card key.
    """
    if len(card_id) != 16:
        raise ValueError(f"a 卡识别码 is 16 bytes, not {len(card_id)}")
    return bytes(card_id)


def pad_to_block(algorithm: Algorithm, challenge: bytes) -> bytes:
    """A card challenge padded with zero bytes to one block (8 random bytes on an SM4 card)."""
    size = algorithm.block_size
    if not 0 < len(challenge) <= size:
        raise ValueError(f"a challenge is 1..{size} bytes for {algorithm.label}")
    return challenge + bytes(size - len(challenge))
