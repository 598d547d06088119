"""The kiosk side of benchmarks/soak.py: the real runtime and flows, residents, device faults.

Imported by ``soak.py --kiosk`` after it replaced ``time.time`` with the jumpable clock. Talks
to the orchestrator in JSON lines: stdout ``{"event": "ready" | "progress" | "fault_applied" |
"report", ...}``; stdin ``go``, ``fault <name> on|off``, ``finish``.

Threads: device drivers, the outbox worker, heartbeats and the fault reporter run as in the
app; bus events are queued and run on this process's main thread, which plays the UI thread
(it runs the residents, the idle timer and the session — as the Kivy thread does).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import queue
import random
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.devices.idcard import events as idcard_events
from kiosk.devices.idcard.driver import StepTimeouts
from kiosk.devices.idcard.simulator import SimDelays
from kiosk.devices.scanner.events import QrScanned
from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.idle import IdleState, IdleTimer
from kiosk.domain.items import load_definitions
from kiosk.domain.person import IdentityError
from kiosk.domain.receipt import STATUS_ALREADY_BOOKED
from kiosk.services.bus import EventBus
from kiosk.services.cache import OfflineCache
from kiosk.services.errors import BackendError
from kiosk.services.fault_reporter import FaultTicketClosed, FaultTicketOpened
from kiosk.services.flow_errors import FlowError
from kiosk.services.flows import FlowsService
from kiosk.services.outbox import OutboxStatus
from kiosk.services.runtime import RuntimeOptions, build_runtime
from kiosk.services.session import EndReason, SessionEnded, SessionManager

ROOT = Path(__file__).resolve().parents[1]
ID_CARDS = ("resident", "long_term", "appended", "fingerprint")
# The demo residents whose phones show e-SSC codes (labels of seeded persons, not codes).
ESSC_RESIDENTS = tuple(f"ESSC-DEMO-RESIDENT-0{n}" for n in range(1, 9))
PHONE = "13912345678"


def soak_config(args) -> Path:
    """The kiosk's config for the soak: demo devices, the platform behind the fault proxy,
    short timers so faults become tickets within seconds."""
    path = Path(args.data_dir) / "soak.toml"
    path.write_text(
        f"""
