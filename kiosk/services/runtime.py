"""Everything that runs beside the UI, built from config: devices, simulators, the platform.

:func:`build_runtime` is the composition root's one call. It builds (without starting) every
enabled device — its simulator too when the url is ``sim://`` — the backend runtime (client,
outbox, offline cache, heartbeat; the embedded reference server in demo mode), the printing
service, the session wiring and a periodic device-health recorder, and returns them in a
:class:`KioskRuntime`.

``KioskRuntime.components`` lists ``name``/``start()``/``stop()`` objects in a safe start order:
session wiring → backend → fault reporter → printer → ID card reader → social security card
reader → scanner → health recorder; stop in reverse. The fault reporter turns device faults,
an unreachable platform, a full data disk and a wrong clock into 问题台账 tickets. Each ``start()`` returns at once (device I/O runs on the
devices' own threads) and never raises: a device that cannot be built or started is kept as a
component whose health says FAULT or OFFLINE with the reason, and the others start normally.
A port that cannot be opened is reported OFFLINE by the driver itself, which keeps retrying.

Session wiring: a social security card taken out ends the session when it is the resident's
card (:meth:`SessionManager.card_removed`); an ID card lifted ends it when the resident was
identified by ID card. Handlers run wherever the bus delivers (the UI thread in the app).

No Kivy here. Health snapshots never carry personal data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from kiosk.config import KioskConfig
from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.devices.idcard.simulator import DEMO_DELAYS, SimDelays
from kiosk.devices.sscard.vpcd import DEFAULT_PORT as VPCD_DEFAULT_PORT
from kiosk.domain.person import IdentitySource
from kiosk.services.acceptance import save_device_health
from kiosk.services.audit import AuditLog
from kiosk.services.backend_runtime import BackendRuntime
from kiosk.services.bus import EventBus
from kiosk.services.demo_controls import DemoControls
from kiosk.services.embedded_backend import demo_essc_code
from kiosk.services.fault_reporter import FaultReporter
from kiosk.services.operator_roster import OperatorRoster
from kiosk.services.session import EndReason, SessionManager

log = logging.getLogger(__name__)

SIM_URL = "sim://"
DEVICE_NAMES = ("printer", "idcard", "sscard", "scanner")  # start order of the devices
DISABLED_DETAIL = "已在配置中停用"
BUILD_FAILED_DETAIL = "设备配置错误，未能启动"
START_FAILED_DETAIL = "设备启动失败"
DEMO_PLATFORM_WAIT_SECONDS = 180.0  # a demo e-SSC code waits this long for the platform
# What the platform's heartbeat schema accepts (kiosk_backend DeviceHealthIn).
HEARTBEAT_TEXT_MAX = 200
HEARTBEAT_COUNTERS_MAX = 30
HEARTBEAT_COUNTER_NAME_MAX = 40


class RuntimeComponent(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class RuntimeOptions:
    """Knobs for tests and benchmarks; the defaults are what the kiosk runs with.

    *pcsc_available* returns pcscd's reader names or None when pcscd is unusable (None: ask
    pcscd); *vpcd_port* is the vpcd slot the virtual card connects to. Seconds throughout.
    """

    health_save_seconds: float = 10.0
    printer_poll_seconds: float = 5.0
    pcsc_available: Callable[[], list[str] | None] | None = None
    vpcd_port: int = VPCD_DEFAULT_PORT
    idcard_sim_delays: SimDelays = DEMO_DELAYS


# -- device components -------------------------------------------------------------------------


class DeviceComponent:
    """One device runtime (driver + optional simulator) as a component with a health().

    ``start()`` and ``stop()`` never raise: a failed start is logged and reported by health()
    as OFFLINE with the error; stop() is safe after a failed or missing start.
    """

    def __init__(self, name: str, runtime: Any, health: Callable[[], DeviceHealth]) -> None:
        self.name = name
        self.runtime = runtime
        self._health = health
        self.start_error = ""

    @property
    def simulator(self) -> Any:
        """The device's simulator (None for a real device)."""
        return getattr(self.runtime, "simulator", None)

    def start(self) -> None:
        try:
            self.runtime.start()
        except Exception as exc:  # one device must not keep the kiosk (or the others) down
            self.start_error = f"{type(exc).__name__}: {exc}"
            log.exception("device start failed", extra={"device": self.name})

    def stop(self) -> None:
        try:
            self.runtime.stop()
        except Exception:
            log.exception("device stop failed", extra={"device": self.name})

    def health(self) -> DeviceHealth:
        if self.start_error:
            return DeviceHealth(
                name=self.name,
                state=DeviceState.OFFLINE,
                detail=START_FAILED_DETAIL,
                last_error=self.start_error,
            )
        try:
            return self._health()
        except Exception as exc:  # a health snapshot must never break the status screen
            return DeviceHealth(
                name=self.name, state=DeviceState.UNKNOWN, last_error=f"{type(exc).__name__}"
            )


