"""Social security card (社会保障卡) reader over PC/SC, with a virtual card for demo and tests.

Modules, pure ones first: :mod:`.errors` (the error tree), :mod:`.tlv` (BER-TLV), :mod:`.apdu`
(commands, 61xx/6Cxx, status words), :mod:`.card` (decoded card, iReadCardBas), :mod:`.reading`
(the read sequence over a transmit hook), :mod:`.auth` (authenticators), :mod:`.events`;
then I/O: :mod:`.ports` (pcscd / in-process), :mod:`.driver` (threads, events, health),
:mod:`.virtual_card` and :mod:`.vpcd` (the scripted card and its vpcd transport).

The composition root calls :func:`open_reader`. ``url = "sim://"`` is demo mode: the virtual
card through a real pcscd + vsmartcard vpcd when pcscd runs and offers the "Virtual PCD" reader,
else through an in-process port behind the same driver (``health().transport`` says which).
``url = "pcsc://"`` uses the real readers of pcscd.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.schema import SsCardSection
from kiosk.devices.base import SIM_URL
from kiosk.devices.sscard.auth import make_authenticator
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.errors import SsCardError
from kiosk.devices.sscard.ports import InProcessPort, PcscPort, ReaderPort
from kiosk.devices.sscard.virtual_card import CardProfile, VirtualCard, demo_profiles
from kiosk.devices.sscard.vpcd import DEFAULT_PORT, VpcdCardSlot

log = logging.getLogger(__name__)

VPCD_READER = "Virtual PCD 00 00"
TRANSPORT_VPCD = "pcscd + vpcd（虚拟社保卡）"
TRANSPORT_IN_PROCESS = "进程内虚拟读卡器（未运行 pcscd）"
TRANSPORT_PCSC = "pcscd"


class VirtualCardControl:
    """Insert and remove demo cards in the virtual reader, whichever transport carries it."""

    def __init__(self, slot: VpcdCardSlot | InProcessPort, transport: str) -> None:
        self._slot = slot
        self.transport = transport
        self.profiles: dict[str, CardProfile] = demo_profiles()

    def insert(self, profile: CardProfile | str = "gen2") -> VirtualCard:
        """Insert a new card (a profile or the key of a demo profile); returns the card."""
        if isinstance(profile, str):
            profile = self.profiles[profile]
        card = VirtualCard(profile)
        self._slot.insert(card)
        return card

    def remove(self) -> None:
        self._slot.remove()

    @property
    def card(self) -> VirtualCard | None:
        return self._slot.card


@dataclass
class SsCardRuntime:
    """What open_reader() builds: the driver, the demo card control (or None) and their threads."""

    driver: SsCardDriver
    virtual_card: VirtualCardControl | None = None
    _vpcd: VpcdCardSlot | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._vpcd is not None:
            self._vpcd.start()
        self.driver.start()

    def stop(self) -> None:
        """Stop the driver, then the vpcd card slot (even if stopping the driver failed)."""
        try:
            self.driver.stop()
        finally:
            if self._vpcd is not None:
                self._vpcd.stop()


def open_reader(
    section: SsCardSection,
    publish: Callable[[Any], None],
    *,
    vpcd_port: int = DEFAULT_PORT,
    pcsc_available: Callable[[], list[str] | None] | None = None,
) -> SsCardRuntime:
    """Build (not start) the reader runtime for *section*; events go to *publish*.

    With ``enabled = false`` the runtime's driver only reports DISABLED. Raises ValueError for an
    unknown url. *pcsc_available* (tests) returns the pcscd reader
    names or None when pcscd is unusable; by default pcscd is asked.
    """
    authenticator = make_authenticator(section.authenticator, section.psam_reader)
    common = {
        "authenticator": authenticator,
        "read_timeout": section.read_timeout,
        "exclude_readers": (section.psam_reader,),
        "enabled": section.enabled,
    }
    if not section.enabled:  # health() says DISABLED; start() does nothing
        return SsCardRuntime(SsCardDriver(InProcessPort(), publish, **common))
    if section.url == "pcsc://":
        driver = SsCardDriver(
            PcscPort(),
            publish,
            reader_filter=section.reader,
            transport_detail=TRANSPORT_PCSC,
            **common,
        )
        return SsCardRuntime(driver)
    if section.url != SIM_URL:
        raise ValueError(f"devices.sscard.url must be 'sim://' or 'pcsc://', not {section.url!r}")
    readers = (pcsc_available or _pcsc_readers)()
    if readers is not None and any(VPCD_READER in name for name in readers):
        slot = VpcdCardSlot(port=vpcd_port)
        driver = SsCardDriver(
            PcscPort(),
            publish,
            reader_filter=section.reader or VPCD_READER,
            transport_detail=TRANSPORT_VPCD,
            **common,
        )
        return SsCardRuntime(driver, VirtualCardControl(slot, TRANSPORT_VPCD), slot)
    port = InProcessPort()
    driver = SsCardDriver(port, publish, transport_detail=TRANSPORT_IN_PROCESS, **common)
    return SsCardRuntime(driver, VirtualCardControl(port, TRANSPORT_IN_PROCESS))


def _pcsc_readers() -> list[str] | None:
    try:
        return PcscPort().readers()
    except (SsCardError, ImportError, OSError) as exc:
        log.info("pcscd not usable, demo card runs in-process", extra={"event": type(exc).__name__})
        return None


__all__ = [
    "ReaderPort",
    "SsCardDriver",
    "SsCardRuntime",
    "VirtualCardControl",
    "open_reader",
]
