"""Maintenance mode in the real app under Xvfb: the hidden gesture, PIN and e-SSC sign-in,
role menus, the pages, the idle exit, and screenshots in portrait and landscape.

Each scenario runs the real app in its own process (this file is also the child's entry point:
``python tests/test_maint_gui.py <scenario> <orientation>``), with real parts: the printer
simulator on a pty behind the real driver and print queue, the scanner simulator on a pty
behind the real driver, and the reference backend over HTTP on 127.0.0.1. Taps go through
Kivy's input path (kiosk.screens.driver). PNGs land in $KIOSK_MAINT_SHOTS (default: the test's
data dir) — look at them.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import gui_child
import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = "258036"
PIN_ACCOUNT = "qyhe-op-001"  # 李春梅, 业务操作员 of the demo county
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]


def run_child(
    name: str, data_dir: Path, orientation: str = "portrait", env: dict | None = None
) -> dict:
    from maint_support import save_roster

    from kiosk.services.maintenance_auth import PinStore

    save_roster(data_dir)  # as the runtime's sync from the platform does
    PinStore(data_dir).set_pin(PIN_ACCOUNT, PIN)  # as `kiosk maintenance set-pin` does
    shots = os.environ.get("KIOSK_MAINT_SHOTS", str(data_dir / "shots"))
    return gui_child.run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"KIOSK_MAINT_SHOTS": shots, **(env or {})},
    )


def audit_actions(data_dir: Path) -> list[tuple[str, str]]:
    from kiosk.services.audit import AuditLog

    return [(e.role, e.action) for e in AuditLog(data_dir).entries()]


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_operator_gesture_pin_menu_and_pages(data_dir, orientation):
    """GIVEN the home screen WHEN the hidden gesture is made and the PIN typed (once wrong)
    THEN the operator's menu has paper/queue but not config, the print queue page shows the
    waiting receipt without whose it is, and every screen keeps elderly-friendly sizes."""
    seen = run_child("operator_pin", data_dir, orientation)
    assert seen["after_gesture"] == "maint_unlock"
    assert seen["pin_accounts"] == ["李*梅 业务操作员"]  # the one account with a PIN here
    assert seen["pin_account_chosen"] == PIN_ACCOUNT
    assert seen["help_open_after_gesture"] is False
    assert seen["resident_session_after_gesture"] is False
    assert "还可尝试4次" in seen["wrong_pin_message"]
    assert seen["after_pin"] == "maint_home"
    assert seen["allow_exit_operator"] is False  # closing the window = exit to desktop
    menu = set(seen["menu"])
    assert {"print_queue", "outbox", "devices", "logs"} <= menu
    assert not menu & {"config", "system", "diagnostics"}
    assert "待补打凭条：1张" in seen["print_queue_text"]
    assert "缺纸" in seen["print_queue_text"]
    assert seen["reprint_message"] == "已补打1张凭条"
    assert "凭条打印机" in seen["devices_text"]
    assert "再点一次" in seen["report_confirm"]
    assert seen["report_message"] == "已保存，联网后自动提交"
    assert "待上传：1笔" in seen["outbox_text"]
    assert "尚未送达平台：1件" in seen["tickets_text"]
    assert "需联网" in seen["tickets_text"]
    assert "由验收人员评分" in seen["acceptance_text"]
    for text in seen["all_text"]:
        assert not ID_NUMBER.search(text)
        assert "王小明" not in text and "JJB20261129" not in text
    for screen, sizes in seen["sizes"].items():
        assert sizes["min_font_px"] >= 32, screen
        assert sizes["min_button_px"] >= 120, screen
    assert seen["after_leave"] == "home"
    actions = audit_actions(data_dir)
    for expected in ("sign_in.pin_wrong", "sign_in", "view.print_queue", "paper.replaced"):
        assert any(action == expected for _, action in actions), expected
    assert ("operator", "maintenance.end") in actions
    signed_in = [e.account for e in _audit_entries(data_dir) if e.action == "sign_in"]
    assert signed_in == [PIN_ACCOUNT]  # a named account, never a shared pin@<device>
    shots = Path(seen["shots"])
    for name in ("unlock", "home", "print_queue", "devices", "acceptance", "logs", "report"):
        assert (shots / f"maint-{orientation}-{name}.png").stat().st_size > 10_000


def test_vendor_scans_essc_and_sees_diagnostics_only(data_dir):
    """GIVEN the reference backend and the scanner simulator WHEN a locked account's e-SSC is
    scanned THEN it is refused; WHEN the vendor's is scanned THEN only diagnostic pages are
    offered, and a full self-test runs and shows no personal data."""
    seen = run_child("vendor_qr", data_dir, "landscape")
    assert "账号已锁定" in seen["locked_message"]
    assert seen["after_scan"] == "maint_home"
    menu = set(seen["menu"])
    assert "diagnostics" in menu
    assert not menu & {"print_queue", "outbox", "config", "system", "acceptance_print"}
    assert "自检完成" in seen["diag_message"]
    assert "自检 身份证阅读器：通过" in seen["diag_text"]
    assert not ID_NUMBER.search(seen["diag_text"])
    for name in ("王建军", "李秀兰", "周斌"):
        assert name not in seen["diag_text"]
    assert any(a == ("vendor", "diagnostics.run") for a in audit_actions(data_dir))


def test_system_admin_sees_config_without_secrets_and_restarts_after_confirming(data_dir):
    seen = run_child("sysadmin_restart", data_dir, "portrait")
    menu = set(seen["menu"])
    assert {"config", "system", "audit"} <= menu
    assert not menu & {"print_queue", "outbox", "devices", "diagnostics"}
    assert "device_id = 'demo-kiosk-0001'" in seen["config_text"]
    assert "argon2" not in seen["config_text"]
    assert seen["allow_exit_admin"] is True
    assert "再点一次" in seen["confirm_message"] and seen["exit_code_before_confirm"] == 0
    assert seen["exit_code"] == 75 and seen["allow_exit"] is True
    assert ("system_admin", "kiosk.restart") in audit_actions(data_dir)


def test_maintenance_exits_after_idle_timeout(data_dir):
    seen = run_child("idle_exit", data_dir, env={"KIOSK__MAINTENANCE__IDLE_SECONDS": "3"})
    assert seen["ended_off_screen"] is True
    assert seen["signed_in"] == "maint_home"
    assert seen["countdown_seen"] <= 3
    assert seen["after_idle"] == "home"
    assert seen["home_menu_after"] == 0
    ends = [
        e.detail.get("reason") for e in _audit_entries(data_dir) if e.action == "maintenance.end"
    ]
    assert ends == ["left_screen", "idle_timeout"]


def _audit_entries(data_dir: Path):
    from kiosk.services.audit import AuditLog

    return list(AuditLog(data_dir).entries())


# =========================================================================== child process


def _gesture(app):
    """Long press in the top-left corner, then one tap per corner clockwise."""
    from kivy.base import EventLoop

    from kiosk.screens.driver import ScriptTouch, tap_at

    width, height = app.root_layout.size
    inset = 12  # inside the corner squares, clear of the bars' buttons
    touch = ScriptTouch(inset, height - inset)
    EventLoop.post_dispatch_input("begin", touch)
    yield 3.3
    EventLoop.post_dispatch_input("end", touch)
    yield 0.2
    for x, y in ((inset, height - inset), (width - inset, height - inset),
                 (width - inset, inset), (inset, inset)):  # fmt: skip
        yield from tap_at(x, y)


def _type_pin(app, pin):
    from kiosk.screens.driver import Until, tap

    unlock = app.maintenance.screens["maint_unlock"]
    yield Until(lambda: unlock.account, 10, "the PIN account offered")
    for digit in pin:
        yield from tap(unlock.keys[digit])
    yield from tap(unlock.keys["确定"])


def _shot(app, orientation, name):
    from kiosk.screens.driver import export_png

    shots = Path(os.environ["KIOSK_MAINT_SHOTS"])
    export_png(app.root_layout, shots / f"maint-{orientation}-{name}.png")
    return str(shots)


def _screen(app, name, timeout=30):
    from kiosk.screens.driver import Until

    return Until(lambda: app.current_screen == name, timeout, f"screen {name}")


def _open_page(app, key):
    from kiosk.screens.driver import Until, tap

    yield _screen(app, "maint_home")
    yield from tap(app.maintenance.screens["maint_home"].menu_buttons[key])
    panel = app.maintenance.screens["maint_panel"]
    yield Until(
        lambda: app.current_screen == "maint_panel" and panel.page == key, 60, f"page {key}"
    )
    yield 0.4


def _measure(app):
    sys.path.insert(0, str(ROOT / "tests"))
    from gui_driver import _measure_ui

    return _measure_ui(app)


def scenario_operator_pin(app, seen, orientation):
    from kiosk.screens.driver import Until, tap

    yield _screen(app, "home")
    yield _platform_ready(app)
    app.services.runtime.backend.embedded_handle.stop()  # the platform is down from here on
    yield from _gesture(app)
    yield _screen(app, "maint_unlock", 10)
    seen["after_gesture"] = app.current_screen
    seen["help_open_after_gesture"] = app.help_shown
    seen["resident_session_after_gesture"] = app.services.session.current is not None
    unlock = app.maintenance.screens["maint_unlock"]
    yield Until(lambda: unlock.account_buttons, 10, "accounts offered")
    seen["pin_accounts"] = [b.text for b in unlock.account_buttons.values()]
    seen["pin_account_chosen"] = unlock.account
    yield from _type_pin(app, "111111")
    yield Until(lambda: "还可尝试" in unlock.message, 30, "wrong PIN message")
    seen["wrong_pin_message"] = unlock.message
    yield 0.3
    seen["sizes"] = {"unlock": _measure(app)}
    seen["shots"] = _shot(app, orientation, "unlock")
    yield from _type_pin(app, PIN)
    yield _screen(app, "maint_home")
    seen["after_pin"] = app.current_screen
    seen["allow_exit_operator"] = app.allow_exit
    home = app.maintenance.screens["maint_home"]
    seen["menu"] = list(home.menu_buttons)
    yield 0.4
    seen["sizes"]["home"] = _measure(app)
    _shot(app, orientation, "home")
    panel = app.maintenance.screens["maint_panel"]
    texts = []

    yield from _open_page(app, "print_queue")
    seen["print_queue_text"] = panel.shown_text()
    seen["sizes"]["print_queue"] = _measure(app)
    _shot(app, orientation, "print_queue")
    app.maint_test_printer.set_paper("ok")  # the operator loads paper, then taps the button
    yield from tap(panel.action_buttons["reprint"])
    yield Until(lambda: "补打" in panel.message and not panel.busy, 60, "reprint result")
    seen["reprint_message"] = panel.message
    texts.append(panel.shown_text())
    yield from tap(panel.ids.back_button)

    yield from _open_page(app, "report")
    row = panel.row_widget("send:guide-material")
    panel.ids.scroller.scroll_to(row, animate=False)  # as the operator would: scroll it into view
    yield 0.5
    yield from tap(row)
    yield Until(lambda: "再点一次" in panel.message, 10, "confirmation asked")
    seen["report_confirm"] = panel.message
    yield from tap(row)
    yield Until(lambda: "联网后" in panel.message and not panel.busy, 30, "report saved")
    seen["report_message"] = panel.message
    seen["sizes"]["report"] = _measure(app)
    _shot(app, orientation, "report")
    yield from tap(panel.ids.back_button)

    for key in ("devices", "acceptance", "logs", "outbox", "network", "tickets"):
        yield from _open_page(app, key)
        seen[f"{key}_text"] = panel.shown_text()
        texts.append(panel.shown_text())
        if key in ("devices", "acceptance", "logs"):
            seen["sizes"][key] = _measure(app)
            _shot(app, orientation, key)
        yield from tap(panel.ids.back_button)
    seen["all_text"] = texts + [seen["print_queue_text"]]
    yield _screen(app, "maint_home")
    yield from tap(home.ids.leave_button)
    yield _screen(app, "home")
    seen["after_leave"] = app.current_screen


def _platform_ready(app):
    """The app's demo platform seeds its database on a thread at start-up; an e-SSC code
    scanned before it answers is refused as 网络不通 (rightly), which is not what these
    scenarios test."""
    from kiosk.screens.driver import Until

    runtime = getattr(app.services, "runtime", None)
    return Until(lambda: runtime is None or runtime.backend.wait_ready(0), 120, "platform ready")


def scenario_vendor_qr(app, seen, orientation):
    from kiosk.screens.driver import Until, tap

    yield _screen(app, "home")
    yield from _gesture(app)
    yield _screen(app, "maint_unlock", 10)
    unlock = app.maintenance.screens["maint_unlock"]
    scanner = app.maint_test_scanner
    yield Until(lambda: scanner.driver.health().state.value == "ok", 20, "scanner open")
    yield _platform_ready(app)
    scanner.simulator.scan(app.maint_test_essc("ESSC-DEMO-OPERATOR-02"))  # a locked operator
    yield Until(lambda: "锁定" in unlock.message, 30, "locked account refused")
    seen["locked_message"] = unlock.message
    yield 2.5  # the scanner's debounce
    scanner.simulator.scan(app.maint_test_essc("ESSC-DEMO-OPERATOR-03"))  # vendor's engineer
    yield _screen(app, "maint_home")
    seen["after_scan"] = app.current_screen
    seen["menu"] = list(app.maintenance.screens["maint_home"].menu_buttons)
    _shot(app, orientation, "vendor-home")
    yield from _open_page(app, "diagnostics")
    panel = app.maintenance.screens["maint_panel"]
    yield from tap(panel.action_buttons["run"])
    yield Until(lambda: "自检完成" in panel.message, 180, "diagnostics finished")
    yield 0.5
    seen["diag_message"] = panel.message
    seen["diag_text"] = panel.shown_text()
    _shot(app, orientation, "diagnostics")


def scenario_idle_exit(app, seen, orientation):
    from kiosk.screens.driver import Until

    yield _screen(app, "home")
    # something else takes the screen while signed in: the maintenance session ends
    yield from _gesture(app)
    yield _screen(app, "maint_unlock", 10)
    yield from _type_pin(app, PIN)
    yield _screen(app, "maint_home")
    app.manager.current = "home"
    yield Until(lambda: app.maintenance.session is None, 10, "session ended off-screen")
    seen["ended_off_screen"] = True
    yield from _gesture(app)
    yield _screen(app, "maint_unlock", 10)
    yield from _type_pin(app, PIN)
    yield _screen(app, "maint_home")
    seen["signed_in"] = app.current_screen
    home = app.maintenance.screens["maint_home"]
    yield Until(lambda: home.seconds_left > 0, 10, "countdown shown")
    seen["countdown_seen"] = home.seconds_left
    yield Until(lambda: app.current_screen == "home", 20, "idle exit to home")
    seen["after_idle"] = app.current_screen
    seen["home_menu_after"] = len(home.menu_buttons)


def scenario_sysadmin_restart(app, seen, orientation):
    from kiosk.screens.driver import Until, tap

    yield _screen(app, "home")
    yield from _gesture(app)
    yield _screen(app, "maint_unlock", 10)
    scanner = app.maint_test_scanner
    yield Until(lambda: scanner.driver.health().state.value == "ok", 20, "scanner open")
    yield _platform_ready(app)
    scanner.simulator.scan(app.maint_test_essc("ESSC-DEMO-OPERATOR-04"))  # county 系统管理员
    yield _screen(app, "maint_home")
    seen["menu"] = list(app.maintenance.screens["maint_home"].menu_buttons)
    seen["allow_exit_admin"] = app.allow_exit
    panel = app.maintenance.screens["maint_panel"]
    yield from _open_page(app, "config")
    seen["config_text"] = panel.shown_text()
    _shot(app, orientation, "config")
    yield from tap(panel.ids.back_button)
    yield from _open_page(app, "system")
    yield from tap(panel.action_buttons["restart"])
    yield 0.3
    seen["confirm_message"] = panel.message
    seen["exit_code_before_confirm"] = app.exit_code
    yield from tap(panel.action_buttons["restart"])
    yield Until(lambda: app.exit_code != 0, 30, "restart requested")
    seen["exit_code"] = app.exit_code
    seen["allow_exit"] = app.allow_exit


SCENARIOS = {
    "sysadmin_restart": scenario_sysadmin_restart,
    "operator_pin": scenario_operator_pin,
    "vendor_qr": scenario_vendor_qr,
    "idle_exit": scenario_idle_exit,
}


def _parts_for(name, app, data_dir):
    """Real parts: printer simulator + driver + print queue (one receipt waiting for paper);
    for the vendor, the reference backend and the scanner simulator on the app's bus."""
    from datetime import datetime

    from kiosk.devices.printer import open_printer
    from kiosk.domain.receipt import STATUS_SAVED_OFFLINE, Receipt, masked_person
    from kiosk.services.maintenance import MaintenanceParts
    from kiosk.services.printing import open_printing

    config = app.services.config
    stops = []
    runtime = open_printer(config.devices.printer, lambda e: None, data_dir, poll_interval=0)
    runtime.start()
    stops.append(runtime.stop)
    printing = open_printing(runtime.driver, runtime.profile, data_dir, lambda e: None)
    app.maint_test_printer = runtime.simulator
    runtime.simulator.set_paper("end")
    printing.print_receipt(
        Receipt(
            service_point=config.kiosk.service_point,
            item_no="2-01",
            item_name="灵活就业人员参保登记",
            reference="JJB20261129-000777",
            submitted_at=datetime(2026, 11, 29, 10, 15),
            status_text=STATUS_SAVED_OFFLINE,
            person=masked_person("王小明", "140431199001011234"),
        )
    )
    parts = MaintenanceParts(
        devices=lambda: [runtime.driver.health()],
        printing=printing,
        printer=runtime.driver,
        printer_profile=runtime.profile,
    )
    if name == "operator_pin":  # reports wait in the app's own outbox (the scenario stops
        # the platform): a second outbox on the same store would be drained by the app's worker
        from kiosk.services.problem_reports import ProblemReports

        backend_runtime = app.services.runtime.backend
        parts.outbox = backend_runtime.outbox
        parts.problem_reports = ProblemReports(backend_runtime.outbox, backend_runtime.client)
    backend = None
    if name in ("vendor_qr", "sysadmin_restart"):
        import requests

        from kiosk.devices.scanner import open_scanner
        from kiosk.services.backend_client import BackendClient
        from kiosk.services.embedded_backend import demo_essc_code, start_embedded_backend

        # The operator's phone: a fresh code from the platform of this data directory.
        app.maint_test_essc = lambda label: demo_essc_code(data_dir, label)
        if getattr(app.services, "runtime", None) is None:  # else the app's own platform
            url, secret, handle = start_embedded_backend(data_dir, config.kiosk.device_id)
            stops.append(handle.stop)
            session = requests.Session()
            backend = BackendClient.from_config(
                session, config.backend, url, config.kiosk.device_id, secret
            )
        scanner = open_scanner(config.devices.scanner, app.services.bus.publish)
        scanner.start()
        stops.append(scanner.stop)
        app.maint_test_scanner = scanner
    return parts, backend, stops


