"""Voice guidance in the running app under Xvfb: what each screen and event says, that it is
said off the UI thread and cut when the screen changes, and that nothing personal is spoken —
over every screen of the tour. The app plays through a recording mixer (tests/voice_fakes.py);
the real SDL mixer is tested by tests/test_voice_cli.py and benchmarks/voice.py."""

from __future__ import annotations

import os
import re

import pytest
from gui_voice_driver import run_voice_scenario
from PIL import Image

from kiosk.domain.catalogue import load_catalogue
from kiosk.services.voice import prompt_table

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]
TABLE = prompt_table(load_catalogue())
DIGITS = re.compile(r"[0-9０-９]")


@pytest.fixture
def site_assets(tmp_path):
    """A site folder: the county's logo and its own recording of the welcome."""
    folder = tmp_path / "site-assets"
    (folder / "voice").mkdir(parents=True)
    Image.new("RGB", (360, 240), (180, 20, 20)).save(folder / "logo.png")
    shipped = TABLE  # noqa: F841  (the recording is a shipped clip under the welcome's name)
    from kiosk.paths import shipped_dir

    (folder / "voice" / "home.wav").write_bytes(
        (shipped_dir("assets") / "voice" / "session_ended.wav").read_bytes()
    )
    return folder


def test_each_screen_and_event_says_its_prompt_off_the_ui_thread(data_dir, site_assets, tmp_path):
    """GIVEN the app with a recording mixer and a site folder (logo, a recorded welcome)
    WHEN a resident taps through 固定工求职登记 by card, with 朗读 on several screens
    THEN home is silent until 朗读, each screen says its guidance when it opens, 朗读 adds the
    title, the card and the keypad and picker are spoken, 已受理 and 请取走凭条 follow the
    submission, 办理完成 says 请取走您的社保卡 and the end; every clip was loaded and started on
    the audio thread; a screen change cut the ways still being read."""
    shots = tmp_path / "shots"
    seen = run_voice_scenario(
        "voice_per_screen",
        data_dir,
        env={"KIOSK__ASSETS__SITE_DIR": str(site_assets), "VOICE_SHOTS": str(shots)},
    )
    steps = seen["steps"]
    assert steps["home_entry"] == []
    assert steps["home_read_aloud"][:1] == ["home"]
    assert seen["home_file"] == str(site_assets / "voice" / "home.wav")  # the site's recording
    assert seen["read_aloud_visible"] is True
    assert steps["category_entry"][:1] == ["category"]
    assert steps["category_read_aloud"][:2] == ["category_1", "category"]
    assert steps["item_entry"][:1] == ["item_notice"]
    assert steps["item_read_aloud"][:2] == ["item_1", "item_notice"]
    assert steps["identify_entry"][:1] == ["identify"]
    assert steps["identify_read_aloud"][:2] == ["identify", "identify_sscard"]
    assert steps["card_inserted"][:1] == ["card_inserted"]
    assert seen["read_after_card_went_in"] == []  # cut by the card and the new screen
    assert steps["form_entry"][:1] == ["form_eligibility"]
    assert steps["form_fields"][:1] == ["form"]
    assert [k for k in steps["form_hints"] if k in ("keypad", "picker")] == ["keypad", "picker"]
    assert steps["confirm_entry"] == ["accepted", "take_receipt"]
    assert steps["confirm_read_aloud"] == ["item_1", "accepted", "take_receipt"]
    assert steps["finish"] == ["take_card", "session_ended"]
    assert seen["threads"] == ["audio"]
    assert seen["mixer_closed"] is True
    assert seen["logo_path"] == str(site_assets / "logo.png") and seen["logo_width"] > 100
    with Image.open(shots / "home-with-logo.png") as image:
        red = image.convert("RGB").getpixel((int(seen["logo_width"]) // 2 + 20, 80))
    assert red == (180, 20, 20)  # the logo is drawn in the top bar
    spoken = [TABLE.text(k) for step in steps.values() for k in step if k in TABLE]
    for value in seen["personal_on_form"] + seen["personal_on_confirm"]:
        assert not any(value in text for text in spoken), value


def test_the_idle_warning_its_countdown_the_end_and_help_are_spoken(data_dir):
    seen = run_voice_scenario(
        "idle_and_help",
        data_dir,
        env={"KIOSK__SESSION__IDLE_SECONDS": "4", "KIOSK__SESSION__PROMPT_SECONDS": "13"},
    )
    steps = seen["steps"]
    assert steps["help"][:3] == ["category", "help-chime", "help_sent"]
    assert seen["chime_played"] == 1
    assert steps["idle"] == ["idle_warning", "idle_countdown", "session_ended"]
    assert seen["threads"] == ["audio"]


def test_read_aloud_over_the_whole_tour_says_only_fixed_prompts_never_personal_data(data_dir):
    """GIVEN every screen of the tour, identified residents' records, forms and receipts on them
    WHEN 朗读 is composed on each THEN every key is in the prompt table, every text is free of
    digits, and none holds the name, ID number, address or phone shown on that screen."""
    seen = run_voice_scenario("tour_read_aloud", data_dir, timeout=600)
    composed = seen["composed"]
    assert len(composed) == 23  # home, 4 categories, 3 items and the 15 shots of the flow tour
    assert composed["flow-confirm"]["keys"] == ["item_1", "accepted", "take_receipt"]
    assert composed["flow-match"]["keys"] == ["item_2", "match"]
    assert composed["flow-records"]["keys"] == ["item_26", "records"]
    assert composed["flow-identify"]["keys"][0] == "identify"
    heard = [label for label, c in composed.items() if c.get("read_aloud_heard")]
    assert len(heard) == 19  # every shot but the 4 under an overlay was read aloud by a tap
    identified = [label for label, c in composed.items() if c["personal"]]
    assert len(identified) >= 8  # the check ran with personal data on the glass
    assert any(c["shown"] for c in composed.values())  # … really shown on screen
    for label, c in composed.items():
        assert c["unknown"] == [], label
        assert c["keys"], f"{label}: a resident screen with nothing to say"
        for text in c["texts"]:
            assert not DIGITS.search(text), (label, text)
            for value in c["personal"]:
                assert value not in text, (label, value)
