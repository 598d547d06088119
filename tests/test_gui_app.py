"""The kiosk GUI under a real X display (Xvfb): taps, the idle timeout, refusing to quit.

Each scenario runs the real app in its own process (see tests/gui_driver.py).
"""

from __future__ import annotations

import os

import pytest
from gui_driver import run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

# The children's idle clock stands still until a scenario lets time pass (gui_child.pass_idle):
# the configured idle and prompt times hold, and no scenario waits for them in real time.
PROMPT_SECONDS = 20  # config/default.toml [session] prompt_seconds


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_tap_home_category_item_back_home(data_dir, orientation):
    """GIVEN the home screen WHEN a resident taps 我要找工作, item 1, 返回, 返回
    THEN each screen shows what was tapped, and home has wiped the item screen."""
    seen = run_scenario("navigate", data_dir, orientation=orientation)

    width, height = seen["home"]["window"]
    assert (width, height) == ((1080, 1920) if orientation == "portrait" else (1920, 1080))
    assert seen["item"]["title"] == "固定工求职登记"
    assert seen["item"]["kiosk_runs"] is True
    assert "登记固定工求职者" in seen["item"]["shown"]
    assert seen["session_open_on_item"] is True
    assert seen["category_after_back"]["name"] == "我要找工作"
    assert seen["category_after_back"]["rows"] == 15
    assert seen["session_open_at_home"] is False
    assert seen["item_text_at_home"] == ""
    assert seen["counter_item"]["kiosk_runs"] is False
    assert "柜台" in seen["counter_item"]["hint"]
    assert seen["item_text_after_home_button"] == ""


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_elderly_friendly_sizes_on_real_widgets(data_dir, orientation):
    """Every visible text is ≥ 32 px and every visible button ≥ 120 px (short side 1080 px)."""
    seen = run_scenario("navigate", data_dir, orientation=orientation)
    for screen in ("home", "item", "category_after_back"):
        assert seen[screen]["labels"] > 5
        assert seen[screen]["min_font_px"] >= 32, screen
        assert seen[screen]["min_button_px"] >= 120, screen


def test_idle_prompt_appears_and_one_tap_dismisses_it(data_dir):
    seen = run_scenario("idle_prompt_dismissed", data_dir)
    assert seen["prompt_seconds_left"] == PROMPT_SECONDS
    assert seen["countdown_text"] == str(PROMPT_SECONDS)
    assert seen["prompt_after_tap"] is False
    assert seen["screen_after_tap"] == "item"
    assert seen["title_after_tap"] == "固定工求职登记", "continuing must keep the session"


def test_idle_timeout_returns_home_and_clears_the_item(data_dir):
    seen = run_scenario("idle_expires_to_home", data_dir)
    assert seen["title_before"] == "失业保险金申领"
    assert seen["prompt_shown"] is True
    assert seen["prompt_after_expiry"] is False
    assert seen["item_text_after_expiry"] == ""
    assert seen["category_rows_after_expiry"] == 0
    assert seen["session_after_expiry"] is False
    assert seen["text_cache_after_expiry"] is None, "Kivy's TextInput text cache is purged"


def test_escape_and_window_close_do_not_quit_outside_maintenance(data_dir):
    seen = run_scenario("escape_and_close_refused", data_dir)
    assert seen["close_request_consumed"] is True
    assert seen["escape_consumed"] is True
    assert seen["stopped"] is False
    assert seen["still_home"] is True
    assert seen["close_allowed_in_maintenance"] is True


def test_screens_are_built_once_and_reused(data_dir):
    seen = run_scenario("screens_are_reused", data_dir)
    assert seen["same_screens"] is True
    # Ten more round trips may add a handful of labels (caches), not one per visit.
    assert seen["labels_at_end"] - seen["labels_after_warmup"] < 10, seen


def test_help_panel_tells_where_staff_are_and_times_out(data_dir):
    seen = run_scenario("help_panel", data_dir)
    shown = "".join(seen["help_texts"])
    assert "柜台" in shown and "周一至周五" in shown, "counter hours from config"
    assert seen["closed_by_button"] is True
    assert seen["screen_after_timeout"] == "home"


def test_bus_events_from_worker_threads_arrive_on_the_ui_thread(data_dir):
    seen = run_scenario("bus_events_from_threads", data_dir)
    assert seen == {"count": 1000, "all_on_ui_thread": True, "in_order_per_worker": True}


def test_logs_are_json_lines_under_the_data_dir_and_kivy_home_too(data_dir):
    import json

    run_scenario("navigate", data_dir)
    lines = (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    events = {entry.get("event") for entry in entries}
    assert {"gui_start", "first_frame", "navigate", "session_end", "wipe"} <= events
    assert any(entry["logger"] == "kivy" for entry in entries), "Kivy's records join our log"
    assert (data_dir / "kivy" / "config.ini").is_file(), "KIVY_HOME lives under the data dir"


def test_an_error_in_a_screen_wipes_and_returns_home_instead_of_crashing(data_dir):
    seen = run_scenario("ui_error_recovers", data_dir)
    assert seen == {"ui_errors": 1, "item_text": "", "works_after": "我要学技能"}
    log_text = (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "unhandled UI error: RuntimeError at " in log_text
    # the error's text may quote a resident (tests/security/test_log_privacy.py): never logged
    assert "a screen bug" not in log_text


def test_an_error_storm_stops_the_app_for_a_clean_restart(data_dir):
    with pytest.raises(AssertionError) as failure:
        run_scenario("error_storm", data_dir, timeout=120)
    assert "exit 0" not in str(failure.value)
    assert "UI errors keep repeating; stopping" in str(failure.value)
