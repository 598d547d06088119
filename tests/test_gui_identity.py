"""Identity tokens on screen (tests/gui_identity_driver.py): the session's end revokes its
token — 首页 and taking the card out — and over the person limit the 确认身份 screen says so
in Chinese, in both orientations."""

from __future__ import annotations

import os

import pytest
from gui_identity_driver import run_identity_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_session_holds_and_revokes_its_token_and_the_limit_is_explained(data_dir, orientation):
    seen = run_identity_scenario(
        "identity_tokens_follow_the_session", data_dir, orientation=orientation
    )
    assert seen["records_with_token"] is True
    assert seen["evidence"] == "essc"
    assert seen["revoked_at_home"] is True
    assert seen["card_evidence"] == "sscard_psam"
    assert seen["revoked_at_card_out"] is True
    assert seen["limit_screen"] == "identify"
    assert seen["limit_session_identified"] is False
    assert seen["limit_status"] == (
        "本机查询的人数已超过限制，请稍后再试或到柜台办理；已通知县人社部门"
    )
    sizes = seen["sizes"]["identify-person-limit"]
    assert sizes["min_font_px"] >= 32 and sizes["min_target_px"] >= 120
