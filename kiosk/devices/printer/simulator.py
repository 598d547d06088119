"""A receipt printer on a pty pair: speaks ESC/POS, answers status, saves receipts as PNG.

The driver opens :attr:`PrinterSimulator.port` (the pty's slave path) like a real serial
printer. Real-time status queries (DLE EOT n) are answered at once by the reader thread;
everything else goes, in order, to a print-engine thread that "prints" (optionally slowly),
answers GS r 1 after the data before it, and renders each job ended by a cut (or by GS r 1)
to ``receipt-<time>-NNNN.png`` through the preview renderer.

Faults to script: :meth:`set_paper` ("ok" / "near_end" / "end"), :meth:`set_cover_open`,
:meth:`set_offline` (no replies at all), :meth:`set_slow`, :meth:`run_out_of_paper_after`
(paper ends mid-job). Like a real printer that stopped, it drops the data it cannot print,
leaving the kiosk to notice and reprint.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
import tty
from collections import deque
from pathlib import Path

from kiosk.devices.printer.parser import EscPosParser, Op
from kiosk.devices.printer.preview import PreviewRenderer
from kiosk.devices.printer.status import PrinterStatus, encode_replies

log = logging.getLogger(__name__)

_REALTIME = ("status_query", "realtime_request")
# What the simulator remembers of its past (tests look at the last few jobs and bytes): a demo
# kiosk prints for months, so the history is bounded.
KEEP_JOBS = 50
KEEP_RECEIVED_BYTES = 64 * 1024


class PrinterSimulator:
    """Start with :meth:`start`, stop with :meth:`stop`; thread-safe setters for faults."""

    def __init__(
        self,
        output_dir: str | Path | None = None,
        paper_width_dots: int = 576,
        font_path: str | Path | None = None,
        keep_last: int = 200,
    ) -> None:
        """*keep_last*: PNGs kept in *output_dir*; older ones are deleted (demo mode runs long)."""
        self.output_dir = Path(output_dir) if output_dir else None
        self.keep_last = keep_last
        self.paper_width_dots = paper_width_dots
        self._font_path = font_path
        self._renderer: PreviewRenderer | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._paper = "ok"
        self._cover_open = False
        self._offline = False
        self._seconds_per_kb = 0.0
        self._lines_until_paper_end: int | None = None
        self._ops: queue.Queue[tuple[Op, int] | None] = queue.Queue()
        self._job: list[Op] = []
        self._job_partial = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._master = self._slave = -1
        self.port = ""
        # The last KEEP_RECEIVED_BYTES bytes the printer took, the last KEEP_JOBS jobs and the
        # last *keep_last* receipt files, newest at the end.
        self.received = bytearray()
        self.dropped_bytes = 0
        self.receipts: deque[Path] = deque(maxlen=keep_last)
        self.jobs: deque[list[Op]] = deque(maxlen=KEEP_JOBS)
        self._jobs_finished = 0
        self._job_done = threading.Condition()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> str:
        """Open the pty pair and start the threads; returns the port path for the driver."""
        if self._font_path is None:
            from kiosk.fonts import find_cjk_font

            self._font_path = find_cjk_font()
        self._renderer = PreviewRenderer(self.paper_width_dots, self._font_path)
        if self.output_dir:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as they are
        self.port = os.ttyname(self._slave)
        self._stop.clear()
        for target, name in ((self._read_loop, "sim-printer-rx"), (self._engine, "sim-printer")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        self._ops.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> PrinterSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------------------
    def set_paper(self, state: str) -> None:
        """ "ok", "near_end" or "end". Loading paper ("ok"/"near_end") clears a stopped job."""
        if state not in ("ok", "near_end", "end"):
            raise ValueError(f"paper state must be ok/near_end/end, not {state!r}")
        with self._lock:
            self._paper = state
            if state != "end":
                self._lines_until_paper_end = None

    def set_cover_open(self, is_open: bool) -> None:
        with self._lock:
            self._cover_open = is_open

    def set_offline(self, offline: bool) -> None:
        """Offline = switched off or unplugged: no replies, data lost."""
        with self._lock:
            self._offline = offline

    def set_slow(self, seconds_per_kb: float) -> None:
        """Print slowly: *seconds_per_kb* of job data (0 = instantly)."""
        with self._lock:
            self._seconds_per_kb = seconds_per_kb

    def run_out_of_paper_after(self, lines: int) -> None:
        """The paper ends after *lines* more printed lines (text lines or raster bands)."""
        with self._lock:
            self._lines_until_paper_end = lines

    @property
    def status(self) -> PrinterStatus:
        with self._lock:
            return PrinterStatus(
                online=not self._offline,
                cover_open=self._cover_open,
                paper_end=self._paper == "end",
                paper_near_end=self._paper in ("near_end", "end"),
                error=False,
            )

    def wait_for_receipts(self, count: int, timeout: float = 30.0) -> bool:
        """Block until *count* (at most KEEP_JOBS) jobs are remembered: receipts saved (or
        rendered, without output_dir) since the start or since ``jobs.clear()``."""
        deadline = time.monotonic() + timeout
        with self._job_done:
            while len(self.jobs) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._job_done.wait(remaining)
        return True

    # -- threads --------------------------------------------------------------------------
    def _read_loop(self) -> None:
        parser = EscPosParser()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:  # EIO while no one has the slave open: keep waiting
                time.sleep(0.05)
                continue
            self.received += data
            if len(self.received) > 2 * KEEP_RECEIVED_BYTES:
                del self.received[:-KEEP_RECEIVED_BYTES]
            for op in parser.feed(data):
                if op.name in _REALTIME:
                    self._answer_realtime(op)
                else:
                    self._ops.put((op, _op_size(op)))

    def _answer_realtime(self, op: Op) -> None:
        if op.name != "status_query" or not 1 <= op.args[0] <= 4:
            return
        status = self.status
        if self._offline:
            return
        printer, cause, paper, _ = encode_replies(status)
        reply = {1: printer, 2: cause, 3: 0x12, 4: paper}[op.args[0]]
        self._send(bytes((reply,)))

    def _engine(self) -> None:
        while True:
            item = self._ops.get()
            if item is None or self._stop.is_set():
                return
            op, size = item
            with self._lock:
                delay = self._seconds_per_kb * size / 1024
            if delay:
                time.sleep(delay)
            self._print(op, size)

    def _print(self, op: Op, size: int) -> None:
        with self._lock:
            stopped = self._offline or self._cover_open or self._paper == "end"
        if stopped:
            self.dropped_bytes += size
            if self._job:
                self._job_partial = True
                self._finish_job()
            return
        if op.name == "paper_status_query":
            if self._job:
                self._finish_job()  # a printer without cutter: the barrier ends the job
            _, _, _, gs_r = encode_replies(self.status)
            self._send(bytes((gs_r,)))
            return
        self._job.append(op)
        if op.name in ("lf", "raster", "qr_print", "feed_lines"):
            self._count_line()
        if op.name == "cut":
            self._finish_job()

    def _count_line(self) -> None:
        with self._lock:
            if self._lines_until_paper_end is None:
                return
            self._lines_until_paper_end -= 1
            if self._lines_until_paper_end <= 0:
                self._paper = "end"
                self._lines_until_paper_end = None

    def _finish_job(self) -> None:
        ops, partial = self._job, self._job_partial
        self._job, self._job_partial = [], False
        if not any(op.name in ("text", "raster", "qr_print") for op in ops):
            return
        path = None
        if self.output_dir and self._renderer is not None:
            suffix = "-partial" if partial else ""
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = self.output_dir / f"receipt-{stamp}-{self._jobs_finished + 1:04d}{suffix}.png"
            try:
                path.write_bytes(self._renderer.render(ops).png())
            except Exception:  # a bad job must not kill the simulated printer
                log.exception("simulated printer could not render a job")
                path = None
        with self._job_done:
            self._jobs_finished += 1
            self.jobs.append(ops)
            if path is not None:
                self.receipts.append(path)
            self._job_done.notify_all()
        if path is not None:
            self._prune()

    def _prune(self) -> None:
        saved = sorted(self.output_dir.glob("receipt-*.png"), key=lambda p: p.stat().st_mtime)
        for old in saved[: max(0, len(saved) - self.keep_last)]:
            old.unlink(missing_ok=True)

    def _send(self, data: bytes) -> None:
        with self._write_lock:
            try:
                os.write(self._master, data)
            except OSError:
                log.debug("simulated printer: reply lost (pty closed)")


def _op_size(op: Op) -> int:
    return len(op.data) + 3
