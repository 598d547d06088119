"""The QR scanner driver over a real pty, fed by the simulator."""

import os
import queue
import time

import pytest

from kiosk.config.schema import ScannerSection
from kiosk.devices.base import DeviceState
from kiosk.devices.scanner import QrScanned, QrScanner, ScanRejected, open_scanner
from kiosk.devices.scanner.simulator import ScannerSimulator

ESSC = "1@ZXVz...opaque-e-SSC-payload==|01|20261129T101500"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def events():
    return queue.Queue()


def start(simulator_terminator, events, terminator=None, **kwargs):
    sim = ScannerSimulator(simulator_terminator)
    sim.start()
    driver = QrScanner(
        sim.port, terminator=terminator or simulator_terminator, publish=events.put, **kwargs
    )
    driver.open()
    # pyserial flushes the input when it opens the port: scan only once the driver is connected.
    _wait(lambda: driver.health().state is DeviceState.OK)
    return sim, driver


def next_event(events, timeout=10):
    return events.get(timeout=timeout)


@pytest.mark.parametrize("terminator", ["CR", "LF", "CRLF"])
def test_codes_arrive_unchanged(events, terminator):
    sim, driver = start(terminator, events)
    try:
        sim.scan(ESSC)
        assert next_event(events) == QrScanned(ESSC)
        sim.scan("第二个码")
        assert next_event(events) == QrScanned("第二个码")
    finally:
        driver.close()
        sim.stop()
    assert driver.counters.snapshot()["scans"] == 2


def test_code_split_across_writes(events):
    sim, driver = start("CRLF", events)
    try:
        sim.send_raw(ESSC[:10].encode())
        time.sleep(0.3)
        sim.send_raw(ESSC[10:].encode() + b"\r")
        time.sleep(0.3)
        assert events.empty()
        sim.send_raw(b"\n")
        assert next_event(events) == QrScanned(ESSC)
    finally:
        driver.close()
        sim.stop()


def test_repeated_scans_are_debounced(events):
    clock = Clock()
    sim, driver = start("CR", events, debounce_seconds=2.0, clock=clock)
    try:
        sim.scan("CODE-A")
        assert next_event(events) == QrScanned("CODE-A")
        clock.now += 0.5
        sim.scan("CODE-A")  # still under the scanner: ignored
        sim.scan("CODE-B")  # a different code passes at once
        assert next_event(events) == QrScanned("CODE-B")
        clock.now += 3
        sim.scan("CODE-A")
        assert next_event(events) == QrScanned("CODE-A")
    finally:
        driver.close()
        sim.stop()
    assert driver.counters.snapshot()["debounced"] == 1


def test_overlong_and_undecodable_input_is_rejected_then_recovers(events):
    sim, driver = start("CR", events, max_length=32)
    try:
        sim.send_raw(b"X" * 5000 + b"\r")
        event = next_event(events)
        assert isinstance(event, ScanRejected) and event.reason == "too_long"
        assert event.length == 5000
        sim.send_raw(b"\xff\xfe\xfd\r")
        assert next_event(events) == ScanRejected("not_utf8", 3)
        sim.scan("OK-1")
        assert next_event(events) == QrScanned("OK-1")
    finally:
        driver.close()
        sim.stop()


def test_reopens_after_unplug(tmp_path, events):
    """GIVEN a udev-style symlink to the scanner WHEN it is unplugged and comes back on another
    tty THEN the driver reconnects by itself."""
    link = tmp_path / "qr-scanner"
    first = ScannerSimulator("CR")
    first.start()
    os.symlink(first.port, link)
    driver = QrScanner(str(link), publish=events.put)
    driver.open()
    _wait(lambda: driver.health().state is DeviceState.OK)
    second = ScannerSimulator("CR")
    try:
        first.scan("BEFORE")
        assert next_event(events) == QrScanned("BEFORE")
        first.stop()
        link.unlink()
        _wait(lambda: driver.health().state is DeviceState.OFFLINE)
        second.start()
        os.symlink(second.port, link)
        _wait(lambda: driver.health().state is DeviceState.OK)
        second.scan("AFTER")
        assert next_event(events) == QrScanned("AFTER")
    finally:
        driver.close()
        second.stop()
    assert driver.counters.snapshot()["opens"] == 2


def test_a_bug_while_publishing_a_scan_does_not_end_scanning(events, caplog):
    """GIVEN a subscriber chain that fails on the first scan THEN the failure is recorded
    (without the code) and the next scan still arrives."""
    failed = []

    def publish(event):
        if isinstance(event, QrScanned) and not failed:
            failed.append(event)
            raise RuntimeError(f"handler bug with {event.code}")
        events.put(event)

    sim = ScannerSimulator("CR")
    sim.start()
    driver = QrScanner(sim.port, terminator="CR", publish=publish)
    driver.open()
    try:
        _wait(lambda: driver.health().state is DeviceState.OK)
        sim.scan(ESSC)
        _wait(lambda: failed)
        sim.scan("AFTER")
        assert next_event(events) == QrScanned("AFTER")
        assert "internal error (RuntimeError)" in driver.health().last_error
    finally:
        driver.close()
        sim.stop()
    assert "RuntimeError" in caplog.text and ESSC not in caplog.text


def test_open_scanner_factory_runs_the_simulator(events):
    runtime = open_scanner(ScannerSection(url="sim://", terminator="LF"), events.put)
    runtime.start()
    try:
        _wait(lambda: runtime.driver.health().state is DeviceState.OK)
        runtime.simulator.scan("FACTORY")
        assert next_event(events) == QrScanned("FACTORY")
    finally:
        runtime.stop()


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")