class PrinterComponent(DeviceComponent):
    """The printer, plus a worker that re-reads its status on request.

    The driver's own monitor asks every few seconds; the first answer right after start, and
    one right after a demo fault, come from :meth:`refresh` so health is current at once.
    """

    def __init__(self, runtime: Any, print_queue: Any = None) -> None:
        super().__init__("printer", runtime, runtime.driver.health)
        self._print_queue = print_queue  # closed after the printer stopped
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        super().start()
        if self.start_error:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="printer-refresh", daemon=True)
        self._thread.start()
        self.refresh()

    def refresh(self) -> None:
        """Ask for a status query soon (returns at once; any thread)."""
        self._wanted.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        super().stop()
        if self._print_queue is not None:
            self._print_queue.close()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping.is_set():
                return
            try:
                self.runtime.driver.status()  # never raises by contract; guard anyway
            except Exception:
                log.exception("printer status refresh failed", extra={"device": self.name})


class UnavailableDevice:
    """A device that is not running: disabled in config, or its config could not be built."""

    def __init__(self, name: str, state: DeviceState, detail: str, last_error: str = "") -> None:
        self.name = name
        self.runtime = None
        self.simulator = None
        self.start_error = ""
        self._health = DeviceHealth(name=name, state=state, detail=detail, last_error=last_error)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def health(self) -> DeviceHealth:
        return self._health


# -- the other components ----------------------------------------------------------------------


class HttpSessions:
    """A ``requests.Session`` factory that remembers what it made, so stop() can close the
    keep-alive connections (BackendRuntime.stop leaves its clients' sessions open)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []

    def __call__(self) -> requests.Session:
        session = requests.Session()
        with self._lock:
            self._sessions.append(session)
        return session

    def close_all(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


class BackendComponent:
    """The backend runtime as a component: stop() also closes its HTTP connections."""

    name = "backend"

    def __init__(self, backend: BackendRuntime, sessions: HttpSessions) -> None:
        self.backend = backend
        self._sessions = sessions

    def start(self) -> None:
        self.backend.start()

    def stop(self) -> None:
        try:
            self.backend.stop()
        finally:
            self._sessions.close_all()


class SessionWiring:
    """Ends the resident's session when the card that identified them leaves its reader."""

    name = "session-wiring"

    def __init__(self, bus: EventBus, session: SessionManager) -> None:
        self._bus = bus
        self._session = session
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        from kiosk.devices.idcard.events import IdCardRemoved
        from kiosk.devices.sscard.events import CardRemoved

        self._unsubscribe = [
            self._bus.subscribe(CardRemoved, self._on_sscard_removed),
            self._bus.subscribe(IdCardRemoved, self._on_idcard_removed),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _on_sscard_removed(self, _event: object) -> None:
        # The session knows whose card was inserted: an agent's card may leave, the resident's
        # may not without ending the session.
        self._session.card_removed()

    def _on_idcard_removed(self, _event: object) -> None:
        resident = self._session.resident
        if resident is not None and resident.source is IdentitySource.IDCARD:
            self._session.end(EndReason.CARD_REMOVED)


class HealthRecorder:
    """Saves the devices' health to the data directory every *interval* seconds (own thread),
    for ``kiosk acceptance`` and diagnostics run from another process."""

    name = "health-recorder"

    def __init__(
        self, data_dir: Path, source: Callable[[], list[DeviceHealth]], interval: float
    ) -> None:
        self._data_dir = data_dir
        self._source = source
        self._interval = max(0.2, interval)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="health-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def save_now(self) -> None:
        try:
            save_device_health(self._data_dir, self._source())
        except OSError:
            log.exception("saving device health failed", extra={"event": "device_health"})

    def _run(self) -> None:
        # The first snapshot after a second: the devices have answered their first question.
        delay = min(1.0, self._interval)
        while not self._stopping.wait(delay):
            self.save_now()
            delay = self._interval


# -- the runtime -------------------------------------------------------------------------------


class KioskRuntime:
    """What :func:`build_runtime` returns; see the module docstring.

    ``components`` is in start order. ``devices`` maps name → device component (each has
    ``health()``, ``runtime`` and ``simulator``). ``backend`` is the :class:`BackendRuntime`
    (``client()``, ``outbox``, ``public_info``); ``printing`` the printing service or None when
    the printer is disabled or misconfigured; ``demo`` the :class:`DemoControls` in demo mode,
    else None. :meth:`start`/:meth:`stop` are for callers without the app (tests, tools); the
    app starts and stops ``components`` itself.
    """

    def __init__(self, config: KioskConfig, data_dir: Path) -> None:
        self.config = config
        self.data_dir = data_dir
        self.devices: dict[str, DeviceComponent | UnavailableDevice] = {}
        self.components: list[RuntimeComponent] = []
        self.backend: BackendRuntime | None = None
        self.faults: FaultReporter | None = None
        self.printing: Any = None
        self.demo: DemoControls | None = None
        self._started: list[RuntimeComponent] = []

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start every component in order (non-blocking; a failing one does not stop the rest)."""
        for component in self.components:
            self._started.append(component)
            try:
                component.start()
            except Exception:
                log.exception("component start failed", extra={"device": component.name})

    def stop(self) -> None:
        """Stop started components in reverse order (errors logged, never raised). Idempotent."""
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                log.exception("component stop failed", extra={"device": component.name})

    # -- handles -------------------------------------------------------------------------------
    @property
    def outbox(self) -> Any:
        return self.backend.outbox

    def client(self) -> Any:
        """The signed backend client; raises BackendUnavailable until connected."""
        return self.backend.client()

    def late_client(self) -> Any:
        """A stand-in for the client, usable right away: each attribute is looked up on the
        real client at call time, so calls raise BackendUnavailable until it is connected.
        For services built before the platform is reachable (the flows facade)."""
        return LateClient(self.client)

    # -- health --------------------------------------------------------------------------------
    def healths(self) -> list[DeviceHealth]:
        """Every device's health snapshot, in start order (any thread; never blocks on I/O)."""
        return [device.health() for device in self.devices.values()]

    def paper_level(self) -> str:
        """``ok`` / ``low`` / ``out`` / ``unknown`` from the printer's last answer."""
        printer = self.devices.get("printer")
        runtime = getattr(printer, "runtime", None)
        status = runtime.driver.last_status if runtime is not None else None
        if status is None or not status.known:
            return "unknown"
        if status.paper_end:
            return "out"
        if status.paper_near_end:
            return "low"
        return "ok"

    def heartbeat_report(self) -> tuple[list[dict[str, Any]], str]:
        """The backend heartbeat's device list (clipped to the platform's limits) and paper."""
        return [_heartbeat_dict(health) for health in self.healths()], self.paper_level()


class LateClient:
    """Forwards attribute access to ``get_client()`` (which raises until the client exists)."""

    def __init__(self, get_client: Callable[[], Any]) -> None:
        self._get_client = get_client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get_client(), name)


