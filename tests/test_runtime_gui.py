"""GUI smoke tests of demo mode: the real app with every runtime component, in its own process.

``test_kiosk_run_draws_home_and_exits_cleanly`` runs the real ``kiosk run`` command (first-frame
exit option); ``test_demo_mode_app_runs_devices_and_demo_keys`` starts the app, waits for every
device to report OK through its real transport, presses F1/F2/F6 through Kivy's window and
checks the effects, then stops the app and checks that no runtime thread is left.
Run under Xvfb: ``xvfb-run -a -s "-screen 0 1920x1920x24" pytest -m gui tests/test_runtime_gui.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "RESULT "
COMPONENTS = (
    "session-wiring",
    "backend",
    "faults",
    "printer",
    "idcard",
    "sscard",
    "scanner",
    "health-recorder",
)


def _child_env(data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        {
            "KIOSK_DATA_DIR": str(data_dir),
            "KIVY_HOME": str(data_dir / "kivy"),
            "KIVY_NO_ARGS": "1",
        }
    )
    return env


@pytest.fixture(autouse=True)
def _display():
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: run under xvfb-run")


def test_kiosk_run_draws_home_and_exits_cleanly(data_dir):
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--windowed", "--exit-after-first-frame"],
        capture_output=True,
        text=True,
        timeout=240,
        env=_child_env(data_dir),
        cwd=ROOT,
    )
    log_text = (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert done.returncode == 0, done.stderr[-3000:] + log_text[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["first_frame_s"] > 0
    started = [
        json.loads(line).get("device")
        for line in log_text.splitlines()
        if '"component_start"' in line
    ]
    assert started == list(COMPONENTS)


def test_demo_mode_app_runs_devices_and_demo_keys(data_dir):
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        capture_output=True,
        text=True,
        timeout=240,
        env=_child_env(data_dir),
        cwd=ROOT,
    )
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    log_file = data_dir / "logs" / "kiosk.log"
    log_tail = log_file.read_text(encoding="utf-8")[-3000:] if log_file.exists() else ""
    assert done.returncode == 0 and results, done.stderr[-3000:] + log_tail
    report = json.loads(results[-1][len(RESULT_PREFIX) :])
    assert report["error"] is None, report["error"] + "\n" + log_tail
    seen = report["observations"]
    assert seen["components"] == list(COMPONENTS)
    assert seen["healths"] == {"printer": "ok", "idcard": "ok", "sscard": "ok", "scanner": "ok"}
    assert seen["toast_after_f1"] == "演示：已插入演示社保卡"
    assert seen["kivy_settings_shown"] is False  # F1 is ours, never Kivy's settings panel
    # (pcscd + vpcd may report a brief extra removal/insertion while the slot connects)
    events = seen["events"]
    assert events[0] == "CardInserted" and "SsCardRead" in events
    assert events[-1] == "CardRemoved"
    assert seen["printer_after_f6"] == "fault"
    assert seen["unknown_key_consumed"] is False
    assert seen["help_shown"] and seen["help_hidden"]
    assert seen["threads_left"] == []


# ----------------------------------------------------------------------------- the child
def _scenario(app, seen):
    from kivy.core.window import Window

    from kiosk.devices.base import DeviceState
    from kiosk.devices.sscard.events import CardInserted, CardRemoved, SsCardRead
    from kiosk.screens.demo_keys import keycode
    from kiosk.screens.driver import Until

    runtime = app.services.runtime
    events: list[str] = []
    for kind in (CardInserted, SsCardRead, CardRemoved):
        app.services.bus.subscribe(kind, lambda e: events.append(type(e).__name__))

    def press(shortcut: str) -> bool:
        return bool(Window.dispatch("on_keyboard", keycode(shortcut), 0, None, []))

    yield Until(lambda: app.current_screen == "home", 30, "home screen")
    yield Until(lambda: all(h.state is DeviceState.OK for h in runtime.healths()), 60, "devices OK")
    yield Until(lambda: runtime.backend.wait_ready(0), 60, "backend ready")
    seen["components"] = [c.name for c in app.components]
    seen["healths"] = {h.name: h.state.value for h in runtime.healths()}
    press("F1")
    yield Until(lambda: "SsCardRead" in events, 30, "card read after F1")
    seen["toast_after_f1"] = app.demo_keys.toast.text
    seen["kivy_settings_shown"] = any("Settings" in type(w).__name__ for w in Window.children)
    removals = events.count("CardRemoved")
    press("F2")
    yield Until(lambda: events.count("CardRemoved") > removals, 30, "card removed after F2")
    press("F6")
    yield Until(
        lambda: runtime.devices["printer"].health().state is DeviceState.FAULT, 30, "paper out"
    )
    seen["printer_after_f6"] = runtime.devices["printer"].health().state.value
    seen["unknown_key_consumed"] = press("F11")
    press("F8")
    seen["help_shown"] = app.demo_keys.toast.shown and "F7  打开/合上纸仓盖" in (
        app.demo_keys.toast.text
    )
    press("F8")
    seen["help_hidden"] = not app.demo_keys.toast.shown
    seen["events"] = events


def _main() -> int:
    import threading
    import time

    from kiosk.config import load_config
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    observations: dict = {}
    outcome: dict = {"error": "the app stopped before the scenario finished"}

    def on_start(app) -> None:
        from kiosk.screens.driver import ScenarioRunner

        def on_finish(error):
            outcome["error"] = None if error is None else f"{type(error).__name__}: {error}"
            app.allow_exit = True
            app.stop()

        ScenarioRunner(_scenario(app, observations), on_finish).start(delay=0.5)

    before = set(threading.enumerate())
    options = GuiOptions(fullscreen=False, on_start=on_start)
    try:
        start_gui(load_config(), options)
    except StartupError as exc:
        outcome["error"] = f"StartupError: {exc}"
    deadline = time.monotonic() + 30
    left = []
    while time.monotonic() < deadline:
        left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            break
        time.sleep(0.1)
    observations["threads_left"] = left
    print(RESULT_PREFIX + json.dumps({"error": outcome["error"], "observations": observations}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(_main())
