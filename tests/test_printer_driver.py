"""The printer driver over real ptys: scripted replies, and the simulator's faults."""

import os
import select
import threading
import time
import tty
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from kiosk.devices.base import DeviceState
from kiosk.devices.printer import commands
from kiosk.devices.printer import driver as printer_driver
from kiosk.devices.printer.driver import EscPosPrinter, PrinterNotReady, PrintNotConfirmed
from kiosk.devices.printer.events import PrinterStatusChanged
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.layout import diagnostic_page_bytes
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.devices.printer.status import UNKNOWN
from kiosk.fonts import find_cjk_font


class ScriptedPrinter:
    """A pty whose far end answers DLE EOT n with scripted bytes (None = stay silent)."""

    def __init__(self, replies, noise=b""):
        self.replies = replies
        self.noise = noise
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            data = os.read(self.master, 1024)
            self.received += data
            for index in range(len(data) - 2):
                if data[index : index + 2] == b"\x10\x04":
                    reply = self.replies.get(data[index + 2])
                    if reply is not None:
                        os.write(self.master, self.noise + bytes((reply,)))

    def close(self):
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def scripted():
    made = []

    def make(replies, noise=b""):
        printer = ScriptedPrinter(replies, noise)
        made.append(printer)
        return printer

    yield make
    for printer in made:
        printer.close()


@pytest.fixture
def simulator(tmp_path):
    sim = PrinterSimulator(tmp_path / "receipts")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def events():
    return []


@pytest.fixture
def driver(simulator, events):
    printer = EscPosPrinter(
        simulator.port, publish=events.append, poll_interval=0, status_timeout=0.5
    )
    printer.open()
    yield printer
    printer.close()


@pytest.fixture(scope="module")
def page():
    glyphs = GlyphRenderer(find_cjk_font())
    return diagnostic_page_bytes(PrinterProfile(), glyphs, datetime(2026, 11, 29, 9, 0))


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ({1: 0x12, 2: 0x12, 4: 0x12}, dict(online=True, paper_end=False, ready=True)),
        ({1: 0x12, 2: 0x12, 4: 0x1E}, dict(paper_near_end=True, ready=True)),
        ({1: 0x1A, 2: 0x32, 4: 0x72}, dict(online=False, paper_end=True, problem="paper_end")),
        ({1: 0x1A, 2: 0x16, 4: 0x12}, dict(cover_open=True, problem="cover_open")),
        ({1: 0x1A, 2: 0x52, 4: 0x12}, dict(error=True, problem="error")),
        ({}, dict(online=None, ready=False, problem="no_reply")),
        ({1: 0x12}, dict(online=True, cover_open=None, ready=False, problem="no_reply")),
    ],
)
def test_status_over_a_pty(scripted, replies, expected):
    far_end = scripted(replies)
    printer = EscPosPrinter(far_end.port, poll_interval=0, status_timeout=0.3)
    try:
        status = printer.status()
    finally:
        printer.close()
    for key, value in expected.items():
        assert getattr(status, key) == value, key
    assert far_end.received.startswith(commands.STATUS_PRINTER)


def test_garbage_before_a_reply_is_skipped(scripted):
    far_end = scripted({1: 0x12, 2: 0x12, 4: 0x12}, noise=b"\xff\x00\x81")
    printer = EscPosPrinter(far_end.port, poll_interval=0, status_timeout=0.5)
    try:
        assert printer.status().ready
        assert printer.counters.snapshot()["garbage_bytes"] >= 3
    finally:
        printer.close()


def test_missing_port_is_unknown_and_print_refused(tmp_path):
    printer = EscPosPrinter(str(tmp_path / "no-such-tty"), poll_interval=0)
    assert printer.status() == UNKNOWN
    with pytest.raises(PrinterNotReady) as caught:
        printer.print_job(b"hello\n")
    assert caught.value.status.problem == "no_reply"
    assert "cannot open" in printer.health().last_error
    assert printer.health().state is DeviceState.OFFLINE


def test_print_is_confirmed_and_saved_as_png(driver, simulator, page, events):
    result = driver.print_job(page)
    assert result.confirmed and result.bytes_sent == len(page)
    assert simulator.wait_for_receipts(1, timeout=30)
    assert simulator.receipts[0].stat().st_size > 1000
    assert commands.TRANSMIT_PAPER_STATUS in bytes(simulator.received)
    assert isinstance(events[0], PrinterStatusChanged) and events[0].status.ready
    assert driver.health().state is DeviceState.OK


def test_slow_printer_still_confirms(driver, simulator, page):
    simulator.set_slow(1.5)  # ~1 s for this page: the driver must wait, not give up
    assert driver.print_job(page).confirmed


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        (lambda sim: sim.set_paper("end"), "paper_end"),
        (lambda sim: sim.set_cover_open(True), "cover_open"),
        (lambda sim: sim.set_offline(True), "no_reply"),
    ],
)
def test_printer_not_ready_sends_nothing(driver, simulator, page, fault, problem):
    fault(simulator)
    with pytest.raises(PrinterNotReady) as caught:
        driver.print_job(page)
    assert caught.value.status.problem == problem
    assert len(simulator.received) < 20  # only status queries went out
    assert driver.health().state in (DeviceState.FAULT, DeviceState.OFFLINE)


