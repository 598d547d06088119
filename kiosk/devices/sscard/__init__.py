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

Card authentication (``authenticator = "psam"``, :mod:`.auth`, docs/sscard-psam.md): on a site
the PSAM sits in the reader named by ``psam_reader``; in demo mode a virtual PSAM
(:mod:`.virtual_psam`) sits in vpcd's second slot ("Virtual PCD 00 01", port 35964) or, without
pcscd, in a second in-process reader, and holds the same TEST keys as the virtual cards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.schema import SsCardSection
from kiosk.devices.base import SIM_URL
from kiosk.devices.sscard.auth import Authenticator, PsamAuthenticator, make_authenticator
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.errors import SsCardError
from kiosk.devices.sscard.ports import InProcessPort, PcscPort, ReaderPort
from kiosk.devices.sscard.virtual_card import CardProfile, VirtualCard, demo_profiles
from kiosk.devices.sscard.virtual_psam import VirtualPsam
from kiosk.devices.sscard.vpcd import DEFAULT_PORT, VpcdCardSlot

log = logging.getLogger(__name__)

VPCD_READER = "Virtual PCD 00 00"
VPCD_PSAM_READER = "Virtual PCD 00 01"
PSAM_VPCD_PORT = DEFAULT_PORT + 1
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


class VirtualPsamControl:
    """The demo's virtual PSAM in its slot: take it out or put (another) one in (tests)."""

    def __init__(self, slot: VpcdCardSlot | InProcessPort) -> None:
        self._slot = slot

    def insert(self, chip: VirtualPsam | None = None) -> VirtualPsam:
        chip = chip or VirtualPsam()
        self._slot.insert(chip)
        return chip

    def remove(self) -> None:
        self._slot.remove()

    @property
    def psam(self) -> VirtualPsam | None:
        chip = self._slot.card
        return chip if isinstance(chip, VirtualPsam) else None


@dataclass
class SsCardRuntime:
    """What open_reader() builds: the driver, the demo card and PSAM controls (or None) and
    their threads."""

    driver: SsCardDriver
    virtual_card: VirtualCardControl | None = None
    _vpcd: VpcdCardSlot | None = field(default=None, repr=False)
    virtual_psam: VirtualPsamControl | None = None
    _psam_vpcd: VpcdCardSlot | None = field(default=None, repr=False)

    def start(self) -> None:
        for slot in (self._vpcd, self._psam_vpcd):
            if slot is not None:
                slot.start()
        if self.virtual_psam is not None:
            self.virtual_psam.insert()
        self.driver.start()

    def stop(self) -> None:
        """Stop the driver, then the vpcd slots (even if stopping the driver failed)."""
        try:
            self.driver.stop()
        finally:
            for slot in (self._vpcd, self._psam_vpcd):
                if slot is not None:
                    slot.stop()


def open_reader(
    section: SsCardSection,
    publish: Callable[[Any], None],
    *,
    vpcd_port: int = DEFAULT_PORT,
    psam_vpcd_port: int | None = None,
    pcsc_available: Callable[[], list[str] | None] | None = None,
) -> SsCardRuntime:
    """Build (not start) the reader runtime for *section*; events go to *publish*.

    With ``enabled = false`` the runtime's driver only reports DISABLED. Raises ValueError for an
    unknown url. *pcsc_available* (tests) returns the pcscd reader
    names or None when pcscd is unusable; by default pcscd is asked. In demo mode with
    ``authenticator = "psam"`` the virtual PSAM goes into vpcd's second slot (*psam_vpcd_port*,
    by default the port after *vpcd_port*, as vpcd numbers its slots).
    """
    psam_wanted = section.authenticator == "psam"
    common = {
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
            authenticator=make_authenticator(
                section.authenticator, section.psam_reader, PcscPort() if psam_wanted else None
            ),
            **common,
        )
        return SsCardRuntime(driver)
    if section.url != SIM_URL:
        raise ValueError(f"devices.sscard.url must be 'sim://' or 'pcsc://', not {section.url!r}")
    readers = (pcsc_available or _pcsc_readers)()
    if readers is not None and any(VPCD_READER in name for name in readers):
        slot = VpcdCardSlot(port=vpcd_port)
        psam_port = psam_vpcd_port or vpcd_port + 1
        psam_slot = VpcdCardSlot(port=psam_port) if psam_wanted else None
        authenticator: Authenticator = make_authenticator(section.authenticator)
        if psam_wanted:
            authenticator = PsamAuthenticator(PcscPort(), section.psam_reader or VPCD_PSAM_READER)
        driver = SsCardDriver(
            PcscPort(),
            publish,
            reader_filter=section.reader or VPCD_READER,
            transport_detail=TRANSPORT_VPCD,
            authenticator=authenticator,
            **{**common, "exclude_readers": (VPCD_PSAM_READER,)},
        )
        return SsCardRuntime(
            driver,
            VirtualCardControl(slot, TRANSPORT_VPCD),
            slot,
            VirtualPsamControl(psam_slot) if psam_slot else None,
            psam_slot,
        )
    port = InProcessPort()
    psam_port = InProcessPort(InProcessPort.PSAM_READER_NAME)
    authenticator = make_authenticator(section.authenticator)
    if psam_wanted:
        authenticator = PsamAuthenticator(psam_port, InProcessPort.PSAM_READER_NAME)
    driver = SsCardDriver(
        port,
        publish,
        transport_detail=TRANSPORT_IN_PROCESS,
        authenticator=authenticator,
        **common,
    )
    return SsCardRuntime(
        driver,
        VirtualCardControl(port, TRANSPORT_IN_PROCESS),
        virtual_psam=VirtualPsamControl(psam_port) if psam_wanted else None,
    )


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
    "VirtualPsamControl",
    "open_reader",
]
