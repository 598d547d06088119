"""The fault reporter on the kiosk: real printer simulator events (over its pty) become exactly
one outbox ticket per fault, closed when the printer recovers; restarts, flapping, read-failure
streaks, long platform outages and a failing disk."""

from __future__ import annotations

import json

import pytest

from kiosk.devices.idcard.events import IdCardRead, IdCardReadFailed, ReaderFault, ReaderRecovered
from kiosk.devices.printer.driver import EscPosPrinter
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.domain.fault_tracker import CloseTicket, OpenTicket
from kiosk.services.backend_runtime import BackendReachabilityChanged
from kiosk.services.bus import EventBus
from kiosk.services.fault_reporter import (
    PATH_LEDGER_CLOSE,
    PATH_LEDGER_TICKETS,
    STATE_FILE_NAME,
    FaultReporter,
    FaultTicketClosed,
    FaultTicketOpened,
)
from kiosk.services.outbox import Outbox
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store


def _never_delivered(path, payload, key):  # the worker is not started in these tests
    raise AssertionError("not expected to deliver")


@pytest.fixture
def outbox(data_dir):
    store = open_store(data_dir)
    yield Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), _never_delivered)
    store.close()


@pytest.fixture
def bus():
    return EventBus()


@pytest.fixture
def simulator(tmp_path):
    sim = PrinterSimulator(tmp_path / "receipts")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def printer(simulator, bus):
    driver = EscPosPrinter(simulator.port, publish=bus.publish, poll_interval=0, status_timeout=1.0)
    driver.open()
    yield driver
    driver.close()


def reporter_for(outbox, bus, data_dir, **kwargs):
    published = kwargs.pop("events", None)
    kwargs.setdefault("consecutive_failures", 3)
    return FaultReporter(
        outbox,
        bus.subscribe,
        data_dir / STATE_FILE_NAME,
        publish=published.append if published is not None else None,
        **kwargs,
    )


def fault_entries(outbox):
    """(path, payload) of every fault submission, oldest first."""
    rows = [e for e in reversed(outbox.entries(limit=1000)) if e.kind == "fault"]
    return [(e.path, outbox.payload(e.local_ref)) for e in rows]


def test_paper_out_opens_one_ticket_after_three_checks_and_closes_when_paper_is_back(
    outbox, bus, data_dir, simulator, printer
):
    """GIVEN the simulator runs out of paper WHEN the reporter checks repeatedly THEN exactly one
    ticket is saved after the third check, none after, and one close when paper is loaded."""
    published = []
    reporter = reporter_for(outbox, bus, data_dir, events=published)
    assert printer.status().ready
    assert reporter.check(now=0.0) == []
    simulator.set_paper("end")
    assert printer.status().paper_end is True
    assert reporter.check(now=1.0) == []
    assert reporter.check(now=2.0) == []
    decisions = reporter.check(now=3.0)
    assert [type(d) for d in decisions] == [OpenTicket]
    for t in range(4, 40):
        printer.status()  # the printer keeps saying "paper end"
        assert reporter.check(now=float(t)) == []
    entries = fault_entries(outbox)
    assert len(entries) == 1
    path, payload = entries[0]
    assert path == PATH_LEDGER_TICKETS
    assert payload["fault_key"] == "printer.paper_end"
    assert payload["kind"] == "device_fault" and payload["category"] == "device"
    assert payload["description"] == "paper_end"
    client_ref = payload["client_ref"]
    assert reporter.open_faults() == {"printer.paper_end": client_ref}
    saved = json.loads((data_dir / STATE_FILE_NAME).read_text())
    assert saved["open"] == {"printer.paper_end": client_ref}

    simulator.set_paper("ok")
    assert printer.status().ready
    assert [type(d) for d in reporter.check(now=41.0)] == [CloseTicket]
    assert reporter.check(now=42.0) == []
    entries = fault_entries(outbox)
    assert len(entries) == 2
    assert entries[1][0] == PATH_LEDGER_CLOSE
    assert entries[1][1]["client_ref"] == client_ref
    assert reporter.open_faults() == {}
    assert json.loads((data_dir / STATE_FILE_NAME).read_text())["open"] == {}
    assert [type(e) for e in published] == [FaultTicketOpened, FaultTicketClosed]
    assert published[0].label == "打印机缺纸"
    reporter.stop()


