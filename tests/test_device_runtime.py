"""The serial device runtimes (ID card, printer, scanner): a failed driver never strands the
simulator's pty, and every factory wires the driver to its simulator the same way."""

from __future__ import annotations

import os

import pytest

from kiosk.config.schema import IdCardSection, PrinterSection, ScannerSection
from kiosk.devices.base import SIM_URL, DeviceState
from kiosk.devices.idcard import open_reader
from kiosk.devices.printer import open_printer
from kiosk.devices.scanner import open_scanner


def _pty_is_open(runtime) -> bool:
    """The simulator's end is open and the driver's url names a live terminal."""
    try:
        os.fstat(runtime.simulator._master)
        fd = os.open(runtime.driver.url, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


@pytest.fixture(params=["idcard", "printer", "scanner"])
def runtime(request, tmp_path):
    publish = lambda event: None  # noqa: E731 - events are not under test here
    if request.param == "idcard":
        made = open_reader(IdCardSection(url=SIM_URL, poll_interval=0.05), publish)
    elif request.param == "printer":
        made = open_printer(PrinterSection(url=SIM_URL), publish, tmp_path, poll_interval=0)
    else:
        made = open_scanner(ScannerSection(url=SIM_URL), publish)
    yield made
    if made.simulator is not None and made.simulator._master >= 0:
        made.stop()


def test_start_points_the_driver_at_the_simulator_and_stop_closes_both(runtime):
    runtime.start()
    assert runtime.driver.url  # the factory built it with no url; start() pointed it at the pty
    assert _pty_is_open(runtime)
    runtime.stop()
    assert runtime.simulator._master == -1  # the pty pair is closed
    assert runtime.driver.health().state is not DeviceState.DISABLED


def test_a_driver_that_fails_to_open_does_not_strand_the_simulator(runtime, monkeypatch):
    def refuse() -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(runtime.driver, "open", refuse)
    with pytest.raises(RuntimeError):
        runtime.start()
    assert runtime.simulator._master == -1


def test_a_driver_that_fails_to_close_still_stops_the_simulator(runtime, monkeypatch):
    runtime.start()
    real_close = runtime.driver.close

    def fail_after_closing() -> None:
        real_close()
        raise OSError("port vanished")

    monkeypatch.setattr(runtime.driver, "close", fail_after_closing)
    with pytest.raises(OSError):
        runtime.stop()
    assert runtime.simulator._master == -1
