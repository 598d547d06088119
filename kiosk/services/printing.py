"""Printing that never lies: a receipt is "printed" only when the printer confirmed it.

:class:`PrintingService` lays a :class:`~kiosk.domain.receipt.Receipt` out once (ESC/POS bytes),
sends it through the driver, and on any failure — paper out, cover open, offline, unconfirmed
— keeps it in the durable :class:`PrintQueue` and hands back the on-screen preview (the same
bytes rendered to PNG, QR code included) for the resident to photograph or scan. The operator
reprints after replacing paper with :meth:`PrintingService.reprint_pending`; jobs older than
``job_expiry_seconds`` are dropped (the resident has long gone; the backend keeps the record).

What is stored: the receipt's fields (masked person, reference number, item, dates) as JSON,
AES-GCM encrypted with the store key (``kiosk.services.store``), in ``print-queue.sqlite3``
in the data directory; a row is written *before* printing and deleted once printed.

Threads: every method may block on the printer (seconds) — call from a worker thread. The
service is thread-safe. Events (:class:`ReceiptPrinted`, :class:`ReceiptQueued`) go through
the *publish* callable on the calling thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from kiosk.devices.printer.driver import PrinterError, PrinterNotReady, PrintNotConfirmed
from kiosk.devices.printer.glyphs import GlyphRenderer
from kiosk.devices.printer.layout import receipt_bytes
from kiosk.devices.printer.preview import PreviewRenderer, RenderResult
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.devices.printer.status import PROBLEM_MESSAGES, PrinterStatus
from kiosk.domain.receipt import Receipt, ReceiptError
from kiosk.services.quarantine import check_or_quarantine, salvage_rows
from kiosk.services.store import (
    KEY_FILE_NAME,
    PayloadCipher,
    PayloadDecryptError,
    create_private_file,
    create_sqlite_engine,
)

log = logging.getLogger(__name__)

QUEUE_FILE_NAME = "print-queue.sqlite3"
REASON_PRINTING = "printing"  # written before the bytes go out; cleared once confirmed
REASON_UNCONFIRMED = "unconfirmed"  # the kiosk stopped while printing: maybe on paper, maybe not
# What the operator reads beside each waiting receipt (maintenance 打印纸和补打).
REASON_LABELS = {
    REASON_PRINTING: "正在打印",
    REASON_UNCONFIRMED: "未确认是否打出（打印时断电或程序中断）",
    "paper_end": "打印机缺纸",
    "cover_open": "纸仓盖未关",
    "no_reply": "打印机无应答",
    "offline": "打印机离线",
    "error": "打印机故障",
    "not_ready": "打印机未就绪",
}
SCREEN_HINT = "凭证已保存，请拍照或扫描屏幕上的二维码；工作人员换纸后可补打"


@dataclass(frozen=True)
class ReceiptPrinted:
    job_id: str
    reference: str
    reprint: bool = False


@dataclass(frozen=True)
class ReceiptQueued:
    """The receipt did not come out; it waits in the print queue. *reason* is a problem code."""

    job_id: str
    reference: str
    reason: str
    message: str


@dataclass(frozen=True)
class PrintOutcome:
    """What the screen shows after printing. ``preview_png`` is set whenever not printed."""

    printed: bool
    job_id: str
    reason: str = ""  # "" when printed, else paper_end / cover_open / no_reply / unconfirmed ...
    message: str = ""
    preview_png: bytes | None = None


@dataclass(frozen=True)
class PendingReceipt:
    job_id: str
    receipt: Receipt
    created_at: float  # time.time() seconds
    attempts: int
    reason: str


@dataclass(frozen=True)
class ReprintReport:
    printed: tuple[str, ...]
    still_pending: tuple[str, ...]
    expired: int
    status: PrinterStatus | None


class Printer(Protocol):
    def status(self) -> PrinterStatus: ...

    def print_job(self, data: bytes) -> Any: ...


_metadata = sa.MetaData()
_jobs = sa.Table(
    "print_jobs",
    _metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("reason", sa.String(32), nullable=False, default=""),
    # nonce || AES-GCM(receipt JSON); AAD = b"print:" + job_id
    sa.Column("payload", sa.LargeBinary, nullable=False),
)


class PrintQueue:
    """Receipts not yet on paper, in their own SQLite file (WAL, synchronous=FULL).

    A job is written with reason ``printing`` before its bytes go to the printer. Opening the
    queue finds any job still marked so — the kiosk lost power or was killed while printing —
    and marks it ``unconfirmed``: it may or may not be on paper, so it stays in the queue for
    the operator and is never counted as printed. A damaged queue file is set aside and its
    readable jobs carried over (:mod:`kiosk.services.quarantine`).
    """

    def __init__(self, path: Path, cipher: PayloadCipher) -> None:
        self.path = Path(path)
        damaged = check_or_quarantine(self.path)
        create_private_file(self.path)
        self._engine = create_sqlite_engine(self.path)
        _metadata.create_all(self._engine)
        if damaged is not None:
            salvage_rows(
                self.path.with_name(damaged.moved_to),
                self.path,
                "print_jobs",
                damaged,
                lambda row: isinstance(row.get("job_id"), str) and len(row["job_id"]) == 32,
            )
        self._cipher = cipher
        with self._engine.begin() as conn:
            interrupted = conn.execute(
                _jobs.update()
                .where(_jobs.c.reason == REASON_PRINTING)
                .values(reason=REASON_UNCONFIRMED)
            ).rowcount
        if interrupted:
            log.warning(
                "receipts interrupted while printing kept as not confirmed",
                extra={"event": "print_unconfirmed", "count": interrupted},
            )

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> PrintQueue:
        return cls(
            Path(data_dir) / QUEUE_FILE_NAME,
            PayloadCipher.from_key_file(Path(data_dir) / KEY_FILE_NAME),
        )

    def close(self) -> None:
        self._engine.dispose()

    def add(self, receipt: Receipt, created_at: float, reason: str = REASON_PRINTING) -> str:
        job_id = uuid.uuid4().hex
        payload = json.dumps(receipt.to_dict(), ensure_ascii=False).encode("utf-8")
        blob = self._cipher.encrypt(payload, _aad(job_id))
        with self._engine.begin() as conn:
            conn.execute(
                _jobs.insert().values(
                    job_id=job_id, created_at=created_at, attempts=0, reason=reason, payload=blob
                )
            )
        return job_id

    def mark_failed(self, job_id: str, reason: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                _jobs.update()
                .where(_jobs.c.job_id == job_id)
                .values(reason=reason, attempts=_jobs.c.attempts + 1)
            )

    def remove(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_jobs.delete().where(_jobs.c.job_id == job_id))

    def remove_created_before(self, cutoff: float) -> int:
        with self._engine.begin() as conn:
            return conn.execute(_jobs.delete().where(_jobs.c.created_at < cutoff)).rowcount

    def pending(self) -> list[PendingReceipt]:
        """Oldest first. Rows that no longer decrypt or parse are deleted (and logged)."""
        with self._engine.begin() as conn:
            rows = conn.execute(sa.select(_jobs).order_by(_jobs.c.created_at)).all()
        result = []
        for row in rows:
            try:
                data = json.loads(self._cipher.decrypt(row.payload, _aad(row.job_id)))
                receipt = Receipt.from_dict(data)
            except (PayloadDecryptError, ReceiptError, ValueError):
                log.warning("dropping an unreadable print job", extra={"event": "print_job_bad"})
                self.remove(row.job_id)
                continue
            result.append(
                PendingReceipt(row.job_id, receipt, row.created_at, row.attempts, row.reason)
            )
        return result


def _aad(job_id: str) -> bytes:
    return b"print:" + job_id.encode("ascii")


class PrintingService:
    """See the module docstring. *printer* is the driver (or anything with the same two calls)."""

    def __init__(
        self,
        printer: Printer,
        queue: PrintQueue,
        profile: PrinterProfile,
        font_path: str | Path,
        *,
        publish: Callable[[Any], None],
        expiry_seconds: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._printer = printer
        self._queue = queue
        self.profile = profile
        self._glyphs = GlyphRenderer(font_path)
        self._preview = PreviewRenderer(profile.paper_width_dots, font_path)
        self._publish = publish
        self.expiry_seconds = expiry_seconds
        self._clock = clock
        self._render_lock = threading.Lock()  # Pillow font objects are not thread-safe
        self._print_lock = threading.Lock()  # one job at a time; keeps reprint order

    def job_bytes(self, receipt: Receipt, reprint: bool = False) -> bytes:
        """The ESC/POS bytes of *receipt* (the one layout)."""
        with self._render_lock:
            return receipt_bytes(receipt, self.profile, self._glyphs, reprint=reprint)

    def preview_png(self, receipt: Receipt) -> bytes:
        """The receipt as it would print, as PNG bytes at the paper width."""
        return self.preview(receipt).png()

    def preview(self, receipt: Receipt) -> RenderResult:
        """The receipt as it would print (picture, and where its QR code lies)."""
        data = self.job_bytes(receipt)
        with self._render_lock:
            return self._preview.render_bytes(data)

    def print_receipt(self, receipt: Receipt) -> PrintOutcome:
        """Print *receipt*; on any failure queue it and return the preview to show instead."""
        self.expire_stale()
        data = self.job_bytes(receipt)
        with self._print_lock:
            job_id = self._queue.add(receipt, self._clock())  # write-ahead: survives a crash
            reason, message = self._send(data)
            if not reason:
                self._queue.remove(job_id)
                self._publish(ReceiptPrinted(job_id=job_id, reference=receipt.reference))
                return PrintOutcome(printed=True, job_id=job_id)
            self._queue.mark_failed(job_id, reason)
        log.info("receipt queued", extra={"event": "receipt_queued", "status": reason})
        self._publish(ReceiptQueued(job_id, receipt.reference, reason, message))
        return PrintOutcome(
            printed=False,
            job_id=job_id,
            reason=reason,
            message=f"{message}。{SCREEN_HINT}",
            preview_png=self.preview_png(receipt),
        )

    def pending(self) -> list[PendingReceipt]:
        """Receipts waiting for paper, oldest first (expired ones removed first)."""
        self.expire_stale()
        return self._queue.pending()

    def reprint_pending(self) -> ReprintReport:
        """Print every waiting receipt, oldest first, marked 补打; stop at the first failure."""
        expired = self.expire_stale()
        printed: list[str] = []
        with self._print_lock:
            jobs = self._queue.pending()
            status = self._printer.status()
            if not status.ready:
                return ReprintReport((), tuple(j.job_id for j in jobs), expired, status)
            for index, job in enumerate(jobs):
                reason, _ = self._send(self.job_bytes(job.receipt, reprint=True))
                if reason:
                    self._queue.mark_failed(job.job_id, reason)
                    rest = tuple(j.job_id for j in jobs[index:])
                    return ReprintReport(tuple(printed), rest, expired, None)
                self._queue.remove(job.job_id)
                printed.append(job.job_id)
                self._publish(ReceiptPrinted(job.job_id, job.receipt.reference, reprint=True))
        return ReprintReport(tuple(printed), (), expired, None)

    def expire_stale(self) -> int:
        """Drop jobs older than ``expiry_seconds``; returns how many."""
        removed = self._queue.remove_created_before(self._clock() - self.expiry_seconds)
        if removed:
            log.info("expired print jobs", extra={"event": "print_jobs_expired", "count": removed})
        return removed

    def _send(self, data: bytes) -> tuple[str, str]:
        """('', '') when printed, else (problem code, message)."""
        try:
            self._printer.print_job(data)
        except PrinterNotReady as exc:
            return exc.status.problem or "not_ready", str(exc)
        except PrintNotConfirmed as exc:
            return exc.status.problem or "unconfirmed", str(exc) or "打印机未确认打印完成"
        except PrinterError as exc:
            return "error", str(exc) or PROBLEM_MESSAGES["error"]
        return "", ""


def open_printing(
    printer: Printer,
    profile: PrinterProfile,
    data_dir: Path,
    publish: Callable[[Any], None],
    expiry_seconds: float = 3600,
    font_path: str | Path | None = None,
) -> PrintingService:
    """Factory for the composition root: the queue in *data_dir* and the bundled CJK font."""
    if font_path is None:
        from kiosk.fonts import find_cjk_font

        font_path = find_cjk_font()
    return PrintingService(
        printer,
        PrintQueue.in_data_dir(Path(data_dir)),
        profile,
        font_path,
        publish=publish,
        expiry_seconds=expiry_seconds,
    )
