"""Damaged kiosk databases and power cuts: nothing is silently dropped, nothing called printed.

- A truncated, corrupt or foreign outbox file is set aside (renamed, with its WAL), a fresh
  outbox started, every row that still reads carried over with its Idempotency-Key, and the
  set-aside file is reported by ``kiosk outbox status`` and the maintenance outbox page.
- A kiosk killed (power cut) while a receipt is printing finds it, after restart, waiting in
  the print queue as 未确认 ("unconfirmed"), never as printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from test_outbox_cli_and_embedded import _kiosk

from kiosk.services.outbox import Outbox, OutboxStatus
from kiosk.services.printing import REASON_LABELS, REASON_UNCONFIRMED, PrintQueue
from kiosk.services.quarantine import RECORD_FILE_NAME, quarantined_files
from kiosk.services.store import DB_FILE_NAME, KEY_FILE_NAME, PayloadCipher, open_store

ROOT = Path(__file__).resolve().parents[1]
ROWS = 120


def _offline(_path, _payload, _key):
    from kiosk.services.errors import BackendUnavailable

    raise BackendUnavailable()


def _filled_outbox(data_dir: Path) -> dict[str, str]:
    """An outbox with ROWS pending submissions (closed, WAL checkpointed); local_ref → key."""
    store = open_store(data_dir)
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), _offline)
    keys = {}
    for n in range(ROWS):
        entry = outbox.submit("work_order", "/api/v1/work-orders", {"note": "备注" * 40, "n": n})
        keys[entry.local_ref] = entry.idempotency_key
    store.close()
    assert not (data_dir / f"{DB_FILE_NAME}-wal").exists()
    return keys


def _reopen(data_dir: Path):
    store = open_store(data_dir)
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), _offline)
    return store, outbox


def test_a_truncated_outbox_is_set_aside_and_its_readable_rows_carried_over(data_dir):
    keys = _filled_outbox(data_dir)
    path = data_dir / DB_FILE_NAME
    size = path.stat().st_size // 4096 * 2 // 3 * 4096  # the file system kept whole blocks
    with open(path, "r+b") as fh:
        fh.truncate(size)

    store, outbox = _reopen(data_dir)
    try:
        (record,) = quarantined_files(data_dir)
        assert record.original == DB_FILE_NAME
        assert record.moved_to.startswith(f"{DB_FILE_NAME}.corrupt-")
        assert (data_dir / record.moved_to).stat().st_size == size
        assert record.complete is False
        survivors = outbox.entries(OutboxStatus.PENDING, limit=1000)
        assert record.salvaged == len(survivors)
        assert 0 < len(survivors) < ROWS
        # Carried over as they were: same reference, same Idempotency-Key, still decryptable.
        for entry in survivors:
            assert keys[entry.local_ref] == entry.idempotency_key
            assert outbox.payload(entry.local_ref)["note"] == "备注" * 40
        fresh = outbox.submit("work_order", "/api/v1/work-orders", {"n": "after"})
        assert outbox.entry(fresh.local_ref).status is OutboxStatus.PENDING
    finally:
        store.close()


def test_a_cut_inside_a_page_keeps_no_half_row(data_dir):
    keys = _filled_outbox(data_dir)
    path = data_dir / DB_FILE_NAME
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size * 2 // 3 + 1000)
    store, outbox = _reopen(data_dir)
    try:
        (record,) = quarantined_files(data_dir)
        survivors = outbox.entries(limit=1000)
        assert record.salvaged == len(survivors) > 0
        assert all(keys[e.local_ref] == e.idempotency_key for e in survivors)
        assert {e.status for e in survivors} == {OutboxStatus.PENDING}
    finally:
        store.close()


def test_a_page_overwritten_in_the_middle_loses_only_that_pages_rows(data_dir):
    keys = _filled_outbox(data_dir)
    path = data_dir / DB_FILE_NAME
    page = 4096
    pages = path.stat().st_size // page
    with open(path, "r+b") as fh:
        fh.seek(page * (pages // 2))
        fh.write(b"\xa5" * page)

    store, outbox = _reopen(data_dir)
    try:
        (record,) = quarantined_files(data_dir)
        survivors = outbox.entries(OutboxStatus.PENDING, limit=1000)
        assert record.salvaged == len(survivors) >= ROWS - 20
        assert {e.local_ref: e.idempotency_key for e in survivors}.items() <= keys.items()
    finally:
        store.close()


def test_a_file_that_is_no_database_is_set_aside_whole_and_reported_everywhere(data_dir):
    (data_dir / DB_FILE_NAME).write_bytes(b"this is not an SQLite database at all\n" * 100)
    (data_dir / f"{DB_FILE_NAME}-wal").write_bytes(b"stale wal")
    store, outbox = _reopen(data_dir)
    store.close()
    (record,) = quarantined_files(data_dir)
    assert (record.salvaged, record.complete) == (0, False)
    assert "not a database" in record.reason
    assert (data_dir / f"{record.moved_to}-wal").read_bytes() == b"stale wal"
    assert json.loads((data_dir / RECORD_FILE_NAME).read_text())[0]["moved_to"] == record.moved_to

    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    status = _kiosk("outbox", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    (reported,) = json.loads(status.stdout)["quarantined"]
    assert reported["moved_to"] == record.moved_to and reported["salvaged"] == 0
    human = _kiosk("outbox", "status", env=env)
    assert f"quarantined: {record.moved_to}" in human.stdout
    assert "INCOMPLETE" in human.stdout

    from kiosk.services.maintenance import MaintenanceFacade, MaintenanceParts

    facade = MaintenanceFacade.__new__(MaintenanceFacade)
    facade.data_dir = data_dir
    facade.parts = MaintenanceParts()
    (row,) = facade._quarantine_rows()
    assert row.title == f"数据库文件损坏，已隔离：{record.moved_to}"
    assert row.detail == "已救回0笔并继续上传；部分内容无法读取，请联系厂家工程师"

    # Once an engineer took the file away, it is no longer reported.
    (data_dir / record.moved_to).unlink()
    assert quarantined_files(data_dir) == []


def test_outbox_status_refuses_to_move_a_damaged_file_the_kiosk_may_hold_open(data_dir):
    (data_dir / DB_FILE_NAME).write_bytes(b"garbage" * 1000)
    result = _kiosk("outbox", "status", env={**os.environ, "KIOSK_DATA_DIR": str(data_dir)})
    assert result.returncode == 3
    assert "已损坏" in result.stderr
    assert (data_dir / DB_FILE_NAME).read_bytes() == b"garbage" * 1000
    assert quarantined_files(data_dir) == []


PRINT_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kiosk.devices.printer.driver import EscPosPrinter
    from kiosk.devices.printer.profile import PrinterProfile
    from kiosk.devices.printer.simulator import PrinterSimulator
    from kiosk.domain.receipt import Receipt
    from kiosk.services.printing import PrintingService, PrintQueue
    from kiosk.fonts import find_cjk_font
    from test_receipt import make

    data_dir = Path(sys.argv[1])
    sim = PrinterSimulator()
    sim.start()
    sim.set_slow(60.0)  # a minute per KB: the job is still printing when the power goes
    driver = EscPosPrinter(sim.port, publish=lambda e: None, poll_interval=0.2)
    driver.open()
    service = PrintingService(
        driver, PrintQueue.in_data_dir(data_dir), PrinterProfile(), find_cjk_font(),
        publish=lambda e: None,
    )
    print("PRINTING", flush=True)
    service.print_receipt(make())
    print("RETURNED", flush=True)
    """
)


def test_a_power_cut_while_printing_leaves_the_receipt_queued_as_not_confirmed(data_dir):
    child = subprocess.Popen(
        [sys.executable, "-c", PRINT_CHILD, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
    )
    try:
        assert child.stdout.readline().strip() == "PRINTING", child.stderr.read()
        deadline = time.monotonic() + 60
        while True:  # the write-ahead row exists before the bytes go out
            if _jobs_in(data_dir):
                break
            assert time.monotonic() < deadline, "no print job was written ahead"
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert "RETURNED" not in child.stdout.read()

    queue = PrintQueue.in_data_dir(data_dir)  # the kiosk starting again
    try:
        (job,) = queue.pending()
        assert job.reason == REASON_UNCONFIRMED
        assert REASON_LABELS[job.reason] == "未确认是否打出（打印时断电或程序中断）"
        assert job.receipt.reference
    finally:
        queue.close()


def _jobs_in(data_dir: Path) -> int:
    import sqlite3

    connection = sqlite3.connect(data_dir / "print-queue.sqlite3", timeout=30)
    try:
        return connection.execute("SELECT count(*) FROM print_jobs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()
