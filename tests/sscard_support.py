"""Helpers shared by the social security card tests (imported, never copied)."""

from __future__ import annotations

from kiosk.devices.sscard.auth import PsamAuthenticator
from kiosk.devices.sscard.ports import InProcessPort
from kiosk.devices.sscard.virtual_psam import VirtualPsam


def virtual_psam_authenticator(psam: VirtualPsam | None = None, **kwargs) -> PsamAuthenticator:
    """A PSAM authenticator on an in-process reader holding *psam* (a fresh virtual PSAM)."""
    port = InProcessPort(InProcessPort.PSAM_READER_NAME)
    port.insert(psam or VirtualPsam())
    return PsamAuthenticator(port, InProcessPort.PSAM_READER_NAME, **kwargs)