def test_a_cover_opened_to_change_paper_raises_nothing(outbox, bus, data_dir, simulator, printer):
    """GIVEN the cover is opened and closed again within the grace period THEN no ticket."""
    reporter = reporter_for(outbox, bus, data_dir)
    printer.status()
    for cycle in range(5):
        simulator.set_cover_open(True)
        printer.status()
        for t in range(4):
            assert reporter.check(now=cycle * 100 + t * 20.0) == []
        simulator.set_cover_open(False)
        printer.status()
        assert reporter.check(now=cycle * 100 + 90.0) == []
    assert fault_entries(outbox) == []
    # Left open past the grace period: one ticket.
    simulator.set_cover_open(True)
    printer.status()
    opened = [d for t in range(0, 200, 10) for d in reporter.check(now=1000.0 + t)]
    assert [d.fault_key for d in opened] == ["printer.cover_open"]
    reporter.stop()


def test_an_unplugged_printer_is_one_offline_ticket_and_keeps_paper_ticket_open(
    outbox, bus, data_dir, simulator, printer
):
    """GIVEN paper end then the printer switched off THEN the paper ticket is not closed by the
    unknown answer, and one offline ticket opens; switching on with paper closes both."""
    reporter = reporter_for(outbox, bus, data_dir, consecutive_failures=1)
    simulator.set_paper("end")
    printer.status()
    assert [d.fault_key for d in reporter.check(now=0.0)] == ["printer.paper_end"]
    simulator.set_offline(True)
    assert printer.status().known is False
    assert [d.fault_key for d in reporter.check(now=1.0)] == ["printer.offline"]
    assert reporter.check(now=2.0) == []
    simulator.set_offline(False)
    simulator.set_paper("ok")
    assert printer.status().ready
    closed = reporter.check(now=3.0)
    assert sorted(d.fault_key for d in closed) == ["printer.offline", "printer.paper_end"]
    assert all(isinstance(d, CloseTicket) for d in closed)
    reporter.stop()


def test_a_restart_while_the_fault_lasts_opens_no_second_ticket(
    outbox, bus, data_dir, simulator, printer
):
    first = reporter_for(outbox, bus, data_dir, consecutive_failures=1)
    simulator.set_paper("end")
    printer.status()
    first.check(now=0.0)
    first.stop()
    ref = fault_entries(outbox)[0][1]["client_ref"]

    again = EventBus()
    restarted = reporter_for(outbox, again, data_dir, consecutive_failures=1)
    assert restarted.open_faults() == {"printer.paper_end": ref}
    driver = EscPosPrinter(simulator.port, publish=again.publish, poll_interval=0)
    driver.open()
    try:
        driver.status()
        assert restarted.check(now=10.0) == []
        simulator.set_paper("ok")
        driver.status()
        assert [type(d) for d in restarted.check(now=11.0)] == [CloseTicket]
    finally:
        driver.close()
        restarted.stop()
    entries = fault_entries(outbox)
    assert [p for p, _ in entries] == [PATH_LEDGER_TICKETS, PATH_LEDGER_CLOSE]
    assert entries[1][1]["client_ref"] == ref


def test_read_failures_count_only_reader_problems_and_a_good_read_resets(outbox, bus, data_dir):
    reporter = reporter_for(outbox, bus, data_dir, read_failures=5)
    for _ in range(20):  # residents' own cards: not the reader's fault
        bus.publish(IdCardReadFailed("not_an_id_card", "不是身份证"))
    for _ in range(4):
        bus.publish(IdCardReadFailed("card_read_failed", "读卡失败"))
    bus.publish(IdCardRead(card=None))
    for _ in range(4):
        bus.publish(IdCardReadFailed("timeout", "无应答"))
    assert reporter.check(now=0.0) == []
    bus.publish(IdCardReadFailed("checksum", "校验错"))
    decisions = reporter.check(now=1.0)
    assert [(type(d), d.fault_key) for d in decisions] == [(OpenTicket, "idcard.read_failed")]
    bus.publish(IdCardRead(card=None))
    assert [type(d) for d in reporter.check(now=2.0)] == [CloseTicket]
    reporter.stop()


