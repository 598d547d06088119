"""A SAM ID card reader on the far end of a pty pair, scripted with cards and faults.

The driver opens :attr:`IdCardSimulator.url`, a symlink to the pty's slave side (like the udev
symlink of a real reader), so it survives :meth:`unplug` / :meth:`replug`. The simulator answers
from its own thread with the same codec the driver uses, and models what a real reader does:
"find" answers 9F only for a card not yet read; after a read, "find" fails until the card is
lifted and laid down again; a card lifted mid-way makes the read fail with SW3 41.

Faults (:class:`Fault`) are one-shot (or ``times``-shot) and match the next command of a kind:
no answer, corrupt checksum, truncated frame, garbage before the frame, a slow answer, any SW3,
arbitrary bytes instead of the answer, or the card lifted just before the command.
Thread-safe; :meth:`stop` ends everything. Records every command it received in ``received``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import shutil
import tempfile
import threading
import tty
from dataclasses import dataclass
from pathlib import Path

from kiosk.devices.idcard import codec, errors, layout
from kiosk.devices.idcard.codec import Command
from kiosk.devices.idcard.demo_cards import SimCard, demo_cards

RECEIVED_LIMIT = 10_000
DEFAULT_SAM_ID = "05.01-20220301-0012345678-1234567890"
GARBAGE = bytes.fromhex("00FFAAAA9613AA55AAAAAA96") + b"noise"


class FaultKind(enum.Enum):
    NO_ANSWER = "no_answer"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    TRUNCATE = "truncate"  # send the first half of the answer, never the rest
    GARBAGE_BEFORE = "garbage_before"
    SLOW = "slow"  # answer after ``delay`` seconds
    STATUS = "status"  # answer with ``sw3`` and no data
    LIFT_CARD = "lift_card"  # the resident lifts the card just before this command
    REPLACE = "replace"  # send ``data`` instead of the answer (arbitrary bytes)


@dataclass
class Fault:
    """One scripted fault for the next ``times`` commands of kind *command* (None: any)."""

    kind: FaultKind
    command: Command | None = None
    sw3: int = 0
    delay: float = 0.0
    times: int = 1
    data: bytes = b""


@dataclass(frozen=True)
class SimDelays:
    """Seconds the simulated device takes before answering (0 for benchmarks)."""

    sam: float = 0.0
    card: float = 0.0  # find / select / probe
    read: float = 0.0


DEMO_DELAYS = SimDelays(sam=0.01, card=0.02, read=0.1)


class _CardState(enum.Enum):
    IDLE = "idle"
    FOUND = "found"
    SELECTED = "selected"
    READ = "read"


class IdCardSimulator:
    """The simulated reader. Call :meth:`start` (returns the URL), then place cards."""

    def __init__(
        self,
        *,
        delays: SimDelays = SimDelays(),
        sam_id: str = DEFAULT_SAM_ID,
        supports_fingerprint: bool = True,
        supports_probe: bool = True,
    ) -> None:
        self.delays = delays
        self.supports_fingerprint = supports_fingerprint
        self.supports_probe = supports_probe
        self._sam_id = codec.encode_sam_id(sam_id)
        self._lock = threading.Lock()
        self._card: SimCard | None = None
        self._card_state = _CardState.IDLE
        self._faults: list[Fault] = []
        self._sam_fault: int | None = None
        self._sam_fault_sticky = True
        self._dir: Path | None = None
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.received: list[Command | None] = []  # every command frame, in order
        self.bad_frames = 0
        self.bytes_in = 0
        self.bytes_out = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The path the driver opens (stable across unplug/replug); "" before start()."""
        return str(self._dir / "ttyIDCARD") if self._dir else ""

    def start(self) -> str:
        """Create the pty and answer on it; returns :attr:`url`."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="idcard-sim-"))
        self.replug()
        return self.url

    def stop(self) -> None:
        self.unplug()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> IdCardSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """The cable is pulled: the pty and the path vanish; the driver's I/O fails."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (self._dir / "ttyIDCARD").unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def replug(self) -> None:
        """The cable is back: a new pty behind the same path."""
        if self._dir is None:
            raise RuntimeError("start() the simulator first")
        self.unplug()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        link = self._dir / "ttyIDCARD"
        os.symlink(os.ttyname(self._slave), link)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(self._master, self._stop), name="idcard-sim", daemon=True
        )
        self._thread.start()

    # -- scripting ---------------------------------------------------------------------------
    def place(self, card: SimCard | str) -> None:
        """Lay *card* (or the name of a demo card) on the reader."""
        if isinstance(card, str):
            card = demo_cards()[card]
        with self._lock:
            self._card = card
            self._card_state = _CardState.IDLE

    def lift(self) -> None:
        with self._lock:
            self._card = None
            self._card_state = _CardState.IDLE

    @property
    def card(self) -> SimCard | None:
        return self._card

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def set_sam_fault(self, sw3: int | None, *, sticky: bool = True) -> None:
        """Make SAM status answer *sw3* (e.g. 0x60); not *sticky*: a SAM reset clears it."""
        with self._lock:
            self._sam_fault = sw3
            self._sam_fault_sticky = sticky

    def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes towards the driver (unsolicited garbage)."""
        self._write(self._master, data)

    # -- serving -----------------------------------------------------------------------------
    def _serve(self, master: int, stop: threading.Event) -> None:
        deframer = codec.Deframer()
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except (OSError, ValueError):
                return  # unplugged
            self.bytes_in += len(data)
            for item in deframer.feed(data):
                if isinstance(item, errors.FrameError):
                    # As a reader does: say what was wrong with the frame it received.
                    self.bad_frames += 1
                    sw3 = 0x10 if isinstance(item, errors.ChecksumMismatch) else 0x11
                    self._write(master, codec.build_response(sw3))
                    continue
                self._answer(master, item.payload, stop)

    def _answer(self, master: int, payload: bytes, stop: threading.Event) -> None:
        try:
            frame = codec.parse_command(payload)
        except errors.BadLength:
            self._write(master, codec.build_response(0x11))
            return
        command = frame.command
        if len(self.received) >= RECEIVED_LIMIT:  # demo mode polls for days: stay bounded
            del self.received[: RECEIVED_LIMIT // 2]
        self.received.append(command)
        fault = self._take_fault(command)
        if fault is not None and fault.kind is FaultKind.LIFT_CARD:
            self.lift()
            fault = None
        if fault is not None and fault.kind is FaultKind.STATUS:
            response = codec.build_response(fault.sw3)
        else:
            response = self._respond(command, frame.data)
        stop.wait(self._delay(command))
        if fault is None:
            self._write(master, response)
        elif fault.kind is FaultKind.NO_ANSWER:
            return
        elif fault.kind is FaultKind.CORRUPT_CHECKSUM:
            self._write(master, response[:-1] + bytes([response[-1] ^ 0xFF]))
        elif fault.kind is FaultKind.TRUNCATE:
            self._write(master, response[: max(len(codec.PREAMBLE) + 3, len(response) // 2)])
        elif fault.kind is FaultKind.GARBAGE_BEFORE:
            self._write(master, GARBAGE + response)
        elif fault.kind is FaultKind.REPLACE:
            self._write(master, fault.data)
        elif fault.kind is FaultKind.SLOW:
            stop.wait(fault.delay)
            self._write(master, response)
        else:
            self._write(master, response)

    def _take_fault(self, command: Command | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.command is None or fault.command is command:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _delay(self, command: Command | None) -> float:
        if command in (Command.READ_BASE, Command.READ_BASE_FINGERPRINT):
            return self.delays.read
        if command in (Command.FIND_CARD, Command.SELECT_CARD, Command.READ_MANAGEMENT_NUMBER):
            return self.delays.card
        return self.delays.sam

    def _respond(self, command: Command | None, data: bytes) -> bytes:
        """The reader's answer to *command* in the current card/SAM state."""
        with self._lock:
            if command is Command.RESET_SAM:
                if not self._sam_fault_sticky:
                    self._sam_fault = None
                return codec.build_response(codec.SW3_SUCCESS)
            if command is Command.SAM_STATUS:
                return codec.build_response(self._sam_fault or codec.SW3_SUCCESS)
            if command is Command.READ_SAM_ID:
                return codec.build_response(codec.SW3_SUCCESS, self._sam_id)
            if self._sam_fault is not None:
                return codec.build_response(self._sam_fault)
            if command is Command.FIND_CARD:
                return self._find()
            if command is Command.SELECT_CARD:
                return self._select()
            if command in (Command.READ_BASE, Command.READ_BASE_FINGERPRINT):
                return self._read_base(command is Command.READ_BASE_FINGERPRINT)
            if command is Command.READ_APPENDED_ADDRESS:
                return self._read_appended()
            if command is Command.READ_MANAGEMENT_NUMBER and self.supports_probe:
                if self._card is None:
                    return codec.build_response(0x80)
                if self._card_state in (_CardState.SELECTED, _CardState.READ):
                    return codec.build_response(codec.SW3_SUCCESS, self._card.management_number)
                return codec.build_response(0x41)
            return codec.build_response(0x21)

    def _find(self) -> bytes:
        if self._card is None or self._card_state is _CardState.READ:
            return codec.build_response(0x80)
        self._card_state = _CardState.FOUND
        return codec.build_response(codec.SW3_CARD_FOUND, bytes(4))

    def _select(self) -> bytes:
        if self._card is None or self._card_state is not _CardState.FOUND:
            return codec.build_response(0x81)
        self._card_state = _CardState.SELECTED
        return codec.build_response(codec.SW3_SUCCESS, self._card.management_number)

    def _read_base(self, with_fingerprint: bool) -> bytes:
        card = self._card
        if card is None or self._card_state not in (_CardState.SELECTED, _CardState.READ):
            return codec.build_response(0x41)
        if with_fingerprint and not self.supports_fingerprint:
            return codec.build_response(0x21)
        self._card_state = _CardState.READ
        fingerprint = card.fingerprint if with_fingerprint else None
        return codec.build_response(
            codec.SW3_SUCCESS, layout.encode_base_info(card.text, card.photo, fingerprint)
        )

    def _read_appended(self) -> bytes:
        card = self._card
        if card is None or self._card_state not in (_CardState.SELECTED, _CardState.READ):
            return codec.build_response(0x41)
        if card.appended_address is None:
            return codec.build_response(0x91)
        return codec.build_response(codec.SW3_SUCCESS, card.appended_address)

    def _write(self, master: int, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(master, view)
                self.bytes_out += written
                view = view[written:]
        except OSError:
            return  # unplugged while answering


def start_simulated_reader(
    *,
    delays: SimDelays = SimDelays(),
    card: SimCard | str | None = None,
    **options: object,
) -> tuple[str, IdCardSimulator]:
    """Start a simulator (optionally with *card* on it); returns (url for the driver, simulator).

    *options* go to :class:`IdCardSimulator`. The caller stops the simulator.
    """
    simulator = IdCardSimulator(delays=delays, **options)  # type: ignore[arg-type]
    url = simulator.start()
    if card is not None:
        simulator.place(card)
    return url, simulator