def test_paper_out_mid_job_is_not_reported_printed(driver, simulator, page, monkeypatch):
    """GIVEN the paper ends after 3 lines WHEN a page prints THEN the driver says so quickly."""
    # Noticed by polling, not by waiting out the allowance: stretch the allowance far beyond
    # the generous bound below, so only polling can end the job in time (no timing assert).
    monkeypatch.setattr(printer_driver, "PRINT_ALLOWANCE_SECONDS", 3600.0)
    simulator.run_out_of_paper_after(3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(driver.print_job, page)
        with pytest.raises(PrintNotConfirmed) as caught:
            job.result(timeout=120)
    assert caught.value.status.paper_end is True
    assert caught.value.bytes_sent == len(page)
    assert simulator.wait_for_receipts(1, timeout=30)
    assert simulator.receipts[0].name.endswith("-partial.png")
    simulator.set_paper("ok")
    assert driver.print_job(page).confirmed


def test_unplugged_mid_job_is_not_reported_printed(driver, simulator, page):
    simulator.set_slow(20)  # still printing when it goes away
    timer = threading.Timer(0.3, simulator.set_offline, args=(True,))
    timer.start()
    with pytest.raises(PrintNotConfirmed) as caught:
        driver.print_job(page)
    timer.join()
    assert caught.value.status.problem == "no_reply"


def test_a_vanished_usb_printer_is_reported_offline_and_the_monitor_keeps_watching(events):
    """GIVEN a printer whose device node vanishes (USB unplugged: termios calls fail with
    termios.error, not OSError) THEN status() and print_job() report it, nothing else escapes,
    and the status monitor thread stays alive."""
    printer = ScriptedPrinter({1: 0x12, 2: 0x12, 4: 0x12})
    driver = EscPosPrinter(
        printer.port, publish=events.append, poll_interval=0.1, status_timeout=0.3
    )
    driver.open()
    try:
        _wait(lambda: events and events[-1].status.ready)
        printer.close()  # the far end and the device node are gone
        status = driver.status()
        assert not status.ready and status.problem == "no_reply"
        with pytest.raises(PrinterNotReady):
            driver.print_job(b"receipt")
        time.sleep(0.5)  # a few monitor rounds against the dead port
        assert driver._monitor is not None and driver._monitor.is_alive()
        assert driver.health().state is DeviceState.OFFLINE
        assert driver.health().last_error
    finally:
        driver.close()


def test_monitor_thread_publishes_changes(simulator, events):
    printer = EscPosPrinter(
        simulator.port, publish=events.append, poll_interval=0.1, status_timeout=0.5
    )
    printer.open()
    try:
        _wait(lambda: events and events[-1].status.ready)
        simulator.set_paper("end")
        _wait(lambda: events[-1].status.paper_end)
        simulator.set_paper("ok")
        _wait(lambda: events[-1].status.ready)
    finally:
        printer.close()
    problems = [event.status.problem for event in events]
    assert problems == ["", "paper_end", ""]


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_without_confirmation_the_status_after_decides(simulator, page):
    printer = EscPosPrinter(
        simulator.port, poll_interval=0, status_timeout=0.5, confirm_printed=False
    )
    try:
        result = printer.print_job(page)
        assert result.confirmed is False and result.status.ready
        assert commands.TRANSMIT_PAPER_STATUS not in bytes(simulator.received)
        simulator.run_out_of_paper_after(2)
        with pytest.raises(PrintNotConfirmed):
            printer.print_job(page)
    finally:
        printer.close()


def test_open_printer_factory_runs_the_simulator(tmp_path, page):
    from kiosk.config.schema import PrinterSection
    from kiosk.devices.printer import open_printer

    events = []
    runtime = open_printer(
        PrinterSection(url="sim://", paper_width_dots=384),
        events.append,
        tmp_path,
        poll_interval=0.2,
    )
    runtime.start()
    try:
        assert runtime.profile.paper_width_dots == 384
        assert runtime.driver.url == runtime.simulator.port
        assert runtime.driver.print_job(page).confirmed
        assert runtime.simulator.wait_for_receipts(1, timeout=30)
        assert runtime.simulator.receipts[0].parent == tmp_path / "printer-sim"
        _wait(lambda: events)
    finally:
        runtime.stop()
    assert runtime.driver.health().state is DeviceState.OK


def test_simulator_keeps_only_the_last_pngs(tmp_path, page):
    sim = PrinterSimulator(tmp_path / "out", keep_last=2)
    sim.start()
    printer = EscPosPrinter(sim.port, poll_interval=0, status_timeout=0.5)
    try:
        for _ in range(3):
            printer.print_job(page)
        assert sim.wait_for_receipts(3, timeout=30)
    finally:
        printer.close()
        sim.stop()
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_transport_comes_from_a_pyserial_url(simulator, tmp_path):
    """spy:// traces the wire to a file: the same driver, a different URL."""
    trace = tmp_path / "wire.txt"
    printer = EscPosPrinter(
        f"spy://{simulator.port}?file={trace}", poll_interval=0, status_timeout=0.5
    )
    try:
        assert printer.status().ready
    finally:
        printer.close()
    assert "10 04 01" in trace.read_text()