def main(name: str, orientation: str) -> int:
    from kiosk.config import load_config
    from kiosk.paths import data_dir as resolve_data_dir
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    observations: dict = {}
    outcome: dict = {"error": "the app stopped before the scenario finished"}
    stops: list = []

    def on_start(app) -> None:
        from kiosk.screens.driver import ScenarioRunner
        from kiosk.screens.maint_mode import install_maintenance

        directory = resolve_data_dir(app.services.config.kiosk.data_dir)
        parts, backend, more = _parts_for(name, app, directory)
        stops.extend(more)
        if not hasattr(app, "maintenance"):  # the app may install it itself once integrated
            app.maintenance = install_maintenance(
                app, data_dir=directory, backend=backend, parts=parts
            )
        else:
            old = app.maintenance.facade.parts
            parts.diagnostics, parts.export_bundle = old.diagnostics, old.export_bundle
            app.maintenance.facade.parts = parts
            if backend is not None:
                from kiosk.services.maintenance_auth import BackendOperatorVerifier

                app.maintenance.auth._verifier = BackendOperatorVerifier(backend)

        def on_finish(error):
            outcome["error"] = None if error is None else f"{type(error).__name__}: {error}"
            app.allow_exit = True
            app.stop()

        script = SCENARIOS[name](app, observations, orientation)
        ScenarioRunner(script, on_finish).start(delay=0.5)

    options = GuiOptions(
        orientation=orientation,
        fullscreen=False,
        allow_short_timers=True,
        on_start=on_start,
        runtime=gui_child.child_runtime_options(),  # the demo card in-process, not on vpcd
    )
    try:
        start_gui(load_config(), options)
    except StartupError as exc:
        outcome["error"] = f"StartupError: {exc}"
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception as exc:  # report, but the result line must still be printed
                print(f"stop failed: {exc!r}", file=sys.stderr)
    gui_child.print_result(outcome["error"], observations)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
