"""Soak: many resident sessions through the kiosk's own services while devices and the network
fail around them, then prove nothing was lost, duplicated, stuck or leaked.

    python benchmarks/soak.py --sessions 10000 --seed 1      # make soak
    python benchmarks/soak.py --sessions 120 --seed 7        # the short run in the test suite

Two processes. The *kiosk* (this script with ``--kiosk``) builds the real runtime from config —
printer, ID card reader and QR scanner simulators on real ptys, the outbox, the print queue, the
signed client, heartbeats and the fault reporter — and runs residents through
:class:`~kiosk.services.flows.FlowsService` the way the flow screens do: browse jobs; lay an ID
card on the reader, identify, look up records, book a counter item (saved to the outbox before
anything says 已受理, receipt printed or queued), lift the card; scan an e-SSC code
(fresh and signed each time, as the resident's phone shows it); walk away
mid-session (the idle timeout must bring the kiosk home). Pictures are off: no Kivy, no window
— ten thousand sessions through Kivy's input path under software GL would take most of a day;
what the soak is after (faults, persistence, recovery) lives below the screens.

The *orchestrator* (this script without ``--kiosk``) runs the reference platform as its own
process (``kiosk backend serve``, SQLite) behind a small TCP fault proxy, starts the kiosk, and
injects faults at random moments, one at a time, each held long enough for the kiosk to see it
by its own thresholds (which it reports; see HOLD_MARGIN), lifted, then a recovery pause:

- printer paper out, cover open, silent (no answer at all);
- the ID card reader's pty closed and reopened (unplug / replug);
- the platform down (its process killed, restarted later), slow (answers later than the
  kiosk's read timeout), answering 503, unreachable (connections accepted, never answered);
- the data directory's filesystem full (a 48 MB tmpfs mounted for the run; needs root);
- the kiosk's wall clock jumped an hour ahead and back (``time.time`` of the kiosk process is
  replaced by a jumpable clock before the kiosk is imported — every clock the services read
  defaults to it; ``datetime.now`` for receipt dates is not moved);
- pcscd killed (SIGKILL) and restarted: a private pcscd, never the machine's — started in its
  own mount namespace (``unshare --mount`` with a tmpfs on /run/pcscd, restarted through
  ``nsenter``) with the vsmartcard reader on other ports; the kiosk reaches it through
  ``PCSCLITE_CSOCK_NAME`` (needs root; skipped otherwise).

Afterwards: every outbox entry delivered and found exactly once on the platform (``lost``,
``duplicated``); every session back home within its timeout (``stuck``); the kiosk's memory
growth from the first tenth of the run to the end (``memory_growth_percent``); and each fault
episode opened and auto-closed exactly one ticket of its fault key (``tickets``; an episode
that did not is listed in ``episodes_failed``). Prints one JSON object; exit 1 if a check
failed. ``--trace-memory DIR`` adds where the kiosk's memory grew (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KIOSK_ID = "soak-kiosk-01"
IDLE_SECONDS, PROMPT_SECONDS = 2, 1
HOME_SLACK_SECONDS = 2.0  # polling and a busy machine on top of idle + prompt
READ_TIMEOUT = 2.0
TMPFS_BYTES = 48 * 1024 * 1024
COUNTER_ITEMS = (16, 17, 19, 20, 24, 30, 38, 39, 40)
SEARCH_TERMS = ("司机", "保洁", "普工", "服务", "技术")
# fault → the fault key whose ticket it must open
FAULTS: dict[str, str] = {
    "printer_paper_out": "printer.paper_end",
    "printer_cover_open": "printer.cover_open",
    "printer_silent": "printer.offline",
    "idcard_unplugged": "idcard.offline",
    "backend_down": "backend.unreachable",
    "backend_slow": "backend.unreachable",
    "backend_5xx": "backend.unreachable",
    "backend_unreachable": "backend.unreachable",
    "disk_full": "storage.full",
    "clock_jump": "clock.skew",
    "pcscd_killed": "sscard.offline",
}
# How long a fault lasts comes from the kiosk: it reports, per fault key, the longest a fault
# may last before it decides to open the ticket (soak_kiosk.detection_seconds, from its own
# settings). Each fault is held HOLD_MARGIN times that, and on until the kiosk opened the
# ticket (a starved machine is slower than its settings promise) — for at most GIVE_UP_FACTOR
# times that; then the episode fails as "not_detected".
HOLD_MARGIN = 1.25
GIVE_UP_FACTOR = 6.0
RECOVERY_SECONDS = 3.0
CLOSE_TIMEOUT_SECONDS = 40.0


# =============================================================================================
# The kiosk process
# =============================================================================================


class JumpableClock:
    """The kiosk's wall clock: real time plus an offset the orchestrator may change."""

    def __init__(self, real=time.time) -> None:
        self._real = real
        self.offset = 0.0

    def __call__(self) -> float:
        return self._real() + self.offset