def build_runtime(
    config: KioskConfig,
    data_dir: Path,
    bus: EventBus,
    *,
    session: SessionManager | None = None,
    options: RuntimeOptions | None = None,
) -> KioskRuntime:
    """Build (not start) the runtime for *config*; see the module docstring.

    Device problems never raise here (they show in health); a backend store that cannot be
    opened does (the kiosk cannot accept submissions safely without it).
    """
    options = options or RuntimeOptions()
    data_dir = Path(data_dir)
    runtime = KioskRuntime(config, data_dir)
    publish = bus.publish
    devices = config.devices

    sessions = HttpSessions()
    runtime.backend = BackendRuntime(
        config,
        data_dir,
        publish=publish,
        session_factory=sessions,
        heartbeat_source=runtime.heartbeat_report,
        audit_head=AuditLog(data_dir).head_pair,
        roster=OperatorRoster(data_dir, max_age_days=config.maintenance.roster_max_age_days),
    )
    builders = {
        "printer": lambda: _build_printer(runtime, config, data_dir, publish, options),
        "idcard": lambda: _build_idcard(devices.idcard, publish, options),
        "sscard": lambda: _build_sscard(devices.sscard, publish, options),
        "scanner": lambda: _build_scanner(devices.scanner, publish),
    }
    for name in DEVICE_NAMES:
        if not getattr(devices, name).enabled:
            runtime.devices[name] = UnavailableDevice(name, DeviceState.DISABLED, DISABLED_DETAIL)
            continue
        try:
            runtime.devices[name] = builders[name]()
        except Exception as exc:  # bad device config: this device only is out of service
            log.error("device build failed", extra={"device": name, "event": type(exc).__name__})
            runtime.devices[name] = UnavailableDevice(
                name, DeviceState.FAULT, BUILD_FAILED_DETAIL, f"{type(exc).__name__}: {exc}"
            )

    if session is not None:
        runtime.components.append(SessionWiring(bus, session))
    runtime.components.append(BackendComponent(runtime.backend, sessions))
    # Device faults become tickets in the 问题台账 by themselves (through the outbox).
    runtime.faults = FaultReporter.from_config(
        config, runtime.backend.outbox, bus.subscribe, data_dir, publish=publish
    )
    runtime.components.append(runtime.faults)
    runtime.components.extend(runtime.devices.values())
    runtime.components.append(
        HealthRecorder(data_dir, runtime.healths, options.health_save_seconds)
    )
    if config.is_demo:
        runtime.demo = _demo_controls(runtime)
    return runtime


