"""Helpers shared by the social security card tests (imported, never copied)."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

from kiosk.devices.sscard import VPCD_PSAM_READER, VPCD_READER
from kiosk.devices.sscard.auth import PsamAuthenticator
from kiosk.devices.sscard.ports import InProcessPort, PcscPort
from kiosk.devices.sscard.virtual_psam import VirtualPsam

WAIT = 15.0  # generous: pcscd polls vpcd, and the machine is shared


class Recorder:
    """Collects published events; wait_for() blocks until a matching one arrives."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._cond = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def wait_for(self, kind: type, after: int = 0, timeout: float = WAIT, where=None, **fields):
        """The first event after index *after* of *kind* with *fields* (and *where*)."""

        def match():
            for event in self.events[after:]:
                if (
                    isinstance(event, kind)
                    and all(getattr(event, k) == v for k, v in fields.items())
                    and (where is None or where(event))
                ):
                    return event
            return None

        with self._cond:
            found = self._cond.wait_for(match, timeout)
        assert found, f"no {kind.__name__} {fields} within {timeout}s; got {self.events[after:]}"
        return found


def virtual_psam_authenticator(psam: VirtualPsam | None = None, **kwargs) -> PsamAuthenticator:
    """A PSAM authenticator on an in-process reader holding *psam* (a fresh virtual PSAM)."""
    port = InProcessPort(InProcessPort.PSAM_READER_NAME)
    port.insert(psam or VirtualPsam())
    return PsamAuthenticator(port, InProcessPort.PSAM_READER_NAME, **kwargs)


def require_vpcd() -> None:
    """Skip unless pcscd runs with both vpcd slots (card and PSAM); fail instead when the run
    promised pcscd (KIOSK_TEST_PCSCD=1: CI must not hide a broken pcscd as a skip)."""
    problem = None
    if shutil.which("pcscd") is None:
        problem = "pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)"
    else:
        try:
            readers = PcscPort().readers()
        except Exception as exc:  # any failure here means: no usable pcscd
            readers = None
            problem = f"pcscd is not running or not reachable ({exc}); run scripts/test-services.sh"
        for wanted in (VPCD_READER, VPCD_PSAM_READER) if readers is not None else ():
            if not any(wanted in name for name in readers):
                problem = f"pcscd runs but has no {wanted!r} reader (install vsmartcard-vpcd)"
    if problem and os.environ.get("KIOSK_TEST_PCSCD") == "1":
        pytest.fail(f"KIOSK_TEST_PCSCD=1 but {problem}")
    if problem:
        pytest.skip(problem)
