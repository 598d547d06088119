"""Device faults become tickets by themselves: one per fault, debounced, closed on recovery.

:class:`FaultReporter` subscribes to the devices' typed events and keeps, per fault key
(``printer.paper_end``, ``idcard.offline``, ``backend.unreachable`` ... see
:data:`kiosk.domain.problems.FAULT_LABELS`), what it last learned:

- *state faults* (paper end, cover open, printer offline/error, reader offline, ID reader SAM,
  platform unreachable) are re-observed at every check (``check_interval`` seconds, its own
  thread), so a fault counts as ``consecutive_failures`` failures only after lasting that many
  checks — a flapping sensor or a cover opened to change paper raises nothing. Unknown (the
  printer did not answer a question) is never counted either way.
- *event faults* (read failures, social security card PSAM errors) count one failure per
  event; a successful read is the healthy observation that resets them.
- ``backend.unreachable`` opens once the platform has been unreachable for
  ``backend_unreachable_seconds`` (it reaches the server when the link is back, and closes
  right after: the ledger keeps the outage).

Decisions come from the pure :class:`kiosk.domain.fault_tracker.FaultTracker` and are carried
out through the outbox (kind ``fault``), so they survive being offline and restarts: the open
request carries a random ``client_ref`` that the close request names, and the server keeps
one open ticket per (kiosk, fault_key) anyway. The tracker's open tickets are saved to
``<data_dir>/fault_tracker.json`` (fault keys and refs only, no personal data) after each change.

Threads: event handlers only record facts under a lock (they may run on the UI thread); the
outbox is written from the reporter's thread (or from :meth:`check` in tests).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.devices.idcard import events as idcard_events
from kiosk.devices.printer.events import PrinterStatusChanged
from kiosk.devices.printer.status import PrinterStatus
from kiosk.devices.sscard import events as sscard_events
from kiosk.domain.fault_tracker import Decision, FaultRule, FaultTracker, OpenTicket
from kiosk.domain.problems import fault_label
from kiosk.services.backend_runtime import BackendReachabilityChanged, PlatformClockChecked
from kiosk.services.durable_files import write_private_file
from kiosk.services.outbox import SubmissionKind

log = logging.getLogger(__name__)

PATH_LEDGER_TICKETS = "/api/v1/ledger/tickets"
PATH_LEDGER_CLOSE = "/api/v1/ledger/tickets/close"
SUBMISSION_KIND = SubmissionKind.FAULT.value
STATE_FILE_NAME = "fault_tracker.json"
RECOVERED_TEXT = "设备已恢复，自动关闭"
# Changing a paper roll means opening the cover for a minute or so: not a fault.
COVER_OPEN_GRACE_SECONDS = 120.0

# ID card read failures that say something about the card or the resident, not the reader.
IDCARD_RESIDENT_CODES = frozenset({"no_card", "not_an_id_card", "unsupported_card", "no_content"})
# Social security card failures of the same kind; PSAM ones are counted as SAM faults.
SSCARD_RESIDENT_CODES = frozenset({"removed", "not_found", "unsupported_version"})
SSCARD_SAM_CODES = frozenset({"auth_failed", "auth_not_configured"})

Subscribe = Callable[[type, Callable[[Any], None]], Callable[[], None]]


@dataclass(frozen=True)
class FaultTicketOpened:
    """A fault ticket was saved to the outbox (it reaches the platform when online)."""

    fault_key: str
    label: str
    client_ref: str
    local_ref: str


@dataclass(frozen=True)
class FaultTicketClosed:
    """The fault cleared; the close request was saved to the outbox."""

    fault_key: str
    client_ref: str
    local_ref: str


class FaultReporter:
    """See the module docstring. A runtime component: ``name``, ``start()``, ``stop()``.

    *outbox* needs ``submit(kind, path, payload) -> OutboxEntry``; *subscribe* is
    ``EventBus.subscribe``; *clock* returns unix seconds (persisted times are wall-clock).
    """

    name = "faults"

    def __init__(
        self,
        outbox,
        subscribe: Subscribe,
        state_path: Path,
        *,
        consecutive_failures: int = 3,
        backend_unreachable_seconds: float = 300.0,
        read_failures: int = 5,
        check_interval: float = 10.0,
        cover_open_grace_seconds: float = COVER_OPEN_GRACE_SECONDS,
        clock_skew_seconds: float = 120.0,
        data_dir: Path | None = None,
        min_free_bytes: int = 0,
        clock: Callable[[], float] = time.time,
        publish: Callable[[Any], None] | None = None,
    ) -> None:
        threshold = max(1, consecutive_failures)
        self._clock_skew_limit = clock_skew_seconds
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._min_free = min_free_bytes
        # Tickets decided but not yet saved (the disk was full): saved at the next check.
        self._unsaved: dict[str, tuple[Decision, str]] = {}
        self._tracker = FaultTracker(
            default_rule=FaultRule(threshold=threshold),
            rules={
                "printer.cover_open": FaultRule(threshold, cover_open_grace_seconds),
                "backend.unreachable": FaultRule(1, float(backend_unreachable_seconds)),
                "idcard.read_failed": FaultRule(max(1, read_failures)),
                "sscard.read_failed": FaultRule(max(1, read_failures)),
            },
        )
        self._outbox = outbox
        self._state_path = Path(state_path)
        self._check_interval = check_interval
        self._clock = clock
        self._publish = publish or (lambda _event: None)
        self._lock = threading.Lock()  # guards _conditions and _events (handlers vs. checks)
        self._work = threading.Lock()  # one check at a time (tracker + outbox + state file)
        self._conditions: dict[str, tuple[bool, str]] = {}
        self._events: list[tuple[str, bool, str]] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._tracker.restore(_load_state(self._state_path))
        self._subscribe = subscribe
        self._unsubscribe: list[Callable[[], None]] = []
        self._subscribe_all()

    def _subscribe_all(self) -> None:
        subscribe = self._subscribe
        self._unsubscribe = [
            subscribe(PrinterStatusChanged, self._on_printer),
            subscribe(idcard_events.ReaderFault, self._on_idcard_fault),
            subscribe(idcard_events.ReaderRecovered, self._on_idcard_recovered),
            subscribe(idcard_events.IdCardReadFailed, self._on_idcard_read_failed),
            subscribe(idcard_events.IdCardRead, self._on_idcard_read),
            subscribe(sscard_events.ReaderFault, self._on_sscard_fault),
            subscribe(sscard_events.ReaderRecovered, self._on_sscard_recovered),
            subscribe(sscard_events.CardReadFailed, self._on_sscard_read_failed),
            subscribe(sscard_events.SsCardRead, self._on_sscard_read),
            subscribe(BackendReachabilityChanged, self._on_backend),
            subscribe(PlatformClockChecked, self._on_platform_clock),
        ]

    @classmethod
    def from_config(cls, config, outbox, subscribe: Subscribe, data_dir: Path, **kwargs):
        """Build with the thresholds of config section ``faults``."""
        section = config.faults
        return cls(
            outbox,
            subscribe,
            Path(data_dir) / STATE_FILE_NAME,
            consecutive_failures=section.consecutive_failures,
            backend_unreachable_seconds=section.backend_unreachable_seconds,
            read_failures=section.read_failures,
            check_interval=section.check_interval_seconds,
            cover_open_grace_seconds=section.cover_open_grace_seconds,
            clock_skew_seconds=section.clock_skew_seconds,
            data_dir=Path(data_dir),
            min_free_bytes=section.min_free_bytes,
            **kwargs,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start checking every ``check_interval`` seconds (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        if not self._unsubscribe:  # restarted after stop(): listen again
            self._subscribe_all()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fault-reporter", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop checking and unsubscribe from the bus."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # a broken disk must not end fault reporting for good
                log.exception("fault check failed", extra={"event": "fault_check"})
            self._wake.wait(self._check_interval)
            self._wake.clear()

    # -- reading --------------------------------------------------------------------------------

    def open_faults(self) -> dict[str, str]:
        """fault_key → client_ref of every fault ticket this kiosk holds open."""
        with self._work:
            return self._tracker.open_faults()

    # -- the check ------------------------------------------------------------------------------

    def check(self, now: float | None = None) -> list[Decision]:
        """Feed queued events and the current state faults to the tracker and carry out its
        decisions through the outbox; returns them (for tests and diagnostics)."""
        with self._work:
            now = self._clock() if now is None else now
            self._observe_storage()
            decisions: list[Decision] = [
                d for d, _ in list(self._unsaved.values()) if self._save(d)
            ]
            with self._lock:
                queued, self._events = self._events, []
                states = dict(self._conditions)
            observations = queued + [(k, failing, d) for k, (failing, d) in states.items()]
            for fault_key, failing, detail in observations:
                decision = self._tracker.observe(fault_key, failing, now, detail)
                if decision is not None and self._carry_out(decision):
                    decisions.append(decision)
            return decisions

    def _observe_storage(self) -> None:
        if self._data_dir is None or not self._min_free:
            return
        try:
            free = shutil.disk_usage(self._data_dir).free
        except OSError:
            return
        self._set("storage.full", free < self._min_free, f"free={free}")

    def _carry_out(self, decision: Decision) -> bool:
        client_ref = uuid.uuid4().hex if isinstance(decision, OpenTicket) else ""
        self._unsaved[decision.fault_key] = (decision, client_ref)
        return self._save(decision)

    def _save(self, decision: Decision) -> bool:
        """Save the decision's request to the outbox; False (kept for the next check) if the
        outbox cannot take it now — a full disk must still end in its ticket, later."""
        key = decision.fault_key
        _, client_ref = self._unsaved[key]
        try:
            if isinstance(decision, OpenTicket):
                payload = {
                    "client_ref": client_ref,
                    "kind": "device_fault",
                    "category": "device",
                    "reporter": "kiosk",
                    "fault_key": key,
                    "description": decision.detail,
                    "occurred_at": _iso(decision.since),
                }
                entry = self._outbox.submit(SUBMISSION_KIND, PATH_LEDGER_TICKETS, payload)
                self._tracker.confirm_open(key, client_ref)
                event: Any = FaultTicketOpened(key, fault_label(key), client_ref, entry.local_ref)
            else:
                payload = {
                    "client_ref": decision.ticket_ref,
                    "fault_key": key,
                    "resolution": RECOVERED_TEXT,
                }
                entry = self._outbox.submit(SUBMISSION_KIND, PATH_LEDGER_CLOSE, payload)
                self._tracker.confirm_closed(key)
                event = FaultTicketClosed(key, decision.ticket_ref, entry.local_ref)
        except Exception as exc:
            # Not saved: kept, and tried again at the next check. The tracker holds the
            # decision pending meanwhile, so it is not made twice.
            log.warning(
                "could not save a fault ticket yet: %s",
                type(exc).__name__,
                extra={"event": "fault_save", "fault_key": key},
            )
            return False
        del self._unsaved[key]
        self._save_state()
        log.info(
            "fault ticket saved",
            extra={
                "event": "fault_open" if isinstance(decision, OpenTicket) else "fault_close",
                "fault_key": key,
            },
        )
        self._publish(event)
        return True

    def _save_state(self) -> None:
        try:
            _write_state(self._state_path, self._tracker.snapshot())
        except OSError:
            # The server keeps one open ticket per fault, so a lost file costs no duplicate.
            log.exception("could not save fault tracker state", extra={"event": "fault_state"})

    # -- event handlers (any thread; record only) -------------------------------------------------

    def _set(self, fault_key: str, failing: bool | None, detail: str = "") -> None:
        with self._lock:
            if failing is None:
                self._conditions.pop(fault_key, None)
            else:
                self._conditions[fault_key] = (failing, detail)

    def _queue(self, fault_key: str, failing: bool, detail: str = "") -> None:
        with self._lock:
            self._events.append((fault_key, failing, detail))

    def _on_printer(self, event: PrinterStatusChanged) -> None:
        for key, failing in printer_conditions(event.status).items():
            self._set(key, failing, event.status.problem)

    def _on_idcard_fault(self, event) -> None:
        key = "idcard.sam_fault" if event.code == "sam_fault" else "idcard.offline"
        self._set(key, True, event.code)

    def _on_idcard_recovered(self, _event) -> None:
        self._set("idcard.offline", False)
        self._set("idcard.sam_fault", False)

    def _on_idcard_read_failed(self, event) -> None:
        if event.code not in IDCARD_RESIDENT_CODES:
            self._queue("idcard.read_failed", True, event.code)

    def _on_idcard_read(self, _event) -> None:
        self._queue("idcard.read_failed", False)

    def _on_sscard_fault(self, event) -> None:
        self._set("sscard.offline", True, event.code)

    def _on_sscard_recovered(self, _event) -> None:
        self._set("sscard.offline", False)

    def _on_sscard_read_failed(self, event) -> None:
        if event.code in SSCARD_SAM_CODES:
            self._queue("sscard.sam_fault", True, event.code)
        elif event.code not in SSCARD_RESIDENT_CODES:
            self._queue("sscard.read_failed", True, event.code)

    def _on_sscard_read(self, _event) -> None:
        self._queue("sscard.read_failed", False)
        self._queue("sscard.sam_fault", False)

    def _on_backend(self, event: BackendReachabilityChanged) -> None:
        self._set("backend.unreachable", not event.reachable, event.code)

    def _on_platform_clock(self, event: PlatformClockChecked) -> None:
        skew = event.skew_seconds
        self._set("clock.skew", abs(skew) > self._clock_skew_limit, f"skew={round(skew)}s")


def printer_conditions(status: PrinterStatus) -> dict[str, bool | None]:
    """The printer's fault keys → failing (True), fine (False) or unknown (None)."""
    problem = status.problem
    return {
        "printer.paper_end": status.paper_end,
        "printer.cover_open": status.cover_open,
        "printer.error": status.error,
        "printer.offline": problem in ("no_reply", "offline"),
    }


def _iso(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).isoformat()


def _load_state(path: Path) -> dict[str, str]:
    """The saved open tickets; empty (with a warning) if the file is missing or unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.warning(
            "fault tracker state unreadable; starting empty", extra={"event": "fault_state"}
        )
        return {}
    open_faults = document.get("open") if isinstance(document, dict) else None
    if not isinstance(open_faults, dict):
        return {}
    return {str(k): str(v) for k, v in open_faults.items() if isinstance(v, str)}


def _write_state(path: Path, open_faults: dict[str, str]) -> None:
    """Replace the state file atomically (write, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": 1, "open": open_faults}, sort_keys=True)
    write_private_file(path, text.encode("utf-8"))
