"""build_runtime in demo mode: every simulator and driver on its real transport, the embedded
backend over HTTP on 127.0.0.1, session wiring, demo controls, and a clean stop.

The social security card runs in-process here (vpcd has one global port that the card tests
use); test_runtime_pcscd.py runs it through pcscd + vpcd.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest

from kiosk.config import load_config
from kiosk.devices.base import DeviceState
from kiosk.devices.idcard.events import IdCardRead, IdCardRemoved
from kiosk.devices.printer.events import PrinterStatusChanged
from kiosk.devices.scanner.events import QrScanned
from kiosk.devices.sscard.events import CardInserted, CardRemoved, SsCardRead
from kiosk.domain.person import person_from_idcard, person_from_sscard
from kiosk.services.acceptance import load_device_health
from kiosk.services.bus import EventBus
from kiosk.services.demo_controls import DEMO_OPERATORS, DEMO_RESIDENTS, DemoUnavailable
from kiosk.services.errors import BackendRejected, BackendUnavailable
from kiosk.services.runtime import RuntimeOptions, build_runtime
from kiosk.services.session import EndReason, SessionEnded, SessionManager

WAIT = 30.0  # generous: the machine is shared
DEVICES = ("printer", "idcard", "sscard", "scanner")
IN_PROCESS = RuntimeOptions(pcsc_available=lambda: None, health_save_seconds=0.5)


class Recorder:
    """Collects bus events; wait_for() blocks until a matching one arrives."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[object] = []
        self._cond = threading.Condition()
        bus.subscribe(object, self._record)

    def _record(self, event: object) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def wait_for(self, kind: type, after: int = 0, timeout: float = WAIT, where=None):
        def match():
            for event in self.events[after:]:
                if isinstance(event, kind) and (where is None or where(event)):
                    return event
            return None

        with self._cond:
            found = self._cond.wait_for(match, timeout)
        assert found, f"no {kind.__name__} within {timeout}s; got {self.events[after:]}"
        return found