# -- builders ----------------------------------------------------------------------------------


def _build_printer(
    runtime: KioskRuntime,
    config: KioskConfig,
    data_dir: Path,
    publish: Callable[[Any], None],
    options: RuntimeOptions,
) -> PrinterComponent:
    from kiosk.devices.printer import open_printer
    from kiosk.fonts import find_cjk_font
    from kiosk.services.printing import PrintingService, PrintQueue

    section = config.devices.printer
    printer = open_printer(section, publish, data_dir, poll_interval=options.printer_poll_seconds)
    queue = PrintQueue.in_data_dir(data_dir)
    try:
        runtime.printing = PrintingService(
            printer.driver,
            queue,
            printer.profile,
            find_cjk_font(config.display.font),
            publish=publish,
            expiry_seconds=section.job_expiry_seconds,
        )
    except Exception:
        queue.close()
        raise
    return PrinterComponent(printer, queue)


def _build_idcard(section: Any, publish: Callable[[Any], None], options: RuntimeOptions):
    from kiosk.devices.idcard import open_reader

    reader = open_reader(section, publish, sim_delays=options.idcard_sim_delays)
    return DeviceComponent("idcard", reader, reader.health)


def _build_sscard(section: Any, publish: Callable[[Any], None], options: RuntimeOptions):
    from kiosk.devices.sscard import open_reader

    reader = open_reader(
        section, publish, vpcd_port=options.vpcd_port, pcsc_available=options.pcsc_available
    )
    return DeviceComponent("sscard", reader, reader.driver.health)


def _build_scanner(section: Any, publish: Callable[[Any], None]) -> DeviceComponent:
    from kiosk.devices.scanner import open_scanner

    scanner = open_scanner(section, publish)
    return DeviceComponent("scanner", scanner, scanner.driver.health)


def _demo_controls(runtime: KioskRuntime) -> DemoControls:
    devices = runtime.devices
    sscard = devices["sscard"].runtime
    printer = devices["printer"]
    minter = None
    if not runtime.config.backend.url:  # the embedded platform issues the demo e-SSC codes

        def minter(label: str) -> str:
            # Called on DemoControls' own thread: a code asked for while the platform still
            # seeds at start-up (tens of seconds under load) is minted once it is ready, not lost.
            # (Minting before it exists would create an empty database file beside its key.)
            if not runtime.backend.wait_ready(DEMO_PLATFORM_WAIT_SECONDS):
                raise TimeoutError("the demo platform did not start")
            return demo_essc_code(runtime.data_dir, label)

    return DemoControls(
        sscard=getattr(sscard, "virtual_card", None),
        idcard=devices["idcard"].simulator,
        scanner=devices["scanner"].simulator,
        printer=printer.simulator,
        refresh_printer=printer.refresh if isinstance(printer, PrinterComponent) else _nothing,
        essc_minter=minter,
    )


def _nothing() -> None:
    pass


def _heartbeat_dict(health: DeviceHealth) -> dict[str, Any]:
    counters = list(health.counters.items())[:HEARTBEAT_COUNTERS_MAX]
    return {
        "name": _clean(health.name, HEARTBEAT_COUNTER_NAME_MAX) or "unknown",
        "state": health.state.value,
        "detail": _clean(health.detail, HEARTBEAT_TEXT_MAX),
        "last_error": _clean(health.last_error, HEARTBEAT_TEXT_MAX),
        "counters": {_clean(k, HEARTBEAT_COUNTER_NAME_MAX): int(v) for k, v in counters},
        "transport": _clean(health.transport, HEARTBEAT_TEXT_MAX),
    }


# The platform refuses control characters in request text; a driver's error message may
# quote raw bytes, so they become spaces (one line per field, as the status page shows it).
_CONTROL_TO_SPACE = {c: " " for c in (*range(0x20), 0x7F)}


def _clean(text: str, limit: int) -> str:
    return text.translate(_CONTROL_TO_SPACE)[:limit]
