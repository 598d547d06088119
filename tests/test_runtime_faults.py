"""build_runtime when things go wrong: unopenable ports, bad device config, a device whose start
raises, disabled devices; stop() leaves no threads, ptys or sockets; heartbeat reports always
fit the platform's schema."""

from __future__ import annotations

import contextlib
import os
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.services.bus import EventBus
from kiosk.services.demo_controls import DemoUnavailable
from kiosk.services.runtime import _heartbeat_dict, build_runtime
from kiosk_backend.routes.kiosks import DeviceHealthIn
from tests.test_runtime_demo import IN_PROCESS, all_ok, demo_config, wait_until

MISSING = "/dev/does-not-exist"


def health_by_name(runtime) -> dict[str, DeviceHealth]:
    return {h.name: h for h in runtime.healths()}


def test_unopenable_ports_report_offline_and_the_others_still_start(data_dir):
    config = demo_config(idcard={"url": MISSING}, printer={"url": MISSING}, sscard={"url": MISSING})
    runtime = build_runtime(config, data_dir, EventBus(), options=IN_PROCESS)
    runtime.start()
    try:

        def settled():
            h = health_by_name(runtime)
            return (
                h["idcard"].state is DeviceState.OFFLINE
                and h["printer"].state is DeviceState.OFFLINE
                and h["scanner"].state is DeviceState.OK
            )

        wait_until(settled, what="idcard/printer OFFLINE, scanner OK")
        healths = health_by_name(runtime)
        assert MISSING in healths["idcard"].last_error
        assert MISSING in healths["printer"].last_error
        assert healths["printer"].detail  # says why, in Chinese, for the status screen
        # An sscard url that is neither sim:// nor pcsc:// is a config fault of that device only.
        assert healths["sscard"].state is DeviceState.FAULT
        assert "pcsc://" in healths["sscard"].last_error
        assert runtime.backend.wait_ready(60), runtime.backend.setup_error
        # Demo controls are there only for what is simulated.
        runtime.demo.scan_essc()
        for action in (runtime.demo.insert_sscard, runtime.demo.place_idcard):
            try:
                action()
            except DemoUnavailable as exc:
                assert "不是演示模拟设备" in str(exc)
            else:
                raise AssertionError(f"{action.__name__} should be unavailable")
    finally:
        runtime.stop()


def test_a_device_whose_start_raises_is_offline_with_the_reason(data_dir):
    runtime = build_runtime(demo_config(), data_dir, EventBus(), options=IN_PROCESS)
    idcard = runtime.devices["idcard"]

    def no_pty():
        raise OSError(24, "Too many open files")

    idcard.runtime.simulator.start = no_pty  # the one injected fault: pty allocation fails
    runtime.start()
    try:
        wait_until(
            lambda: all(h.state is DeviceState.OK for h in runtime.healths() if h.name != "idcard"),
            what="the other devices OK",
        )
        health = idcard.health()
        assert health.state is DeviceState.OFFLINE
        assert health.detail == "设备启动失败"
        assert "Too many open files" in health.last_error
    finally:
        runtime.stop()


def test_disabled_devices_say_so_and_are_not_started(data_dir):
    config = demo_config(printer={"enabled": False}, scanner={"enabled": False})
    runtime = build_runtime(config, data_dir, EventBus(), options=IN_PROCESS)
    assert runtime.printing is None
    runtime.start()
    try:
        wait_until(
            lambda: health_by_name(runtime)["sscard"].state is DeviceState.OK, what="sscard OK"
        )
        healths = health_by_name(runtime)
        assert healths["printer"].state is DeviceState.DISABLED
        assert healths["scanner"].state is DeviceState.DISABLED
        assert runtime.paper_level() == "unknown"
        assert not runtime.demo.available("scan_essc")
        assert not runtime.demo.available("toggle_paper")
        assert runtime.demo.available("insert_sscard")
    finally:
        runtime.stop()


def _fds() -> dict[str, str]:
    found = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the directory listing's own fd is gone
            found[name] = os.readlink(f"/proc/self/fd/{name}")
    return found


def test_stop_leaves_no_threads_ptys_or_sockets_behind(data_dir):
    threads_before = set(threading.enumerate())
    fds_before = _fds()
    runtime = build_runtime(demo_config(), data_dir, EventBus(), options=IN_PROCESS)
    runtime.start()
    wait_until(lambda: all_ok(runtime), what="all devices OK")
    assert runtime.backend.wait_ready(60), runtime.backend.setup_error
    runtime.demo.insert_sscard()
    runtime.demo.place_idcard()
    time.sleep(1.0)
    idcard_dir = os.path.dirname(runtime.devices["idcard"].simulator.url)
    during = {v for k, v in _fds().items() if fds_before.get(k) != v}
    assert any(v.startswith("/dev/pts/") or v == "/dev/ptmx" for v in during)
    runtime.stop()
    runtime.stop()  # idempotent

    def no_new_threads():
        return not [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]

    wait_until(no_new_threads, timeout=30, what="all runtime threads ended")
    leftover = {k: v for k, v in _fds().items() if fds_before.get(k) != v}
    assert leftover == {}
    assert not os.path.exists(idcard_dir)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40),
    state=st.sampled_from(list(DeviceState)),
    detail=st.text(max_size=400),
    last_error=st.text(max_size=400),
    transport=st.text(max_size=400),
    counters=st.dictionaries(st.text(max_size=60), st.integers(0, 2**40), max_size=60),
)
def test_heartbeat_reports_always_fit_the_platform_schema(
    name, state, detail, last_error, transport, counters
):
    health = DeviceHealth(name, state, detail, last_error, counters, transport)
    report = _heartbeat_dict(health)
    parsed = DeviceHealthIn.model_validate(report)
    assert parsed.state == state.value
    assert len(parsed.detail) == min(len(detail), 200)
    assert len(parsed.last_error) == min(len(last_error), 200)
