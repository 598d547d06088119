"""The polling thread: events for cards, removal, faults, unplug/replug; health; the factory."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import date

import pytest

from kiosk.config.schema import IdCardSection
from kiosk.devices.base import DeviceState
from kiosk.devices.idcard import (
    IdCardRead,
    IdCardReader,
    IdCardReadFailed,
    IdCardRemoved,
    ReaderFault,
    ReaderRecovered,
    StepTimeouts,
    open_reader,
)
from kiosk.devices.idcard.codec import Command
from kiosk.devices.idcard.simulator import Fault, FaultKind, IdCardSimulator, SimDelays
from kiosk.services.bus import EventBus

WAIT = 20.0  # generous upper bound for one event on a shared machine


class Events:
    """Collects published events from the driver thread; get() waits for the next one."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self.threads: set[str] = set()

    def publish(self, event: object) -> None:
        self.threads.add(threading.current_thread().name)
        self._queue.put(event)

    def get(self, kind: type | tuple[type, ...], timeout: float = WAIT):
        """The next event of *kind*; fails on any other event type in between."""
        event = self._queue.get(timeout=timeout)
        assert isinstance(event, kind), f"expected {kind}, got {event!r}"
        return event

    def empty_for(self, seconds: float) -> bool:
        try:
            event = self._queue.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event {event!r}")


@pytest.fixture
def simulator() -> Iterator[IdCardSimulator]:
    with IdCardSimulator() as sim:
        yield sim


def _reader(url: str, events: Events, **kwargs) -> IdCardReader:
    return IdCardReader(
        url,
        publish=events.publish,
        poll_interval=0.05,
        timeouts=StepTimeouts(sam=0.5, card=0.5, read=3.5),
        today=lambda: date(2026, 11, 29),
        **kwargs,
    )


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def polling(simulator: IdCardSimulator, events: Events) -> Iterator[IdCardReader]:
    driver = _reader(simulator.url, events)
    driver.start()
    yield driver
    driver.stop()


