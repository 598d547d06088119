"""The TEST key system shared by the virtual PSAM and the virtual cards (demo mode and tests only).

One master key per (algorithm, key usage), derived from a public label so that anyone can see
they are not secrets. A genuine virtual card holds its keys diversified from these masters by
its 卡识别码 (:func:`card_key`), exactly what the virtual PSAM computes from the master and the
card's factors; a cloned card has the data but not the keys. Never configure these on a site:
a real PSAM holds the province's keys and never gives them out.
"""

from __future__ import annotations

import hashlib

from kiosk.devices.sscard.cardcrypto import Algorithm, card_factors, diversify_levels

INTERNAL = "internal"  # the card's internal-authentication key
READ_KEY = "rkssse"  # RKSSSE, the read key of the SSSE application (3.0 cards)
USAGES = (INTERNAL, READ_KEY)


def master_key(algorithm: Algorithm, usage: str) -> bytes:
    """The TEST master key of *usage* for *algorithm* (16 bytes, public by construction)."""
    if usage not in USAGES:
        raise ValueError(f"unknown key usage {usage!r}")
    label = f"jinjinban kiosk TEST ONLY social security {algorithm.value} {usage} master key"
    return hashlib.sha256(label.encode("ascii")).digest()[:16]


def card_key(algorithm: Algorithm, usage: str, card_id: bytes) -> bytes:
    """The key a genuine card with 卡识别码 *card_id* holds for *usage*."""
    return diversify_levels(algorithm, master_key(algorithm, usage), card_factors(card_id))
