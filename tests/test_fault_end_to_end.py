"""End to end: the printer simulator (over its real pty) runs out of paper; the driver's monitor,
the fault reporter's thread and the outbox worker run for real; exactly one ticket reaches the
real reference server over HTTP and it closes when paper is back."""

from __future__ import annotations

import time

import pytest
from test_client_support import reference_server  # noqa: F401  (fixture)

from kiosk.devices.printer.driver import EscPosPrinter
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.services.bus import EventBus
from kiosk.services.fault_reporter import STATE_FILE_NAME, FaultReporter
from kiosk.services.outbox import Outbox
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

TIMEOUT = 60.0


def wait_for(condition, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_paper_out_reaches_the_server_as_one_ticket_and_closes_when_paper_is_back(
    reference_server,  # noqa: F811
    data_dir,
    tmp_path,
):
    bus = EventBus()
    store = open_store(data_dir)
    platform = reference_server.client()
    outbox = Outbox(
        store,
        PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
        reference_server.client().post_submission,
        backoff_initial_seconds=0.05,
        backoff_max_seconds=0.5,
    )
    reporter = FaultReporter(
        outbox,
        bus.subscribe,
        data_dir / STATE_FILE_NAME,
        consecutive_failures=3,
        check_interval=0.05,
    )
    simulator = PrinterSimulator(tmp_path / "receipts")
    simulator.start()
    printer = EscPosPrinter(
        simulator.port, publish=bus.publish, poll_interval=0.05, status_timeout=1.0
    )

    def server_tickets():
        return platform.get("/ledger/tickets", {"state": "all"})["items"]

    try:
        outbox.start()
        printer.open()
        reporter.start()
        wait_for(lambda: printer.last_status and printer.last_status.ready, "printer ready")
        simulator.set_paper("end")
        tickets = wait_for(server_tickets, "the paper-end ticket on the server")
        # Let the fault last: many more status polls and checks must not add a ticket.
        time.sleep(1.0)
        assert outbox.drain(TIMEOUT)
        tickets = server_tickets()
        assert len(tickets) == 1
        ticket = tickets[0]
        assert ticket["fault_key"] == "printer.paper_end"
        assert ticket["state"] == "assigned"
        assert ticket["holder"]["level"] == "county"
        assert ticket["description"].startswith("打印机缺纸")

        simulator.set_paper("ok")
        wait_for(
            lambda: server_tickets()[0]["state"] == "closed", "the ticket closed on the server"
        )
        closed = server_tickets()
        assert len(closed) == 1 and closed[0]["id"] == ticket["id"]
        assert closed[0]["resolution"] == "设备已恢复，自动关闭"
        assert [e["action"] for e in closed[0]["events"]] == ["submitted", "assigned", "closed"]
        assert reporter.open_faults() == {}
        kinds = [(e.kind, e.path, e.status.value) for e in reversed(outbox.entries())]
        assert kinds == [
            ("fault", "/api/v1/ledger/tickets", "delivered"),
            ("fault", "/api/v1/ledger/tickets/close", "delivered"),
        ]
    finally:
        reporter.stop()
        printer.close()
        simulator.stop()
        outbox.stop()
        store.close()
