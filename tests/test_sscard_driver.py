"""The card driver's threads and events over the in-process port (no pcscd needed).

The same driver runs over pcscd + vpcd in test_sscard_pcscd.py; here the port is in memory so
that timing-sensitive stories (a read overtaken by removal, a stuck card, pcscd going away) can
be staged exactly.
"""

from __future__ import annotations

import threading
import time

import pytest
from sscard_support import Recorder, virtual_psam_authenticator

from kiosk.config.schema import SsCardSection
from kiosk.devices.base import DeviceState
from kiosk.devices.sscard import apdu, open_reader
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.errors import ServiceUnavailable
from kiosk.devices.sscard.events import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    ReaderFault,
    ReaderRecovered,
    SsCardRead,
)
from kiosk.devices.sscard.ports import InProcessPort
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles

WAIT = 10.0  # generous: the machine is shared
PROFILES = demo_profiles()


@pytest.fixture
def port():
    return InProcessPort()


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def driver(port, recorder):
    drv = SsCardDriver(
        port,
        recorder,
        authenticator=virtual_psam_authenticator(),
        read_timeout=1.0,
        poll_seconds=0.2,
        retry_seconds=0.1,
    )
    drv.start()
    assert drv.wait_ready(WAIT)
    yield drv
    drv.stop()


def test_insert_read_remove_publishes_in_order(driver, port, recorder):
    port.insert(VirtualCard(PROFILES["gen3"]))
    inserted = recorder.wait_for(CardInserted)
    read = recorder.wait_for(SsCardRead)
    assert read.insertion == inserted.insertion
    assert read.card.generation == 3 and read.card.name == "李欣怡"
    port.remove()
    recorder.wait_for(CardRemoved)
    assert recorder.kinds() == ["CardInserted", "SsCardRead", "CardRemoved"]
    health = driver.health()
    assert health.state is DeviceState.OK
    assert health.counters == {"insertions": 1, "reads_ok": 1, "removals": 1}
    assert "李欣怡" not in repr(recorder.events) and PROFILES["gen3"].ssn not in repr(
        recorder.events
    )


@pytest.mark.parametrize(
    ("key", "code"),
    [("wrong_application", "not_found"), ("garbage", "malformed_tlv"), ("mute", "mute")],
)
def test_faulty_cards_give_card_read_failed(driver, port, recorder, key, code):
    port.insert(VirtualCard(PROFILES[key]))
    failed = recorder.wait_for(CardReadFailed)
    assert failed.code == code and failed.message_zh
    assert not any(isinstance(e, SsCardRead) for e in recorder.events)
    assert driver.health().counters["reads_failed"] == 1


def test_card_pulled_mid_read_fails_and_is_removed(driver, port, recorder):
    port.insert(VirtualCard(PROFILES["pulled_mid_read"]))
    failed = recorder.wait_for(CardReadFailed)
    assert failed.code == "removed"
    recorder.wait_for(CardRemoved)


class GatedCard(VirtualCard):
    """Blocks inside one command until released: a slow card, or a stuck one."""

    def __init__(self, profile, gate_command: bytes) -> None:
        super().__init__(profile)
        self.gate_command = gate_command
        self.reached = threading.Event()
        self.release = threading.Event()

    def process(self, command: bytes):
        if command == self.gate_command:
            self.reached.set()
            self.release.wait(WAIT)
        return super().process(command)


def test_a_read_overtaken_by_removal_is_never_reported_as_read(driver, port, recorder):
    """GIVEN a card whose last answer comes late WHEN it is pulled meanwhile THEN no SsCardRead."""
    card = GatedCard(PROFILES["gen2"], apdu.read_record_by_tag(0x4E, 20))
    port.insert(card)
    assert card.reached.wait(WAIT)
    port.remove()
    recorder.wait_for(CardRemoved)
    card.release.set()
    failed = recorder.wait_for(CardReadFailed)
    assert failed.code == "removed"
    assert not any(isinstance(e, SsCardRead) for e in recorder.events)


def test_a_stuck_card_is_reported_mute_by_the_watchdog(driver, port, recorder):
    card = GatedCard(PROFILES["gen2"], apdu.select_file(0xEF06))
    port.insert(card)
    failed = recorder.wait_for(CardReadFailed)
    assert failed.code == "mute" and "no answer within" in failed.detail
    card.release.set()  # the late answer must not produce a second result
    port.remove()
    recorder.wait_for(CardRemoved)
    time.sleep(0.3)
    results = [e for e in recorder.events if isinstance(e, CardReadFailed | SsCardRead)]
    assert len(results) == 1


