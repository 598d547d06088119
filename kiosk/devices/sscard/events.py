"""Typed events of the social security card reader (frozen; published from the driver's threads).

``at`` is ``time.monotonic()`` when the driver noticed the fact (for latency measurements).
``insertion`` numbers the card insertions of one driver: a result (SsCardRead/CardReadFailed)
belongs to the CardInserted with the same number, so a consumer can drop stale results.
None of them carries personal data in its ``repr``: :class:`SsCardRead` holds the card, whose
``repr`` is masked. The session manager ends the resident's session on :class:`CardRemoved`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kiosk.devices.sscard.card import SsCardData


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class CardInserted:
    """A card arrived in *reader*; reading starts now (SsCardRead or CardReadFailed follows)."""

    reader: str
    atr: bytes = field(repr=False)
    insertion: int = 0  # the driver's insertion number, to match results to cards
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class CardRemoved:
    """The card left *reader*: end the resident's session and wipe what was read."""

    reader: str
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class SsCardRead:
    """The card in *reader* was read and decoded (``card.generation``, ``card.is_expired``)."""

    reader: str
    card: SsCardData
    insertion: int = 0  # the driver's insertion number, to match results to cards
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class CardReadFailed:
    """Reading the inserted card failed: *code* is stable (``errors.*.code``), *message_zh*
    is for the screen, *detail* for logs and diagnostics (never personal data)."""

    reader: str
    code: str
    message_zh: str
    detail: str = ""
    insertion: int = 0  # the driver's insertion number, to match results to cards
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class ReaderFault:
    """The reader or pcscd is unusable (no reader, pcscd stopped, reader unplugged)."""

    reader: str
    code: str
    message_zh: str
    detail: str = ""
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class ReaderRecovered:
    """A reader is usable again after a ReaderFault."""

    reader: str
    at: float = field(default_factory=_now, compare=False)