def wait_until(condition, timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s")


def demo_config(**devices):
    """The default (demo) config, with device sections overridden by keyword."""
    config = load_config(environ={})
    sections = {
        name: dataclasses.replace(getattr(config.devices, name), **fields)
        for name, fields in devices.items()
    }
    return dataclasses.replace(config, devices=dataclasses.replace(config.devices, **sections))


def all_ok(runtime) -> bool:
    return all(h.state is DeviceState.OK for h in runtime.healths())


@pytest.fixture
def running(data_dir):
    """A started demo runtime with a session manager and an event recorder."""
    bus = EventBus()
    recorder = Recorder(bus)
    session = SessionManager(publish=bus.publish)
    runtime = build_runtime(demo_config(), data_dir, bus, session=session, options=IN_PROCESS)
    runtime.start()
    try:
        wait_until(lambda: all_ok(runtime), what="all devices OK")
        yield runtime, recorder, session
    finally:
        runtime.stop()


def test_demo_mode_starts_every_device_on_its_real_transport(running, data_dir):
    runtime, _recorder, _session = running
    healths = {h.name: h for h in runtime.healths()}
    assert list(healths) == list(DEVICES)
    assert all(h.state is DeviceState.OK for h in healths.values()), healths
    assert healths["printer"].transport.startswith("/dev/pts/")
    assert healths["scanner"].transport.startswith("/dev/pts/")
    assert healths["idcard"].transport.endswith("ttyIDCARD")
    assert os.path.realpath(healths["idcard"].transport).startswith("/dev/pts/")
    assert "进程内" in healths["sscard"].transport
    # The components run in a safe order: the platform first, the scanner last.
    names = [c.name for c in runtime.components]
    assert names.index("backend") < names.index("printer") < names.index("idcard")
    assert names.index("sscard") < names.index("scanner") < names.index("health-recorder")
    assert runtime.printing is not None and runtime.demo is not None


def test_backend_is_reachable_and_takes_the_device_heartbeat(running):
    runtime, _recorder, _session = running
    assert runtime.backend.wait_ready(60), runtime.backend.setup_error
    assert runtime.backend.beat()  # register + heartbeat with our device list: 2xx from server
    devices, paper = runtime.heartbeat_report()
    assert [d["name"] for d in devices] == list(DEVICES)
    assert {d["state"] for d in devices} == {"ok"}
    assert paper == "ok"
    assert runtime.client() is runtime.backend.client()
    assert runtime.outbox is runtime.backend.outbox


def test_demo_essc_keys_mint_fresh_codes_that_verify_once_through_the_scanner(running):
    """F5 (residents in turn) and F9 (operators in turn) show a freshly minted e-SSC code to
    the scanner: each verifies, as the resident / operator it names, exactly once."""
    runtime, recorder, _session = running
    assert runtime.backend.wait_ready(60), runtime.backend.setup_error
    client = runtime.late_client()  # what services built before the connection hold
    mark = recorder.mark()
    runtime.demo.scan_essc()
    assert runtime.demo.wait_scanned()
    runtime.demo.scan_essc()  # the next resident in turn
    assert runtime.demo.wait_scanned()
    first = recorder.wait_for(QrScanned, mark)
    second = recorder.wait_for(QrScanned, mark, where=lambda e: e is not first)
    assert first.code.startswith("ESSC1.") and first.code != second.code
    names = [client.verify_essc(e.code).name for e in (first, second)]
    assert len(set(names)) == 2  # two different demo residents
    with pytest.raises(BackendRejected) as replayed:
        client.verify_essc(first.code)
    assert replayed.value.code == "qr_already_used"
    for label in DEMO_RESIDENTS[:2]:  # the labels name demo residents; they are not codes
        with pytest.raises(BackendRejected) as static:
            client.verify_essc(label)
        assert static.value.code == "qr_not_recognised"
    mark = recorder.mark()
    runtime.demo.scan_operator_essc()
    assert runtime.demo.wait_scanned()
    operator_code = recorder.wait_for(QrScanned, mark).code
    assert client.operator_signin(operator_code).role == "operator"  # DEMO_OPERATORS[0]
    assert DEMO_OPERATORS[0].endswith("01")


def test_a_demo_code_asked_for_while_the_platform_starts_is_scanned_once_it_is_ready(data_dir):
    """F5 pressed while the demo platform still starts (its first start seeds the database:
    tens of seconds under load) is not lost: the code is minted and scanned once it is ready."""
    bus = EventBus()
    recorder = Recorder(bus)
    runtime = build_runtime(demo_config(), data_dir, bus, options=IN_PROCESS)
    runtime.start()
    try:
        asked_before_ready = not runtime.backend.wait_ready(0)
        runtime.demo.scan_essc(DEMO_RESIDENTS[0])
        assert asked_before_ready
        assert runtime.demo.wait_scanned(180)
        assert runtime.backend.wait_ready(0), runtime.backend.setup_error
        code = recorder.wait_for(QrScanned).code
        assert code.startswith("ESSC1.")
        assert runtime.late_client().verify_essc(code).name == "王秀英"  # RESIDENT-01
    finally:
        runtime.stop()


def test_device_health_is_saved_for_acceptance(running, data_dir):
    runtime, _recorder, _session = running

    def saved_ok():
        healths, _problem = load_device_health(data_dir)
        return (
            healths
            if len(healths) == 4 and all(h.state is DeviceState.OK for h in healths)
            else None
        )

    healths = wait_until(saved_ok, what="device-health.json with four OK devices")
    assert [h.name for h in healths] == list(DEVICES)


def test_virtual_card_starts_and_its_removal_ends_the_residents_session(running):
    runtime, recorder, session = running
    mark = recorder.mark()
    runtime.demo.insert_sscard("gen2")
    recorder.wait_for(CardInserted, mark)
    read = recorder.wait_for(SsCardRead, mark)
    session.identify(person_from_sscard(read.card))  # what the flows do with the event
    ordinal = session.current.ordinal
    mark = recorder.mark()
    runtime.demo.remove_sscard()
    recorder.wait_for(CardRemoved, mark)
    ended = recorder.wait_for(SessionEnded, mark)
    assert ended == SessionEnded(ordinal, EndReason.CARD_REMOVED)
    assert session.current is None


def test_an_agents_card_leaving_does_not_end_the_session(running):
    runtime, recorder, session = running
    mark = recorder.mark()
    runtime.demo.place_idcard("resident")
    resident = person_from_idcard(recorder.wait_for(IdCardRead, mark).card)
    session.identify(resident)
    mark = recorder.mark()
    runtime.demo.insert_sscard("gen1")
    session.set_agent(person_from_sscard(recorder.wait_for(SsCardRead, mark).card))
    mark = recorder.mark()
    runtime.demo.remove_sscard()
    recorder.wait_for(CardRemoved, mark)
    time.sleep(0.3)
    assert session.current is not None and session.resident is not None
    assert not any(isinstance(e, SessionEnded) for e in recorder.events[mark:])


def test_lifting_the_id_card_ends_only_a_session_it_identified(running):
    runtime, recorder, session = running
    # Identified by social security card: the ID card reader's events do not end it.
    mark = recorder.mark()
    runtime.demo.insert_sscard("gen2")
    session.identify(person_from_sscard(recorder.wait_for(SsCardRead, mark).card))
    mark = recorder.mark()
    runtime.demo.place_idcard("long_term")
    recorder.wait_for(IdCardRead, mark)
    runtime.demo.lift_idcard()
    recorder.wait_for(IdCardRemoved, mark)
    time.sleep(0.3)
    assert session.current is not None
    # Identified by ID card: lifting it ends the session.
    session.end(EndReason.RESIDENT_EXIT)
    mark = recorder.mark()
    runtime.demo.place_idcard("resident")
    session.identify(person_from_idcard(recorder.wait_for(IdCardRead, mark).card))
    ordinal = session.current.ordinal
    mark = recorder.mark()
    runtime.demo.lift_idcard()
    recorder.wait_for(IdCardRemoved, mark)
    assert recorder.wait_for(SessionEnded, mark) == SessionEnded(ordinal, EndReason.CARD_REMOVED)


def test_card_removal_without_a_session_is_harmless(running):
    runtime, recorder, session = running
    mark = recorder.mark()
    runtime.demo.insert_sscard()
    recorder.wait_for(SsCardRead, mark)
    runtime.demo.remove_sscard()
    recorder.wait_for(CardRemoved, mark)
    assert session.current is None


def test_printer_faults_from_the_demo_reach_health_and_paper_level(running):
    runtime, recorder, _session = running
    printer = runtime.devices["printer"]
    mark = recorder.mark()
    assert runtime.demo.toggle_paper() == "打印机已缺纸"
    recorder.wait_for(PrinterStatusChanged, mark, where=lambda e: e.status.paper_end)
    assert printer.health().state is DeviceState.FAULT
    assert printer.health().detail == "打印机缺纸"
    assert runtime.paper_level() == "out"
    assert runtime.demo.toggle_paper() == "打印机已装纸"
    wait_until(lambda: printer.health().state is DeviceState.OK, what="paper loaded")
    assert runtime.demo.toggle_cover() == "纸仓盖已打开"
    wait_until(lambda: printer.health().detail == "打印机纸仓盖未关", what="cover open")
    assert printer.health().state is DeviceState.FAULT
    runtime.demo.toggle_cover()
    wait_until(lambda: printer.health().state is DeviceState.OK, what="cover closed")
    assert runtime.paper_level() == "ok"


def test_demo_actions_have_labels_and_refuse_unknown_names(running):
    runtime, _recorder, _session = running
    actions = runtime.demo.actions()
    assert [a.shortcut for a in actions] == [f"F{n}" for n in (1, 2, 3, 4, 5, 6, 7, 9)]
    assert all(a.label and runtime.demo.available(a.key) for a in actions)
    with pytest.raises(KeyError):
        runtime.demo.run("format_disk")
    with pytest.raises(DemoUnavailable, match="没有名为"):
        runtime.demo.insert_sscard("no-such-card")
    with pytest.raises(DemoUnavailable, match="没有名为"):
        runtime.demo.place_idcard("no-such-card")


def test_site_mode_has_no_demo_controls(data_dir):
    config = demo_config()
    config = dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, mode="site"))
    runtime = build_runtime(config, data_dir, EventBus(), options=IN_PROCESS)
    assert runtime.demo is None
    assert [h.state for h in runtime.healths()] == [DeviceState.UNKNOWN] * 4


def test_the_late_client_says_unavailable_until_connected(data_dir):
    runtime = build_runtime(demo_config(), data_dir, EventBus(), options=IN_PROCESS)
    with pytest.raises(BackendUnavailable) as caught:
        runtime.late_client().verify_essc("ESSC1.not-yet-connected")
    assert caught.value.code == "not_ready"
