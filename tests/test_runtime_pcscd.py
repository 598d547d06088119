"""Demo mode with the real card stack: the runtime's virtual card goes pyscard → pcscd →
vsmartcard vpcd, exactly as on a demo machine with pcscd running.

Skipped (with the reason) when pcscd does not offer the vpcd reader. vpcd has one global port,
so this must not run at the same time as the other pcscd tests (CI runs them one by one).
"""

from __future__ import annotations

import pytest

from kiosk.devices.base import DeviceState
from kiosk.devices.sscard import TRANSPORT_VPCD, VPCD_READER, _pcsc_readers
from kiosk.devices.sscard.events import CardRemoved, SsCardRead
from kiosk.domain.person import person_from_sscard
from kiosk.services.bus import EventBus
from kiosk.services.runtime import RuntimeOptions, build_runtime
from kiosk.services.session import EndReason, SessionEnded, SessionManager
from tests.test_runtime_demo import Recorder, all_ok, demo_config, wait_until

pytestmark = pytest.mark.pcscd


@pytest.fixture
def vpcd_reader():
    readers = _pcsc_readers()
    if not readers or not any(VPCD_READER in name for name in readers):
        pytest.skip(f"pcscd with the vpcd reader {VPCD_READER!r} is not running")


def test_demo_card_through_pcscd_and_vpcd_drives_the_session(data_dir, vpcd_reader):
    bus = EventBus()
    recorder = Recorder(bus)
    session = SessionManager(publish=bus.publish)
    runtime = build_runtime(demo_config(), data_dir, bus, session=session, options=RuntimeOptions())
    runtime.start()
    try:
        wait_until(lambda: all_ok(runtime), what="all devices OK")
        sscard = runtime.devices["sscard"].health()
        assert sscard.state is DeviceState.OK
        assert sscard.transport == TRANSPORT_VPCD
        mark = recorder.mark()
        runtime.demo.insert_sscard("gen3")
        read = recorder.wait_for(SsCardRead, mark)
        session.identify(person_from_sscard(read.card))
        ordinal = session.current.ordinal
        mark = recorder.mark()
        runtime.demo.remove_sscard()
        recorder.wait_for(CardRemoved, mark)
        assert recorder.wait_for(SessionEnded, mark) == SessionEnded(
            ordinal, EndReason.CARD_REMOVED
        )
    finally:
        runtime.stop()
