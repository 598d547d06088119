"""Typed events of the ID card reader, published from the driver's polling thread.

``at`` is ``time.monotonic()`` when the driver noticed the fact. No event carries personal data
in its ``repr``: :class:`IdCardRead` holds the card, whose ``repr`` is masked.
A resident lays the ID card on the reader and may lift it right after the read, so
:class:`IdCardRemoved` is information for the UI ("you may take your card"), not a reason to end
the session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kiosk.devices.idcard.cards import IdCard


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class IdCardRead:
    """A card was read and decoded. Check ``card.id_problem`` before trusting the identity."""

    card: IdCard
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class IdCardReadFailed:
    """A card lay on the reader but could not be used.

    *code* is stable (an ``errors.*.code``, or ``"unsupported_card"``); *message_zh* is for the
    screen; *detail* is for logs and never holds personal data.
    """

    code: str
    message_zh: str
    detail: str = ""
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class IdCardRemoved:
    """The card that was read has left the reader."""

    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class ReaderFault:
    """The reader is unusable: port gone (``port``), no answer (``timeout``), SAM broken
    (``sam_fault``). Published once per fault; :class:`ReaderRecovered` follows the fix."""

    code: str
    message_zh: str
    detail: str = ""
    at: float = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class ReaderRecovered:
    """The reader answers again (and its SAM is OK) after a :class:`ReaderFault`."""

    at: float = field(default_factory=_now, compare=False)