[kiosk]
device_id = "soak-kiosk-01"
data_dir = "{args.data_dir}"
service_point = "沁源县浸泡测试服务点"
[devices.sscard]
enabled = {"true" if args.vpcd_port else "false"}
[backend]
url = "{args.backend_url}"
secret_file = "{args.secret_file}"
heartbeat_seconds = 1
connect_timeout = 1.0
read_timeout = 2.0
[outbox]
backoff_initial_seconds = 0.2
backoff_max_seconds = 2.0
[faults]
consecutive_failures = 3
check_interval_seconds = 0.25
backend_unreachable_seconds = 1
cover_open_grace_seconds = 0.5
clock_skew_seconds = 120
min_free_bytes = 2000000
""",
        encoding="utf-8",
    )
    return path


# The social security card driver's wait for a reader change (SsCardDriver's default).
SSCARD_POLL_SECONDS = 0.5


def detection_seconds(config, options: RuntimeOptions) -> dict[str, float]:
    """Per fault key, the longest a fault may last before this kiosk decides to open its
    ticket, worked out from the kiosk's own settings: the device's poll and answer timeouts,
    then ``consecutive_failures`` checks (one more for a fault that began just after a check),
    a grace period where the fault has one. The orchestrator holds every fault a little longer
    than this, and on until the kiosk opened the ticket (soak.HOLD_MARGIN)."""
    faults, backend, devices = config.faults, config.backend, config.devices
    checks = (faults.consecutive_failures + 1) * faults.check_interval_seconds
    # A status round asks DLE EOT 1, 2 and 4, each waited for up to status_timeout.
    printer = options.printer_poll_seconds + 3 * devices.printer.status_timeout_seconds + checks
    # A heartbeat begun just before the fault: the interval, then a connection and an answer
    # that never come (heartbeats are POSTs: never retried).
    heartbeat = backend.heartbeat_seconds + backend.connect_timeout + backend.read_timeout
    return {
        "printer.paper_end": printer,
        "printer.offline": printer,
        "printer.cover_open": printer + faults.cover_open_grace_seconds,
        "idcard.offline": devices.idcard.poll_interval + 3 * StepTimeouts().card + checks,
        "sscard.offline": SSCARD_POLL_SECONDS + checks,
        "backend.unreachable": heartbeat
        + faults.backend_unreachable_seconds
        + faults.check_interval_seconds,
        "clock.skew": heartbeat + checks,
        "storage.full": checks,
    }


_EMIT = threading.Lock()


def emit(**message: Any) -> None:
    """One JSON line to the orchestrator, written whole (two threads emit)."""
    with _EMIT:
        sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
        sys.stdout.flush()


class ResidentPhones:
    """The e-SSC app on the residents' phones: a fresh signed code for each scan, minted in the
    platform's database (the e-SSC service's job) with the real clock — a phone's clock is not
    the kiosk's, so the kiosk's jumped ``time.time`` must not date the code. The orchestrator
    created the issuer key, so minting here only reads the database."""

    def __init__(self, db_url: str) -> None:
        from kiosk_backend.db import make_engine, make_session_factory

        self._engine = make_engine(db_url)
        self._sessions = make_session_factory(self._engine)

    def code(self, demo_label: str) -> str:
        from kiosk_backend.essc_codes import mint_for

        with self._sessions() as session:
            return mint_for(session, demo_label=demo_label, now=dt.datetime.now(dt.UTC))

    def close(self) -> None:
        self._engine.dispose()


class MemoryTrace:
    """tracemalloc snapshots of the kiosk process (``--trace-memory DIR``): one after the warm-up,
    one at the end, dumped to *directory*; the report names the allocation sites (by traceback)
    that grew most between them. Off unless asked for: tracing costs time and memory."""

    FRAMES = 12

    def __init__(self, directory: str | None) -> None:
        self.directory = Path(directory) if directory else None
        self.first: tracemalloc.Snapshot | None = None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tracemalloc.start(self.FRAMES)

    def take(self, sessions: int) -> tracemalloc.Snapshot | None:
        if self.directory is None:
            return None
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__),)
        )
        snapshot.dump(str(self.directory / f"session-{sessions}.tracemalloc"))
        if self.first is None:
            self.first = snapshot
        return snapshot

    def growth(self, last: tracemalloc.Snapshot | None, top: int = 15) -> dict[str, Any]:
        """The *top* allocation sites by growth between the two snapshots, our frames first."""
        if self.first is None or last is None:
            return {}
        diffs = last.compare_to(self.first, "traceback")
        total = sum(d.size_diff for d in diffs)
        return {
            "traced_growth_kib": round(total / 1024, 1),
            "top": [
                {
                    "kib": round(d.size_diff / 1024, 1),
                    "blocks": d.count_diff,
                    "where": [
                        f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in d.traceback
                    ][-self.FRAMES :],
                }
                for d in diffs[:top]
            ],
        }


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Kiosk:
    """The headless kiosk: runtime + flows + session + idle timer, UI work on the main thread."""

    def __init__(self, args, clock, idle: tuple[int, int]) -> None:
        self.args = args
        self.clock = clock
        self.ui: queue.Queue = queue.Queue()
        self.bus = EventBus(dispatcher=self.ui.put)
        self.session = SessionManager(publish=self.bus.publish)
        config = load_config(soak_config(args))
        options = RuntimeOptions(
            printer_poll_seconds=0.25,
            health_save_seconds=60,
            idcard_sim_delays=SimDelays(),
            vpcd_port=args.vpcd_port or 35963,
        )
        self.detection = detection_seconds(config, options)
        self.runtime = build_runtime(
            config, Path(args.data_dir), self.bus, session=self.session, options=options
        )
        catalogue = load_catalogue()
        self.flows = FlowsService(
            client=self.runtime.late_client(),
            outbox=self.runtime.outbox,
            answers=self.runtime.backend.answers,
            session=self.session,
            definitions=load_definitions(catalogue=catalogue),
            catalogue=catalogue,
            service_point=config.kiosk.service_point,
            counter_hours=config.kiosk.counter_hours,
            printing=self.runtime.printing,
            cache=OfflineCache(self.runtime.backend.store),
            submit_timeout=3.0,
        )
        self.idle = IdleTimer(
            idle_seconds=idle[0], prompt_seconds=idle[1], clock=time.monotonic, allow_short=True
        )
        self.idle_limit = idle[0] + idle[1]
        self.events: queue.Queue = queue.Queue()
        for kind in (idcard_events.IdCardRead, idcard_events.IdCardReadFailed, QrScanned):
            self.bus.subscribe(kind, self.events.put)
        self.tickets: Counter = Counter()
        self.bus.subscribe(FaultTicketOpened, lambda e: self._ticket("open", e.fault_key))
        self.bus.subscribe(FaultTicketClosed, lambda e: self._ticket("close", e.fault_key))
        self._watch_unsaved_decisions()
        self.outcomes: Counter = Counter()
        self.ended: Counter = Counter()
        self.bus.subscribe(SessionEnded, lambda e: self.ended.update([e.reason.value]))
        self.stuck = 0
        self.max_home_seconds = 0.0
        self.work_orders: list[str] = []
        self.commands: queue.Queue = queue.Queue()
        self.phones = ResidentPhones(args.platform_db)

    def _watch_unsaved_decisions(self) -> None:
        """Tell the orchestrator when the fault reporter decided to open a ticket it cannot save
        yet (its ``fault_save`` log line): a full data disk's own ticket is written to that
        disk, so it is saved — and FaultTicketOpened published — only once space is back."""
        kiosk = self

        class Unsaved(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if getattr(record, "event", "") == "fault_save":
                    kiosk._ticket("decided", str(getattr(record, "fault_key", "")))

        logging.getLogger("kiosk.services.fault_reporter").addHandler(Unsaved(logging.WARNING))

    def _ticket(self, action: str, fault_key: str) -> None:
        self.tickets.update([f"{action} {fault_key}"])
        emit(event="ticket", action=action, key=fault_key, t=time.monotonic())

    # -- the UI thread -----------------------------------------------------------------------
    def pump(self, seconds: float = 0.0) -> None:
        """Run queued UI work and the idle timer for *seconds* (at least once)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.ui.get(timeout=0.02)()
                continue
            except queue.Empty:
                pass
            if self.session.current is not None:
                state = self.idle.poll().state
                if state is IdleState.EXPIRED:
                    self.session.end(EndReason.IDLE_TIMEOUT)
            if time.monotonic() >= deadline:
                return

    def wait_event(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            try:
                return self.events.get_nowait()
            except queue.Empty:
                continue
        return None

    def touch(self) -> None:
        self.idle.activity()

    def home_within(self, limit: float) -> None:
        """Wait for the session to end (back at home); count it stuck if it takes > limit."""
        started = time.monotonic()
        while self.session.current is not None and time.monotonic() - started < limit + 5:
            self.pump(0.05)
        took = time.monotonic() - started
        self.max_home_seconds = max(self.max_home_seconds, took)
        if self.session.current is not None or took > limit:
            self.stuck += 1
            self.session.end(EndReason.RESIDENT_HOME)

    # -- residents ---------------------------------------------------------------------------
    def resident(self, rng: random.Random) -> None:
        self.session.ensure_started()
        self.idle.restart()
        roll = rng.random()
        try:
            if roll < 0.35:
                self.browse(rng)
                self.outcomes["browsed"] += 1
                self.session.end(EndReason.RESIDENT_HOME)
            elif roll < 0.80:
                self.by_id_card(rng)
            elif roll < 0.90:
                self.by_essc(rng)
            else:
                self.browse(rng)
                self.outcomes["walked_away"] += 1
                self.home_within(self.idle_limit + 1.0)  # the idle timer must bring it home
                return
        except (BackendError, IdentityError, FlowError) as exc:
            self.outcomes[f"gave_up_{type(exc).__name__}"] += 1
            self.end_from_screen()
        except Exception as exc:  # the UI would wipe and go home (RecoverFromUiErrors)
            self.outcomes[f"ui_error_{type(exc).__name__}"] += 1
            self.end_from_screen()
        # The resident has left: whatever state the kiosk is in, the idle timeout must bring it
        # home (a card lifted from an unplugged reader is never seen leaving, for one).
        self.home_within(self.idle_limit + 1.0)

    def end_from_screen(self) -> None:
        idcard = self.runtime.devices["idcard"].simulator
        if idcard is not None:
            idcard.lift()
        self.session.end(EndReason.RESIDENT_HOME)

    def browse(self, rng: random.Random) -> None:
        page = self.flows.search(3, query=rng.choice(("司机", "保洁", "普工", "服务")))
        self.touch()
        if page.rows and rng.random() < 0.5:
            self.flows.search(3, query="", page=2)
            self.touch()

    def by_id_card(self, rng: random.Random) -> None:
        reader = self.runtime.devices["idcard"].simulator
        reader.place(rng.choice(ID_CARDS))
        event = self.wait_event(6.0)
        if not isinstance(event, idcard_events.IdCardRead):
            self.outcomes["card_not_read"] += 1
            self.end_from_screen()
            return
        person = self.flows.identify(event)
        self.flows.begin_session(person)
        self.touch()
        if rng.random() < 0.5:
            try:
                self.flows.records(rng.choice((25, 33)))
            except BackendError:
                self.outcomes["records_offline"] += 1
            self.touch()
        if rng.random() < 0.6:
            result = self.book(rng.choice((16, 19, 24, 38, 39, 40)), rng)
            self.outcomes["work_order_accepted" if result.accepted else "work_order_refused"] += 1
            if result.status_text == STATUS_ALREADY_BOOKED:  # one open booking per item
                self.outcomes["work_order_already_booked"] += 1
            if result.local_ref:
                self.work_orders.append(result.local_ref)
            self.outcomes["receipt_printed" if result.printed else "receipt_on_screen"] += 1
            self.touch()
        reader.lift()  # the card leaves: the session ends by itself
        self.outcomes["id_card"] += 1

    def book(self, item_no: int, rng: random.Random):
        """预约柜台办理 of *item_no*: the phone, and one of the offered options for each choice
        the item's form requires (24 原因, 40 挂失/解挂 …), as the resident taps them."""
        values: dict[str, Any] = {"phone": PHONE}
        for form_field in self.flows.work_order_form(item_no).asked:
            definition = form_field.definition
            if definition.required and form_field.options:
                choice = rng.choice(form_field.options)
                values[definition.key] = [choice] if definition.kind == "multi_picker" else choice
        return self.flows.work_order(item_no, values)

    def by_essc(self, rng: random.Random) -> None:
        self.runtime.devices["scanner"].simulator.scan(self.phones.code(rng.choice(ESSC_RESIDENTS)))
        event = self.wait_event(6.0)
        if not isinstance(event, QrScanned):
            self.outcomes["qr_not_read"] += 1
            self.session.end(EndReason.RESIDENT_HOME)
            return
        self.flows.start_session(event)
        self.touch()
        self.flows.my_applications()
        self.outcomes["essc"] += 1
        self.session.end(EndReason.RESIDENT_EXIT)

    # -- faults ------------------------------------------------------------------------------
    def apply(self, fault: str, on: bool) -> None:
        printer = self.runtime.devices["printer"].simulator
        idcard = self.runtime.devices["idcard"].simulator
        if fault == "printer_paper_out":
            printer.set_paper("end" if on else "ok")
        elif fault == "printer_cover_open":
            printer.set_cover_open(on)
        elif fault == "printer_silent":
            printer.set_offline(on)
        elif fault == "idcard_unplugged":
            idcard.unplug() if on else idcard.replug()
        elif fault == "clock_jump":
            self.clock.offset = 3600.0 if on else 0.0
        emit(event="fault_applied", fault=fault, on=on)

    def read_commands(self) -> None:
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["fault"] and len(words) == 3:
                self.apply(words[1], words[2] == "on")
            elif words:
                self.commands.put(words[0])
        self.commands.put("finish")

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> int:
        self.runtime.start()
        if not self.runtime.backend.wait_ready(60):
            emit(event="exited", error=self.runtime.backend.setup_error)
            return 2
        threading.Thread(target=self.read_commands, name="commands", daemon=True).start()
        emit(event="ready", detection_seconds=self.detection)
        while self.commands.get() != "go":
            pass
        rng = random.Random(f"{self.args.seed}:residents")
        sessions, memory = 0, {}
        warm = self.args.warm_up or max(20, self.args.sessions // 10)
        trace = MemoryTrace(self.args.trace_memory)
        while self.commands.empty():
            self.resident(rng)
            sessions += 1
            if sessions == warm:
                gc.collect()
                memory["after_warm_up_kib"] = rss_kib()
                memory["warm_up_sessions"] = warm
                trace.take(sessions)
            if sessions % 10 == 0:
                emit(event="progress", sessions=sessions)
            self.pump(0.0)
        return self.finish(sessions, memory, trace)

    def finish(self, sessions: int, memory: dict, trace: MemoryTrace) -> int:
        gc.collect()
        memory["end_kib"] = rss_kib()
        memory.update(trace.growth(trace.take(sessions)))
        if memory.get("after_warm_up_kib"):
            growth = 100.0 * (memory["end_kib"] / memory["after_warm_up_kib"] - 1.0)
            memory["growth_percent"] = round(growth, 2)
        outbox = self.runtime.outbox
        drained = outbox.drain(120)
        deadline = time.monotonic() + 60  # every fault recovered: its close must be sent too
        while self.runtime.faults.open_faults() and time.monotonic() < deadline:
            self.pump(0.25)
        drained = outbox.drain(60) and drained
        printing = self.runtime.printing
        waiting = len(printing.pending())
        reprint = printing.reprint_pending()  # the operator, paper back in
        entries = outbox.entries(limit=100_000)
        orders = [
            {"status": e.status.value, "reference_no": e.reference_no}
            for e in entries
            if e.kind == "work_order"
        ]
        summary = outbox.summary()
        emit(
            event="report",
            sessions_run=sessions,
            outcomes=dict(self.outcomes),
            stuck=self.stuck,
            sessions_ended_by=dict(self.ended),
            max_seconds_to_home=round(self.max_home_seconds, 2),
            home_limit_seconds=self.idle_limit + 1.0,
            memory=memory,
            memory_growth_percent=memory.get("growth_percent"),
            outbox={
                "pending": summary.pending,
                "delivered": summary.delivered,
                "failed": summary.failed,
                "drained": drained,
            },
            failed_codes=dict(
                Counter(e.error_code for e in entries if e.status is OutboxStatus.FAILED)
            ),
            work_orders=orders,
            work_orders_told_accepted=len(self.work_orders),
            receipts={
                "waiting_after_faults": waiting,
                "reprinted": len(reprint.printed),
                "still_waiting": len(reprint.still_pending),
            },
            kiosk_tickets=dict(self.tickets),
            open_faults_at_end=sorted(self.runtime.faults.open_faults()),
        )
        self.runtime.stop()
        self.phones.close()
        return 0


def run_kiosk(args, clock, idle: tuple[int, int]) -> int:
    return Kiosk(args, clock, idle).run()