def kiosk_main(args) -> int:
    clock = JumpableClock()
    time.time = clock  # before any kiosk module binds time.time as its default clock
    sys.path.insert(0, str(ROOT))
    from soak_kiosk import run_kiosk

    return run_kiosk(args, clock, (IDLE_SECONDS, PROMPT_SECONDS))


# =============================================================================================
# The orchestrator
# =============================================================================================


class FaultProxy:
    """A TCP proxy kiosk → platform whose mode the soak switches: pass, slow, 5xx, blackhole.

    Switching closes every open connection, so keep-alive connections see the new mode at once.
    Runs its own asyncio loop on a thread.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def set_mode(self, mode: str) -> None:
        def switch() -> None:
            self.mode = mode
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(switch)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader, writer) -> None:
        self._writers.add(writer)
        try:
            if self.mode == "5xx":
                await _read_request(reader)
                body = (
                    b'{"code":"unavailable","message":"\\u670d\\u52a1\\u6682\\u4e0d\\u53ef\\u7528"}'
                )
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                return
            if self.mode == "blackhole":
                await asyncio.sleep(60)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self.upstream_port
                )
            except OSError:
                return  # the platform is down: the kiosk sees the connection closed
            self._writers.add(up_writer)
            delay = READ_TIMEOUT + 1.0 if self.mode == "slow" else 0.0
            await asyncio.gather(
                _pipe(reader, up_writer, 0.0),
                _pipe(up_reader, writer, delay),
                return_exceptions=True,
            )
            self._writers.discard(up_writer)
        finally:
            self._writers.discard(writer)
            writer.close()


async def _read_request(reader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)


async def _pipe(reader, writer, delay: float) -> None:
    try:
        while data := await reader.read(65536):
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


class PrivatePcscd:
    """pcscd in a mount namespace of its own, so killing it never touches the machine's pcscd.

    A holder process keeps the namespace (a tmpfs on /run/pcscd) alive across restarts; pcscd
    is started in it with ``nsenter`` and a reader.conf.d naming vpcd on *port* (and port + 1).
    Clients connect through ``socket_path`` (``PCSCLITE_CSOCK_NAME``).
    """

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self.conf = workdir / "reader.conf.d"
        self.holder: subprocess.Popen | None = None
        self.daemon: subprocess.Popen | None = None

    @staticmethod
    def possible() -> bool:
        return os.geteuid() == 0 and all(shutil.which(t) for t in ("pcscd", "unshare", "nsenter"))

    @property
    def socket_path(self) -> str:
        return f"/proc/{self.holder.pid}/root/run/pcscd/pcscd.comm"

    def start(self) -> None:
        self.conf.mkdir()
        (self.conf / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
            "LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n"
            f"CHANNELID    0x{self.port:04X}\n"
        )
        self.holder = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount -t tmpfs -o size=1m tmpfs /run/pcscd && exec sleep 100000",
            ]
        )
        deadline = time.monotonic() + 10
        while "tmpfs /run/pcscd" not in _mounts_of(self.holder.pid):
            if time.monotonic() > deadline or self.holder.poll() is not None:
                raise RuntimeError("could not make a private /run/pcscd")
            time.sleep(0.05)
        self.start_daemon()

    def start_daemon(self) -> None:
        # A killed pcscd leaves its socket and pid file: remove them, so the wait below sees
        # the new daemon's socket, not the old one's.
        run = Path(self.socket_path).parent
        for name in ("pcscd.comm", "pcscd.pid"):
            (run / name).unlink(missing_ok=True)
        self.daemon = subprocess.Popen(
            [
                "nsenter",
                f"--mount=/proc/{self.holder.pid}/ns/mnt",
                "pcscd",
                "-f",
                "-c",
                str(self.conf),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not os.path.exists(self.socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError("the private pcscd did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait()
            self.daemon = None

    def stop(self) -> None:
        self.kill()
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()


def _mounts_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/mounts").read_text()
    except OSError:
        return ""


def _free_port_pair() -> int:
    import socket

    for base in range(36100, 36900, 2):
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("0.0.0.0", base))
                b.bind(("0.0.0.0", base + 1))
            except OSError:
                continue
            return base
    raise RuntimeError("no free port pair for a private vpcd")


class Orchestrator:
    def __init__(self, args, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(f"{args.seed}:faults")
        self.db_url = f"sqlite:///{workdir / 'platform.sqlite3'}"
        self.data_dir = workdir / "kiosk-data"
        self.tmpfs = False
        self.pcscd: PrivatePcscd | None = None
        self.backend = None
        self.proxy: FaultProxy | None = None
        self.kiosk: subprocess.Popen | None = None
        self.episodes: list[dict[str, Any]] = []
        self.tickets_seen: list[tuple[str, str, float]] = []
        self.detection: dict[str, float] = {}
        self.lines: queue.Queue[dict] = queue.Queue()

    # -- set-up ------------------------------------------------------------------------------
    def prepare(self) -> None:
        from kiosk_backend.app import prepare_database
        from kiosk_backend.essc_codes import mint_in_database
        from kiosk_backend.provision import add_kiosk, new_secret_hex, write_secret_file
        from kiosk_backend.settings import ServerSettings
        from kiosk_backend.testing import start_served

        prepare_database(
            ServerSettings(db_url=self.db_url, seed_demo=True, seed_postings=400, seed_persons=60)
        )
        secret = new_secret_hex()
        add_kiosk(self.db_url, KIOSK_ID, secret, "沁源县浸泡测试服务点", region_code="140431")
        # The e-SSC issuer key is created on the first code: here, so that the kiosk process,
        # which mints its residents' codes (soak_kiosk.ResidentPhones), only reads.
        mint_in_database(self.db_url, demo_label="ESSC-DEMO-RESIDENT-01")
        self.data_dir.mkdir(mode=0o700)
        if os.geteuid() == 0 and not self.args.no_tmpfs:
            subprocess.run(
                [
                    "mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={TMPFS_BYTES},mode=0700",
                    "tmpfs",
                    str(self.data_dir),
                ],
                check=True,
            )
            self.tmpfs = True
        write_secret_file(self.workdir / "device.secret", secret)
        if PrivatePcscd.possible() and not self.args.no_pcscd:
            self.pcscd = PrivatePcscd(self.workdir, _free_port_pair())
            self.pcscd.start()
        self.backend = start_served(self.db_url)
        self.proxy = FaultProxy(self.backend.port)
        self.proxy.start()

    def start_kiosk(self) -> None:
        self.kiosk = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--kiosk",
                "--sessions",
                str(self.args.sessions),
                "--seed",
                str(self.args.seed),
                "--data-dir",
                str(self.data_dir),
                "--backend-url",
                f"http://127.0.0.1:{self.proxy.port}",
                "--secret-file",
                str(self.workdir / "device.secret"),
                "--platform-db",
                self.db_url,
                *(["--vpcd-port", str(self.pcscd.port)] if self.pcscd else []),
                *(["--warm-up", str(self.args.warm_up)] if self.args.warm_up else []),
                *(
                    ["--trace-memory", str(Path(self.args.trace_memory).resolve())]
                    if self.args.trace_memory
                    else []
                ),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / "kiosk.stderr", "wb"),  # noqa: SIM115
            text=True,
            cwd=ROOT,
            env={
                **os.environ,
                "KIVY_NO_ARGS": "1",
                "PYTHONPATH": str(ROOT / "benchmarks"),
                **({"PCSCLITE_CSOCK_NAME": self.pcscd.socket_path} if self.pcscd else {}),
            },
        )
        threading.Thread(target=self._read_kiosk, daemon=True).start()
        self._wait_for("ready", 120)

    def _read_kiosk(self) -> None:
        for line in self.kiosk.stdout:
            with contextlib.suppress(ValueError):
                self.lines.put(json.loads(line))
        self.lines.put({"event": "exited"})

    def _wait_for(self, event: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            self._note(message)
            if message.get("event") == event:
                return message
            if message.get("event") == "exited":
                raise RuntimeError(f"kiosk exited waiting for {event}: {self._stderr_tail()}")
        raise RuntimeError(f"kiosk did not report {event} within {timeout} s")

    def _stderr_tail(self) -> str:
        return (self.workdir / "kiosk.stderr").read_text(errors="replace")[-3000:]

    def tell(self, command: str) -> None:
        self.kiosk.stdin.write(command + "\n")
        self.kiosk.stdin.flush()

    # -- faults ------------------------------------------------------------------------------
    def inject(self, fault: str, on: bool) -> None:
        if fault.startswith(("printer_", "idcard_", "clock_")):
            self.tell(f"fault {fault} {'on' if on else 'off'}")
            self._wait_for("fault_applied", 30)
        elif fault == "pcscd_killed":
            self.pcscd.kill() if on else self.pcscd.start_daemon()
        elif fault == "backend_down":
            if on:
                self.backend.stop(kill=True)
            else:
                from kiosk_backend.testing import start_served

                self.backend = start_served(self.db_url, port=self.backend.port)
        elif fault.startswith("backend_"):
            self.proxy.set_mode(
                {"backend_slow": "slow", "backend_5xx": "5xx", "backend_unreachable": "blackhole"}[
                    fault
                ]
                if on
                else "pass"
            )
        elif fault == "disk_full":
            ballast = self.data_dir / "ballast.bin"
            if on:
                with open(ballast, "wb") as fh, contextlib.suppress(OSError):
                    while True:
                        fh.write(b"\0" * (1 << 20))
                        fh.flush()
            else:
                ballast.unlink(missing_ok=True)

    def faults_to_run(self) -> list[str]:
        kinds = [f for f in FAULTS if f != "disk_full" or self.tmpfs]
        kinds = [f for f in kinds if f != "pcscd_killed" or self.pcscd]
        return kinds

    def run(self) -> dict[str, Any]:
        self.progress = {"sessions": 0}
        self.tell("go")
        kinds = self.faults_to_run()
        cycle: list[str] = []
        started = time.monotonic()
        while True:
            if not cycle:
                if self.progress.get("sessions", 0) >= self.args.sessions and self.episodes:
                    break
                cycle = kinds[:]
                self.rng.shuffle(cycle)
            fault = cycle.pop()
            time.sleep(self.rng.uniform(0.5, 1.5))  # a random moment
            self._drain_progress()
            self.episodes.append(self._episode(fault))
            time.sleep(RECOVERY_SECONDS)
            self._drain_progress()
        self.tell("finish")
        report = self._wait_for("report", 300)
        report["run_seconds"] = round(time.monotonic() - started, 1)
        return report

    def _episode(self, fault: str) -> dict[str, Any]:
        """Inject *fault*, hold it until the kiosk decided to open its ticket (see HOLD_MARGIN),
        lift it and wait for the close; what happened, in seconds from the injection."""
        key = FAULTS[fault]
        bound = self.detection[key]
        # A ticket of this key the kiosk opened by itself (a heartbeat slower than its read
        # timeout on a starved machine) would swallow the episode's: wait for it to close. It
        # stays in the platform's count, so the run still fails on it ("tickets").
        already_open = self._open_since_start(key)
        if already_open is not None:
            self._wait_ticket(("close",), key, already_open, time.monotonic() + 60)
        at = self.progress.get("sessions", 0)
        since = len(self.tickets_seen)
        self.inject(fault, True)
        injected = time.monotonic()
        time.sleep(HOLD_MARGIN * bound)
        # "decided": the ticket could not be saved yet (the disk-full ticket, on that disk)
        decided = self._wait_ticket(
            ("open", "decided"), key, since, injected + GIVE_UP_FACTOR * bound
        )
        held = time.monotonic() - injected
        self.inject(fault, False)
        lifted = time.monotonic()
        # The next fault waits until the kiosk saw this one end (its ticket closed): two
        # outages with no working moment between are one outage, to the kiosk too.
        closed = self._wait_ticket(("close",), key, since, lifted + CLOSE_TIMEOUT_SECONDS)
        opened = self._wait_ticket(("open",), key, since, time.monotonic())
        outcome = (
            "not_detected"
            if decided is None
            else "not_opened"
            if opened is None
            else "not_closed"
            if closed is None
            else "ok"
        )
        return {
            "fault": fault,
            "key": key,
            "at_session": at,
            "detect_bound_s": round(bound, 2),
            "held_s": round(held, 1),
            "decided_s": _since(injected, decided),
            "opened_s": _since(injected, opened),
            "closed_s": _since(lifted, closed),
            "outcome": outcome,
        }

    def _drain_progress(self) -> None:
        while True:
            try:
                message = self.lines.get_nowait()
            except queue.Empty:
                return
            self._note(message)

    def _note(self, message: dict) -> None:
        if message.get("event") == "progress":
            self.progress = message
        elif message.get("event") == "ticket":
            # CLOCK_MONOTONIC is one clock for every process of the machine: the kiosk's
            # stamp says when it decided, not when this thread got round to reading it.
            at = message.get("t", time.monotonic())
            self.tickets_seen.append((message["action"], message["key"], at))
        elif message.get("event") == "ready":
            self.detection = message["detection_seconds"]

    def _open_since_start(self, key: str) -> int | None:
        """Index in the tickets seen of the open of a ticket of *key* not closed since."""
        opened_at = None
        for index, (action, seen_key, _at) in enumerate(self.tickets_seen):
            if seen_key == key and action in ("open", "close"):
                opened_at = index if action == "open" else None
        return opened_at

    def _wait_ticket(
        self, actions: tuple[str, ...], key: str, since: int, deadline: float
    ) -> float | None:
        """When (monotonic) the kiosk first reported one of *actions* for a ticket of *key*
        after index *since* of the tickets seen; None if not by *deadline*."""
        while True:
            for seen_action, seen_key, at in self.tickets_seen[since:]:
                if seen_key == key and seen_action in actions:
                    return at
            if time.monotonic() >= deadline:
                return None
            with contextlib.suppress(queue.Empty):
                self._note(self.lines.get(timeout=0.2))

    # -- verification --------------------------------------------------------------------------
    def verify(self, report: dict[str, Any]) -> dict[str, Any]:
        from sqlalchemy import select

        from kiosk_backend.db import make_engine, make_session_factory
        from kiosk_backend.ledger_models import LedgerTicket
        from kiosk_backend.models import Application

        engine = make_engine(self.db_url)
        try:
            with make_session_factory(engine)() as session:
                numbers = Counter(
                    session.scalars(
                        select(Application.number).where(Application.kiosk_id == KIOSK_ID)
                    )
                )
                tickets = session.execute(
                    select(
                        LedgerTicket.fault_key, LedgerTicket.state, LedgerTicket.client_ref
                    ).where(LedgerTicket.kiosk_id == KIOSK_ID, LedgerTicket.kind == "device_fault")
                ).all()
        finally:
            engine.dispose()
        orders = report.pop("work_orders")
        delivered = [o for o in orders if o["status"] == "delivered"]
        lost = [o for o in orders if o["status"] != "delivered" or o["reference_no"] not in numbers]
        # A booking of an item the resident has booked already and not yet done is answered
        # with that booking (no new application): several entries may share one number. An
        # application no entry was answered with was filed twice.
        referenced = {o["reference_no"] for o in delivered}
        duplicated = sum(n - 1 for n in numbers.values()) + len(set(numbers) - referenced)
        expected = Counter(e["key"] for e in self.episodes)
        opened = Counter(t.fault_key for t in tickets)
        still_open = [t.fault_key for t in tickets if t.state != "closed"]
        return {
            "work_orders_saved": len(orders),
            "work_orders_on_platform": len(numbers),
            "work_orders_answered_with_an_open_booking": len(delivered) - len(referenced),
            "lost": len(lost),
            "duplicated": duplicated,
            "tickets": {
                "expected_by_fault_key": dict(expected),
                "opened_by_fault_key": dict(opened),
                "still_open": still_open,
                "one_per_fault": opened == expected and not still_open,
            },
        }

    def close(self) -> None:
        if self.kiosk is not None and self.kiosk.poll() is None:
            self.kiosk.kill()
            self.kiosk.wait()
        if self.backend is not None:
            self.backend.stop()
        if self.pcscd is not None:
            self.pcscd.stop()
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.data_dir)], check=False)


def _since(start: float, at: float | None) -> float | None:
    return None if at is None else round(at - start, 1)


def episode_summary(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The episodes in the JSON: each one that failed in full (which fault, at which session,
    how long it was held, when its ticket opened and closed), and per fault the slowest."""
    by_fault: dict[str, dict[str, Any]] = {}
    for episode in episodes:
        row = by_fault.setdefault(
            episode["fault"],
            {"count": 0, "detect_bound_s": episode["detect_bound_s"], "held_max_s": 0.0},
        )
        row["count"] += 1
        row["held_max_s"] = max(row["held_max_s"], episode["held_s"])
        for field in ("decided_s", "opened_s", "closed_s"):
            if episode[field] is not None:
                row[f"{field[:-2]}_max_s"] = max(
                    row.get(f"{field[:-2]}_max_s", 0.0), episode[field]
                )
    closes = [e["closed_s"] for e in episodes if e["closed_s"] is not None]
    return {
        "episodes": len(episodes),
        "episode_outcomes": dict(Counter(e["outcome"] for e in episodes)),
        "episodes_failed": [e for e in episodes if e["outcome"] != "ok"],
        "slowest_close_s": max(closes, default=None),
        "faults_injected": {fault: row["count"] for fault, row in by_fault.items()},
        "episodes_by_fault": by_fault,
    }