def test_reader_offline_and_sam_fault_are_separate_tickets(outbox, bus, data_dir):
    reporter = reporter_for(outbox, bus, data_dir, consecutive_failures=2)
    bus.publish(ReaderFault("sam_fault", "安全模块故障"))
    assert reporter.check(now=0.0) == []
    assert [d.fault_key for d in reporter.check(now=1.0)] == ["idcard.sam_fault"]
    bus.publish(ReaderFault("port", "串口断开"))
    reporter.check(now=2.0)
    assert [d.fault_key for d in reporter.check(now=3.0)] == ["idcard.offline"]
    bus.publish(ReaderRecovered())
    closed = reporter.check(now=4.0)
    assert sorted(d.fault_key for d in closed) == ["idcard.offline", "idcard.sam_fault"]
    reporter.stop()


def test_platform_unreachable_opens_only_after_the_configured_time(outbox, bus, data_dir):
    reporter = reporter_for(outbox, bus, data_dir, backend_unreachable_seconds=300)
    bus.publish(BackendReachabilityChanged(False, "BackendUnavailable"))
    for t in range(0, 300, 30):
        assert reporter.check(now=float(t)) == []
    assert [d.fault_key for d in reporter.check(now=300.0)] == ["backend.unreachable"]
    assert reporter.check(now=400.0) == []
    bus.publish(BackendReachabilityChanged(True))
    assert [type(d) for d in reporter.check(now=401.0)] == [CloseTicket]
    # A short outage afterwards raises nothing.
    bus.publish(BackendReachabilityChanged(False, "BackendUnavailable"))
    assert reporter.check(now=500.0) == []
    bus.publish(BackendReachabilityChanged(True))
    assert reporter.check(now=600.0) == []
    reporter.stop()


class FlakyOutbox:
    """Wraps the real outbox; the first *failures* submits fail like a full disk."""

    def __init__(self, outbox, failures):
        self.outbox = outbox
        self.failures = failures

    def submit(self, kind, path, payload):
        if self.failures:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        return self.outbox.submit(kind, path, payload)


def test_a_ticket_that_could_not_be_saved_is_tried_again(outbox, bus, data_dir):
    flaky = FlakyOutbox(outbox, failures=1)
    reporter = reporter_for(flaky, bus, data_dir, consecutive_failures=1)
    bus.publish(ReaderFault("timeout", "无应答"))
    assert reporter.check(now=0.0) == []  # the save failed: nothing was decided
    assert reporter.open_faults() == {}
    assert [d.fault_key for d in reporter.check(now=1.0)] == ["idcard.offline"]
    assert len(fault_entries(outbox)) == 1
    flaky.failures = 1
    bus.publish(ReaderRecovered())
    assert reporter.check(now=2.0) == []
    assert [type(d) for d in reporter.check(now=3.0)] == [CloseTicket]
    assert len(fault_entries(outbox)) == 2
    reporter.stop()


@pytest.mark.parametrize("content", ["{not json", '{"open": 5}', '["x"]', ""])
def test_an_unreadable_state_file_starts_empty(outbox, bus, data_dir, content):
    (data_dir / STATE_FILE_NAME).write_text(content)
    reporter = reporter_for(outbox, bus, data_dir)
    assert reporter.open_faults() == {}
    reporter.stop()


def test_the_thread_checks_by_itself_and_stop_unsubscribes(outbox, bus, data_dir):
    import time

    reporter = reporter_for(outbox, bus, data_dir, consecutive_failures=2, check_interval=0.02)
    reporter.start()
    try:
        bus.publish(ReaderFault("timeout", "无应答"))
        deadline = time.monotonic() + 30
        while not reporter.open_faults() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(reporter.open_faults()) == ["idcard.offline"]
    finally:
        reporter.stop()
    bus.publish(ReaderRecovered())
    assert reporter.check() == []  # no longer subscribed: the recovery was not seen
    assert len(fault_entries(outbox)) == 1
    reporter.start()  # started again: listening again
    try:
        bus.publish(ReaderRecovered())
        deadline = time.monotonic() + 30
        while reporter.open_faults() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reporter.open_faults() == {}
    finally:
        reporter.stop()
    assert len(fault_entries(outbox)) == 2