class FlakyPort(InProcessPort):
    """An in-process port whose 'service' can be stopped, as pcscd can."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()

    def open(self) -> None:
        if self.down.is_set():
            raise ServiceUnavailable("SCardEstablishContext: service not available")
        super().open()

    def wait_for_change(self, timeout):
        result = super().wait_for_change(min(timeout, 0.1))
        if self.down.is_set():
            raise ServiceUnavailable("SCardGetStatusChange: service stopped")
        return result


def test_service_loss_is_a_fault_then_recovers_and_ends_the_session():
    port, recorder = FlakyPort(), Recorder()
    driver = SsCardDriver(port, recorder, poll_seconds=0.1, retry_seconds=0.1)
    driver.start()
    try:
        port.insert(VirtualCard(PROFILES["gen2"]))
        recorder.wait_for(SsCardRead)
        port.down.set()
        fault = recorder.wait_for(ReaderFault)
        assert fault.code == "pcsc_unavailable" and fault.message_zh
        recorder.wait_for(CardRemoved)  # a card seen before the outage is not trusted after it
        assert driver.health().state is DeviceState.OFFLINE
        port.down.clear()
        recorder.wait_for(ReaderRecovered)
        recorder.wait_for(SsCardRead, after=recorder.events.index(fault))
        assert driver.health().state is DeviceState.OK
        assert driver.health().counters["faults"] == 1
    finally:
        driver.stop()


def test_no_matching_reader_is_a_fault(port, recorder):
    driver = SsCardDriver(port, recorder, reader_filter="ACS ACR39U", poll_seconds=0.1)
    driver.start()
    try:
        port.insert(VirtualCard(PROFILES["gen2"]))
        fault = recorder.wait_for(ReaderFault)
        assert fault.code == "no_reader"
        assert driver.health().state is DeviceState.FAULT
        assert not any(isinstance(e, CardInserted) for e in recorder.events)
    finally:
        driver.stop()


def test_open_reader_falls_back_to_in_process_without_pcscd(recorder):
    runtime = open_reader(SsCardSection(url="sim://"), recorder, pcsc_available=lambda: None)
    assert runtime.virtual_card is not None
    assert "进程内" in runtime.driver.health().transport
    runtime.start()
    try:
        runtime.virtual_card.insert("gen1")
        assert recorder.wait_for(SsCardRead).card.version == "1.00"
        runtime.virtual_card.remove()
        recorder.wait_for(CardRemoved)
    finally:
        runtime.stop()


def test_demo_reader_authenticates_with_the_virtual_psam_and_refuses_a_clone(recorder):
    """GIVEN demo mode without pcscd (the virtual PSAM in a second in-process reader) WHEN a
    genuine 3.0 card, then its clone, then a genuine card with the PSAM pulled are inserted
    THEN the first reads with PSAM evidence, the clone fails card_not_genuine, the last
    fails psam_unavailable; the status line says what the PSAM is doing."""
    section = SsCardSection(url="sim://", authenticator="psam")
    runtime = open_reader(section, recorder, pcsc_available=lambda: None)
    runtime.start()
    try:
        runtime.virtual_card.insert("gen3")
        read = recorder.wait_for(SsCardRead)
        assert read.card.authentication.evidence == "sscard_psam"
        assert (read.card.authentication.algorithm, read.card.authentication.external) == (
            "sm4",
            True,
        )
        assert "PSAM 已就绪（终端机编号 140431000001）" in runtime.driver.health().detail
        for key, code in (("cloned", "card_not_genuine"), ("gen2", "psam_unavailable")):
            if key == "gen2":
                runtime.virtual_psam.remove()
            mark = len(recorder.events)
            runtime.virtual_card.insert(key)
            failed = recorder.wait_for(CardReadFailed, after=mark)
            assert failed.code == code, failed
        assert "PSAM 未连接" in runtime.driver.health().detail
        runtime.virtual_psam.insert()
        mark = len(recorder.events)
        runtime.virtual_card.insert("gen1")
        assert recorder.wait_for(SsCardRead, after=mark).card.authentication.algorithm == "3des"
    finally:
        runtime.stop()


def test_psam_without_a_psam_reader_refuses_every_card(recorder):
    """GIVEN a site (pcsc://) that asks for the PSAM but names no PSAM reader THEN reads fail
    auth_not_configured (fail closed), never unauthenticated."""
    port = InProcessPort()
    driver = SsCardDriver(
        port,
        recorder,
        authenticator=open_reader(
            SsCardSection(url="pcsc://", authenticator="psam"), recorder
        ).driver.authenticator,
        poll_seconds=0.1,
    )
    driver.start()
    try:
        port.insert(VirtualCard(PROFILES["gen2"]))
        assert recorder.wait_for(CardReadFailed).code == "auth_not_configured"
        assert "PSAM 未配置" in driver.health().detail
    finally:
        driver.stop()


def test_open_reader_urls():
    pcsc = open_reader(SsCardSection(url="pcsc://"), print)
    assert pcsc.virtual_card is None and pcsc.driver.health().transport == "pcscd"
    with pytest.raises(ValueError, match="sim:// or 'pcsc://'|'sim://' or 'pcsc://'"):
        open_reader(SsCardSection(url="usb://"), print)


def test_disabled_reader_reports_disabled_and_does_nothing(recorder):
    runtime = open_reader(SsCardSection(enabled=False), recorder)
    runtime.start()
    assert runtime.driver.health().state is DeviceState.DISABLED
    assert runtime.virtual_card is None
    runtime.stop()
    assert recorder.events == []


def test_a_subscriber_may_ask_for_health_from_its_handler(port):
    """GIVEN a handler that calls back into the driver THEN publishing does not deadlock."""
    seen = Recorder()
    holder: dict[str, SsCardDriver] = {}

    def handler(event):
        seen((type(event).__name__, holder["driver"].health().state, holder["driver"].card_present))

    driver = SsCardDriver(port, handler, poll_seconds=0.1)
    holder["driver"] = driver
    driver.start()
    try:
        port.insert(VirtualCard(PROFILES["gen2"]))
        seen.wait_for(tuple, where=lambda e: e[0] == "SsCardRead")
        port.remove()
        seen.wait_for(tuple, where=lambda e: e[0] == "CardRemoved")
    finally:
        driver.stop()
    assert ("CardRemoved", DeviceState.OK, False) in seen.events