def test_card_laid_lifted_and_laid_again(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    """GIVEN a polling reader WHEN a resident lays, lifts and lays the card again
    THEN IdCardRead, IdCardRemoved, IdCardRead are published from the driver thread."""
    simulator.place("appended")
    first = events.get(IdCardRead)
    assert first.card.current_address == "山西省沁源县王和镇王和村58号"
    assert events.empty_for(0.3)  # a card left on the reader is read once, not again
    simulator.lift()
    events.get(IdCardRemoved)
    simulator.place("resident")
    assert events.get(IdCardRead).card.name == "王建军"
    assert events.threads == {"idcard-poll"}
    assert polling.counters.snapshot()["reads"] == 2
    health = polling.health()
    assert health.state is DeviceState.OK and "05.01-" in health.detail


def test_failed_read_is_published_and_the_next_try_succeeds(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    simulator.add_fault(Fault(FaultKind.LIFT_CARD, Command.READ_BASE))
    simulator.place("resident")
    failed = events.get(IdCardReadFailed)
    assert failed.code == "card_read_failed" and "重新放置" in failed.message_zh
    simulator.place("resident")
    assert events.get(IdCardRead).card.name == "王建军"


def test_a_card_that_keeps_failing_is_reported_once(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    simulator.add_fault(Fault(FaultKind.STATUS, Command.READ_BASE, sw3=0x40, times=1000))
    simulator.place("resident")
    assert events.get(IdCardReadFailed).code == "not_an_id_card"
    assert events.empty_for(2.5)  # retried every second, not republished
    assert polling.counters.snapshot()["read_failures"] >= 2


def test_unsupported_card_is_a_read_failure_event(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    simulator.place("unknown")
    failed = events.get(IdCardReadFailed)
    assert failed.code == "unsupported_card" and "59" in failed.detail


@pytest.mark.parametrize(("sw3", "code"), [(0x31, "card_auth_failed"), (0x40, "not_an_id_card")])
def test_card_side_sw3_errors_become_read_failures(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events, sw3: int, code: str
) -> None:
    simulator.add_fault(Fault(FaultKind.STATUS, Command.READ_BASE, sw3=sw3))
    simulator.place("resident")
    assert events.get(IdCardReadFailed).code == code
    assert polling.health().state is DeviceState.OK


def test_unplug_and_replug_fault_then_recover(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    """GIVEN a working reader WHEN its cable is pulled THEN one ReaderFault; WHEN plugged back
    THEN ReaderRecovered and cards are read again."""
    simulator.place("resident")
    events.get(IdCardRead)
    simulator.unplug()
    fault = events.get(ReaderFault)
    assert fault.code in ("port", "timeout")
    assert polling.health().state is DeviceState.OFFLINE
    assert events.empty_for(0.5)  # one fault, not one per retry
    simulator.replug()
    events.get(ReaderRecovered)
    simulator.place("long_term")
    assert events.get(IdCardRead).card.long_term
    snapshot = polling.counters.snapshot()
    assert snapshot["opens"] >= 2 and snapshot["recoveries"] == 1


def test_missing_port_at_start_faults_then_recovers_when_it_appears(events: Events) -> None:
    simulator = IdCardSimulator()
    url = simulator.start()
    simulator.unplug()
    driver = _reader(url, events)
    driver.start()
    try:
        assert events.get(ReaderFault).code == "port"
        simulator.replug()
        events.get(ReaderRecovered)
        simulator.place("resident")
        events.get(IdCardRead)
    finally:
        driver.stop()
        simulator.stop()


def test_reader_that_stops_answering_faults_and_recovers(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    """GIVEN a reader that goes mute (port still there) THEN ReaderFault("timeout");
    WHEN it answers again THEN ReaderRecovered."""
    mute = Fault(FaultKind.NO_ANSWER, None, times=1_000_000)
    simulator.add_fault(mute)
    fault = events.get(ReaderFault)
    assert fault.code == "timeout" and polling.health().state is DeviceState.OFFLINE
    mute.times = 1  # the next answer goes missing too, then the reader is back
    events.get(ReaderRecovered)
    simulator.place("resident")
    events.get(IdCardRead)


def test_sam_fault_is_a_fault_state_and_recovers(simulator: IdCardSimulator, events: Events):
    simulator.set_sam_fault(0x60)
    driver = _reader(simulator.url, events)
    driver.start()
    try:
        fault = events.get(ReaderFault)
        assert fault.code == "sam_fault" and "安全模块" in fault.message_zh
        assert driver.health().state is DeviceState.FAULT
        assert simulator.received[:3] == [Command.SAM_STATUS, Command.RESET_SAM, Command.SAM_STATUS]
        simulator.set_sam_fault(None)
        events.get(ReaderRecovered)
        assert driver.health().state is DeviceState.OK
    finally:
        driver.stop()


def test_reader_without_presence_probe_reports_removal_on_the_next_card(events: Events):
    with IdCardSimulator(supports_probe=False) as simulator:
        driver = _reader(simulator.url, events)
        driver.start()
        try:
            simulator.place("resident")
            events.get(IdCardRead)
            simulator.lift()
            simulator.place("long_term")
            events.get(IdCardRemoved)
            assert events.get(IdCardRead).card.long_term
        finally:
            driver.stop()


def test_noise_between_polls_does_not_fault_the_reader(
    polling: IdCardReader, simulator: IdCardSimulator, events: Events
) -> None:
    simulator.add_fault(Fault(FaultKind.CORRUPT_CHECKSUM, Command.FIND_CARD, times=2))
    simulator.add_fault(Fault(FaultKind.GARBAGE_BEFORE, Command.FIND_CARD, times=2))
    simulator.send_raw(b"\x00\x13garbage\xaa\xaa\xaa")
    simulator.place("resident")
    events.get(IdCardRead)
    assert polling.health().state is DeviceState.OK


def test_no_personal_data_in_logs_events_or_health(
    simulator: IdCardSimulator, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver = _reader(simulator.url, events)
    driver.start()
    try:
        simulator.add_fault(Fault(FaultKind.LIFT_CARD, Command.READ_BASE))
        simulator.place("resident")
        events.get(IdCardReadFailed)
        simulator.place("resident")
        read = events.get(IdCardRead)
        simulator.unplug()
        events.get(ReaderFault)
        text = caplog.text + repr(read) + repr(driver.health())
    finally:
        driver.stop()
    assert read.card.name not in text and read.card.id_number not in text
    assert "东关村" not in text


def test_open_reader_demo_mode_through_the_event_bus() -> None:
    bus = EventBus()
    received: queue.Queue = queue.Queue()
    bus.subscribe(IdCardRead, received.put)
    section = IdCardSection(url="sim://", poll_interval=0.05)
    runtime = open_reader(section, bus.publish, sim_delays=SimDelays())
    assert runtime.simulator is not None
    runtime.start()
    try:
        runtime.simulator.place("hk_mo_tw")
        event = received.get(timeout=WAIT)
        assert event.card.pass_number == "H60123456"
        assert runtime.driver.health().transport == runtime.simulator.url
    finally:
        runtime.stop()
    assert runtime.driver.health().state in (DeviceState.OK, DeviceState.OFFLINE)


def test_open_reader_real_url_has_no_simulator() -> None:
    runtime = open_reader(IdCardSection(url="/dev/ttyUSB9"), lambda event: None)
    assert runtime.simulator is None and runtime.driver.url == "/dev/ttyUSB9"
    assert runtime.driver.health().state is DeviceState.UNKNOWN


def test_disabled_reader_does_not_start() -> None:
    runtime = open_reader(IdCardSection(enabled=False), lambda event: None)
    runtime.start()
    assert runtime.health().state is DeviceState.DISABLED
    assert not any(t.name == "idcard-poll" for t in threading.enumerate())
    runtime.stop()


def test_stop_ends_the_thread(simulator: IdCardSimulator, events: Events) -> None:
    driver = _reader(simulator.url, events)
    driver.start()
    driver.stop()
    assert not any(t.name == "idcard-poll" for t in threading.enumerate())
    assert not driver.connected


def test_a_bug_while_publishing_does_not_end_polling(
    simulator: IdCardSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a subscriber chain that fails on the first card read WHEN a card is laid THEN the
    polling thread reports a fault (not the card's data), recovers, and reads the next card."""
    events = Events()
    failed = []

    def publish(event: object) -> None:
        if isinstance(event, IdCardRead) and not failed:
            failed.append(event)
            raise RuntimeError(f"handler bug with {event.card.name}")
        events.publish(event)

    driver = IdCardReader(
        simulator.url,
        publish=publish,
        poll_interval=0.05,
        timeouts=StepTimeouts(sam=0.5, card=0.5, read=3.5),
        today=lambda: date(2026, 11, 29),
    )
    driver.start()
    try:
        simulator.place("resident")
        with caplog.at_level(logging.ERROR):
            fault = events.get(ReaderFault)
        assert fault.code == "idcard_error"
        events.get(ReaderRecovered)
        simulator.lift()  # the reader finds a card once per presentation
        simulator.place("long_term")
        assert events.get(IdCardRead).card.name == "李秀兰"
        assert driver._thread is not None and driver._thread.is_alive()
    finally:
        driver.stop()
    assert "RuntimeError" in caplog.text and "王建军" not in caplog.text
