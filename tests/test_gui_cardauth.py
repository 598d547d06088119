"""Card authentication and named PIN accounts on screen.

A cloned social security card is refused with a clear message; the maintenance PIN is typed for
an account chosen from the synced roster. Each scenario runs the real app in its own process
(this file is also the child's entry point: ``python tests/test_gui_cardauth.py <scenario>
<orientation>``): the card scenario on the resident-flow rig of tests/gui_flow_driver.py (the
reference backend on 127.0.0.1, the device simulators, the virtual card behind the real driver
with the virtual PSAM in a second reader), the PIN scenario on the maintenance rig of
tests/test_maint_gui.py. Taps go through Kivy's input path. PNGs land in $FLOW_SHOTS (default:
the test's data dir) — look at them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gui_child
import pytest

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

CLONE_MESSAGE = "此社保卡未通过安全认证，不能在本机使用。请到窗口核验，或改用身份证、电子社保卡"
ADMIN_PIN = "804162"
MAINT_SCENARIOS = ("pin_accounts",)


def run_scenario(name: str, data_dir: Path, orientation: str) -> dict:
    from gui_flow_driver import RIG_DIR_NAME

    gui_child.give_seeded_platform(data_dir / RIG_DIR_NAME)
    shots = os.environ.get("FLOW_SHOTS", str(data_dir / "shots"))
    return gui_child.run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"FLOW_SHOTS": shots, "KIOSK_MAINT_SHOTS": shots},
        timeout=400,
    )


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_cloned_card_is_refused_on_screen_and_the_genuine_card_then_works(data_dir, orientation):
    """GIVEN the 确认身份 screen of 固定工求职登记 WHEN a card carrying a genuine 3.0 card's data
    but not its keys is inserted THEN the screen says in Chinese that it failed the security
    check and what to do instead, and no session starts; WHEN the genuine card is inserted
    THEN it passes PSAM authentication (SM4, RKSSSE) and the form opens."""
    seen = run_scenario("cloned_card_refused", data_dir, orientation)

    assert seen["clone_status"] == CLONE_MESSAGE
    assert seen["clone_status_is_error"] is True
    assert seen["clone_read_failed"] == "card_not_genuine"
    assert seen["session_after_clone"] is False
    assert seen["genuine_evidence"] == ["sscard_psam"]
    assert seen["genuine_authentication"] == {"algorithm": "sm4", "external": True}
    assert seen["recovered_to"] == "form"
    for label, sizes in seen["sizes"].items():
        assert sizes["min_font_px"] >= 32, (label, sizes)
    shot = Path(seen["shots"]) / f"{orientation}-cardauth-cloned-refused.png"
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_pin_is_typed_for_an_account_chosen_from_the_roster(data_dir, orientation):
    """GIVEN three roster accounts with a PIN here (and one cancelled account with a PIN,
    never offered) WHEN 确定 is tapped before choosing THEN the screen asks to choose; WHEN the
    system administrator's account is chosen and its PIN typed THEN maintenance opens as that
    named account with its role's menu."""
    from maint_support import save_roster

    from kiosk.services.audit import AuditLog
    from kiosk.services.maintenance_auth import PinStore

    save_roster(data_dir)
    pins = PinStore(data_dir)
    for account in ("qyhe-op-001", "vendor-eng-01", "qyhe-op-003"):
        pins.set_pin(account, "258036")
    pins.set_pin("qy-sysadmin", ADMIN_PIN)
    seen = run_scenario("pin_accounts", data_dir, orientation)

    assert seen["offered"] == ["孙* 系统管理员", "李*梅 业务操作员", "周* 设备厂商工程师"]
    assert seen["chosen_at_first"] == ""
    assert seen["placeholder"] == "请先点选您的账号"
    assert seen["without_choice"] == "请先点选您的账号"
    assert seen["after_pin"] == "maint_home"
    assert {"config", "system", "audit"} <= set(seen["menu"])
    signed_in = [(e.account, e.role) for e in AuditLog(data_dir).entries() if e.action == "sign_in"]
    assert signed_in == [("qy-sysadmin", "system_admin")]
    for label, sizes in seen["sizes"].items():
        assert sizes["min_font_px"] >= 32, (label, sizes)
        assert sizes["min_button_px"] >= 120, (label, sizes)
    assert seen["title_visible"] is True  # nothing pushed above the panel in landscape
    assert (Path(seen["shots"]) / f"maint-{orientation}-pin-accounts.png").stat().st_size > 10_000