def orchestrate(args) -> int:
    sys.path.insert(0, str(ROOT))
    load_before = [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    orchestrator = Orchestrator(args, workdir)
    try:
        orchestrator.prepare()
        orchestrator.start_kiosk()
        report = orchestrator.run()
        result = {"sessions": args.sessions, "seed": args.seed}
        result.update(orchestrator.verify(report))
        result.update(report)
        result.update(episode_summary(orchestrator.episodes))
        result["faults_not_run"] = {
            **({} if orchestrator.pcscd else {"pcscd_killed": "needs root, pcscd and unshare"}),
            **({} if orchestrator.tmpfs else {"disk_full": "needs root for the tmpfs"}),
        }
        result["load_average"] = {
            "before": load_before,
            "after": [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]],
        }
    finally:
        orchestrator.close()
        shutil.rmtree(workdir, ignore_errors=True)
    ok = (
        result["lost"] == 0
        and result["duplicated"] == 0
        and result["stuck"] == 0
        and result["tickets"]["one_per_fault"]
        and not result["episodes_failed"]
    )
    result["ok"] = ok
    print(json.dumps(result, ensure_ascii=False))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--no-tmpfs", action="store_true", help="skip the disk-full fault")
    parser.add_argument("--no-pcscd", action="store_true", help="skip the pcscd fault")
    parser.add_argument(
        "--warm-up", type=int, help="sessions before the first memory figure (default: a tenth)"
    )
    parser.add_argument(
        "--trace-memory",
        metavar="DIR",
        help="tracemalloc snapshots of the kiosk after the warm-up and at the end, dumped to DIR;"
        " the JSON names the allocation sites that grew most",
    )
    parser.add_argument("--vpcd-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--kiosk", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--backend-url", help=argparse.SUPPRESS)
    parser.add_argument("--secret-file", help=argparse.SUPPRESS)
    parser.add_argument("--platform-db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return kiosk_main(args) if args.kiosk else orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())
