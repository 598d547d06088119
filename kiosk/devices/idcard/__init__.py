"""Resident ID card reader (SAM module, GA 467 frames over serial), simulator, events.

Pure modules first: :mod:`.errors` (the error tree), :mod:`.codec` (frames, checksum, deframer,
SW3), :mod:`kiosk.domain.nations` (GB 3304), :mod:`.cards` (the decoded card), :mod:`.layout` (text block
decoding), :mod:`.events`; then I/O: :mod:`.driver` (pyserial, polling thread) and
:mod:`.simulator` (a scripted reader on a pty) with :mod:`.demo_cards`.

The composition root calls :func:`open_reader`; ``url = "sim://"`` (demo mode) runs the
simulator, and the demo lays cards with ``runtime.simulator.place("resident")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.config.schema import IdCardSection
from kiosk.devices.base import SIM_URL, DeviceHealth, DeviceState, SimulatedSerialRuntime
from kiosk.devices.idcard.cards import CardKind, IdCard, UnsupportedCard
from kiosk.devices.idcard.driver import IdCardReader, StepTimeouts
from kiosk.devices.idcard.events import (
    IdCardRead,
    IdCardReadFailed,
    IdCardRemoved,
    ReaderFault,
    ReaderRecovered,
)
from kiosk.devices.idcard.simulator import DEMO_DELAYS, IdCardSimulator, SimDelays

__all__ = [
    "SIM_URL",
    "CardKind",
    "IdCard",
    "IdCardRead",
    "IdCardReadFailed",
    "IdCardReader",
    "IdCardRemoved",
    "IdCardRuntime",
    "ReaderFault",
    "ReaderRecovered",
    "StepTimeouts",
    "UnsupportedCard",
    "open_reader",
]


@dataclass
class IdCardRuntime(SimulatedSerialRuntime):
    """What :func:`open_reader` builds: the driver and, in demo mode, its simulator."""

    driver: IdCardReader
    simulator: IdCardSimulator | None = None
    enabled: bool = True

    def start(self) -> None:
        """Start the simulator (if any), then the driver's polling thread (no-op if disabled)."""
        if self.enabled:
            super().start()

    def health(self) -> DeviceHealth:
        if not self.enabled:
            return DeviceHealth(name=self.driver.name, state=DeviceState.DISABLED)
        return self.driver.health()


def open_reader(
    section: IdCardSection,
    publish: Callable[[Any], None],
    *,
    sim_delays: SimDelays = DEMO_DELAYS,
) -> IdCardRuntime:
    """Build (not start) the ID card reader for a config section. No I/O until start()."""
    simulator = IdCardSimulator(delays=sim_delays) if section.url == SIM_URL else None
    driver = IdCardReader(
        "" if simulator else section.url,
        baudrate=section.baudrate,
        read_fingerprint=section.read_fingerprint,
        read_appended_address=section.read_appended_address,
        poll_interval=section.poll_interval,
        publish=publish,
    )
    return IdCardRuntime(driver=driver, simulator=simulator, enabled=section.enabled)