# ------------------------------------------------------------------------------ child side
def cloned_card_refused(app, rig, seen):
    from gui_flow_driver import open_item, shoot, until_screen

    from kiosk.devices.sscard.events import CardReadFailed, SsCardRead
    from kiosk.screens.driver import Until

    reads: list = []
    failures: list = []
    bus = app.services.bus
    bus.subscribe(SsCardRead, reads.append)
    bus.subscribe(CardReadFailed, failures.append)
    screen = app.screens["identify"]
    yield from open_item(app, rig, "我要找工作", 1)
    yield until_screen(app, "identify")
    yield 0.5
    before = screen.status
    rig.sscard.virtual_card.insert("cloned")
    yield Until(lambda: screen.status_is_error and screen.status != before, 60, "the clone refused")
    seen["clone_status"] = screen.status
    seen["clone_status_is_error"] = screen.status_is_error
    seen["clone_read_failed"] = failures[-1].code if failures else ""
    seen["session_after_clone"] = app.services.session.resident is not None
    yield from shoot(app, "cardauth-cloned-refused")
    seen["shots"] = os.environ.get("FLOW_SHOTS", "")
    rig.sscard.virtual_card.remove()
    yield 1.0
    rig.sscard.virtual_card.insert("gen3")
    yield until_screen(app, "form", 60)
    seen["genuine_evidence"] = [event.card.authentication.evidence for event in reads]
    authentication = reads[-1].card.authentication
    seen["genuine_authentication"] = {
        "algorithm": authentication.algorithm,
        "external": authentication.external,
    }
    seen["recovered_to"] = app.current_screen
    rig.sscard.virtual_card.remove()


def pin_accounts(app, seen, orientation):
    import test_maint_gui as maint

    from kiosk.screens.driver import Until, tap

    yield maint._screen(app, "home")
    yield from maint._gesture(app)
    yield maint._screen(app, "maint_unlock", 10)
    unlock = app.maintenance.screens["maint_unlock"]
    yield Until(lambda: len(unlock.account_buttons) == 3, 10, "three accounts offered")
    yield 0.4
    seen["offered"] = [button.text for button in unlock.account_buttons.values()]
    seen["chosen_at_first"] = unlock.account
    seen["placeholder"] = unlock.ids.dots.text
    seen["sizes"] = {"unlock": maint._measure(app)}
    panels = (unlock.ids.qr_panel, unlock.ids.pin_panel)
    seen["title_visible"] = all(  # every panel's first line lies inside the panel
        panel.children[-1].top <= panel.top + 1 for panel in panels
    )
    seen["shots"] = maint._shot(app, orientation, "pin-accounts")
    yield from tap(unlock.keys["1"])
    yield from tap(unlock.keys["确定"])
    yield Until(lambda: unlock.message, 10, "a message")
    seen["without_choice"] = unlock.message
    yield from tap(unlock.keys["删除"])
    yield from tap(unlock.account_buttons["qy-sysadmin"])
    yield from maint._type_pin(app, ADMIN_PIN)
    yield maint._screen(app, "maint_home")
    seen["after_pin"] = app.current_screen
    seen["menu"] = list(app.maintenance.screens["maint_home"].menu_buttons)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if sys.argv[1] in MAINT_SCENARIOS:
        import test_maint_gui

        test_maint_gui.SCENARIOS["pin_accounts"] = pin_accounts
        sys.exit(test_maint_gui.main(sys.argv[1], sys.argv[2]))
    import gui_flow_driver

    gui_flow_driver.scenario(cloned_card_refused)
    sys.exit(gui_flow_driver.main(sys.argv[1], sys.argv[2]))
