"""Printing never lies: queued on failure, shown on screen, reprinted after paper is replaced."""

import io
import sqlite3
from datetime import date, datetime

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from kiosk.devices.printer.driver import EscPosPrinter
from kiosk.devices.printer.parser import parse_all
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.domain.receipt import STATUS_SAVED_OFFLINE, Receipt, masked_person
from kiosk.fonts import find_cjk_font
from kiosk.services.printing import (
    QUEUE_FILE_NAME,
    PrintingService,
    PrintQueue,
    ReceiptPrinted,
    ReceiptQueued,
    open_printing,
)

REFERENCE = "JJB20261129-000777"
QR_URL = f"https://rs.example.invalid/r/{REFERENCE}"


def make_receipt(reference=REFERENCE):
    return Receipt(
        service_point="沁源县沁河镇城关社区就业社保服务点",
        item_no="2-01",
        item_name="灵活就业人员参保登记",
        reference=reference,
        submitted_at=datetime(2026, 11, 29, 10, 15),
        status_text=STATUS_SAVED_OFFLINE,
        person=masked_person("王小明", "140431199001011234"),
        due_date=date(2026, 12, 3),
        due_estimated=True,
        qr_payload=QR_URL,
    )


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def simulator(tmp_path):
    sim = PrinterSimulator(tmp_path / "receipts")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def printer(simulator):
    driver = EscPosPrinter(simulator.port, poll_interval=0, status_timeout=0.5)
    driver.open()
    yield driver
    driver.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def events():
    return []


@pytest.fixture
def service(printer, data_dir, events, clock):
    svc = PrintingService(
        printer,
        PrintQueue.in_data_dir(data_dir),
        PrinterProfile(),
        find_cjk_font(),
        publish=events.append,
        expiry_seconds=3600,
        clock=clock,
    )
    return svc


def test_printed_receipt_is_reported_and_not_kept(service, simulator, events):
    outcome = service.print_receipt(make_receipt())
    assert outcome.printed and outcome.preview_png is None
    assert events == [ReceiptPrinted(outcome.job_id, REFERENCE)]
    assert service.pending() == []
    assert simulator.wait_for_receipts(1, timeout=30)
    image = Image.open(simulator.receipts[0])
    assert [s.data.decode() for s in decode(image)] == [QR_URL]


def test_paper_out_mid_job_queues_shows_preview_and_reprints(service, simulator, events):
    """GIVEN paper that ends mid-receipt WHEN printing THEN it is queued, the screen gets the
    receipt with its QR; AND WHEN the operator loads paper THEN reprint_pending prints it."""
    simulator.run_out_of_paper_after(4)
    outcome = service.print_receipt(make_receipt())
    assert not outcome.printed
    assert outcome.reason == "paper_end"
    assert "缺纸" in outcome.message
    screen = Image.open(io.BytesIO(outcome.preview_png))
    assert screen.width == 576
    assert [s.data.decode() for s in decode(screen)] == [QR_URL]
    assert isinstance(events[-1], ReceiptQueued) and events[-1].reason == "paper_end"
    pending = service.pending()
    assert [p.receipt for p in pending] == [make_receipt()]
    assert pending[0].attempts == 1

    # Still out of paper: reprint does not even try.
    report = service.reprint_pending()
    assert report.printed == () and report.still_pending == (outcome.job_id,)
    assert report.status.paper_end

    simulator.set_paper("ok")
    report = service.reprint_pending()
    assert report.printed == (outcome.job_id,)
    assert service.pending() == []
    assert events[-1] == ReceiptPrinted(outcome.job_id, REFERENCE, reprint=True)
    assert simulator.wait_for_receipts(2, timeout=30)
    reprinted = simulator.jobs[-1]
    text = b"".join(op.data for op in reprinted if op.name == "text").decode("gb18030")
    assert "（补打）" in text and REFERENCE in text


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("cover", "cover_open"), ("offline", "no_reply"), ("paper", "paper_end")],
)
def test_printer_not_ready_queues_the_receipt(service, simulator, fault, reason):
    {
        "cover": lambda: simulator.set_cover_open(True),
        "offline": lambda: simulator.set_offline(True),
        "paper": lambda: simulator.set_paper("end"),
    }[fault]()
    outcome = service.print_receipt(make_receipt())
    assert (outcome.printed, outcome.reason) == (False, reason)
    assert outcome.preview_png
    assert len(service.pending()) == 1


def test_queue_survives_a_restart_and_is_encrypted_at_rest(
    service, simulator, printer, data_dir, events, clock
):
    simulator.set_paper("end")
    service.print_receipt(make_receipt())
    raw = (data_dir / QUEUE_FILE_NAME).read_bytes()
    wal = data_dir / (QUEUE_FILE_NAME + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert REFERENCE.encode() not in raw and "王".encode() not in raw
    # A new service (after a restart) finds the job and prints it once paper is back.
    again = PrintingService(
        printer,
        PrintQueue.in_data_dir(data_dir),
        PrinterProfile(),
        find_cjk_font(),
        publish=events.append,
        clock=clock,
    )
    assert [p.receipt.reference for p in again.pending()] == [REFERENCE]
    simulator.set_paper("ok")
    assert len(again.reprint_pending().printed) == 1


def test_stale_jobs_expire(service, simulator, clock):
    simulator.set_paper("end")
    service.print_receipt(make_receipt("JJB-OLD"))
    clock.now += 1800
    service.print_receipt(make_receipt("JJB-NEW"))
    clock.now += 1801  # the first is now older than an hour
    assert [p.receipt.reference for p in service.pending()] == ["JJB-NEW"]
    simulator.set_paper("ok")
    report = service.reprint_pending()
    assert len(report.printed) == 1


def test_tampered_row_is_dropped_not_crashed(service, simulator, data_dir):
    simulator.set_paper("end")
    service.print_receipt(make_receipt())
    with sqlite3.connect(data_dir / QUEUE_FILE_NAME) as db:
        db.execute("UPDATE print_jobs SET payload = x'00112233445566778899aabbccddeeff00'")
    assert service.pending() == []


def test_preview_is_the_printed_layout(service):
    receipt = make_receipt()
    ops = parse_all(service.job_bytes(receipt))
    assert any(op.name == "qr_store" and op.data == QR_URL.encode() for op in ops)
    image = Image.open(io.BytesIO(service.preview_png(receipt)))
    assert [s.data.decode() for s in decode(image)] == [QR_URL]


def test_open_printing_factory(printer, data_dir, events):
    service = open_printing(printer, PrinterProfile(), data_dir, events.append)
    assert service.print_receipt(make_receipt()).printed
    assert (data_dir / QUEUE_FILE_NAME).stat().st_mode & 0o077 == 0
