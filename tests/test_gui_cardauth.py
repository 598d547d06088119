"""Card authentication on screen: a cloned social security card is refused with a clear message.

The scenario runs the real app in its own process (this file is also the child's entry point:
``python tests/test_gui_cardauth.py <scenario> <orientation>``) on the resident-flow rig of
tests/gui_flow_driver.py: the reference backend on 127.0.0.1, the device simulators, and the
virtual card behind the real driver with the virtual PSAM in a second reader. Taps go through
Kivy's input path. PNGs land in $FLOW_SHOTS (default: the test's data dir) — look at them.
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


def run_scenario(name: str, data_dir: Path, orientation: str) -> dict:
    from gui_flow_driver import RIG_DIR_NAME

    gui_child.give_seeded_platform(data_dir / RIG_DIR_NAME)
    shots = os.environ.get("FLOW_SHOTS", str(data_dir / "shots"))
    return gui_child.run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"FLOW_SHOTS": shots},
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


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gui_flow_driver

    gui_flow_driver.scenario(cloned_card_refused)
    sys.exit(gui_flow_driver.main(sys.argv[1], sys.argv[2]))
