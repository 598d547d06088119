"""A tap in the first moments after home is drawn reaches a complete app (kiosk.startup_steps).

The kiosk draws home before building its other screens, runtime and components; a resident may
tap a category tile at once. This runs the real app in site mode (config/site.example.toml, no
platform, no devices) in its own process, taps 我要找工作 through Kivy's input path on the
first drawn frame — before the deferred start-up can have finished — and checks that the tap
opened the category list and that the start-up had completed before the tap was handled.
Run under Xvfb: ``xvfb-run -a -s "-screen 0 1920x1920x24" pytest tests/test_gui_first_tap.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "RESULT "


@pytest.fixture(autouse=True)
def _display():
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: run under xvfb-run")


def site_config(directory: Path) -> Path:
    text = (ROOT / "config" / "site.example.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^data_dir = ".*"$', f'data_dir = "{directory / "data"}"', text, count=1)
    path = directory / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tap_on_the_first_frame_opens_the_category_of_a_complete_app(tmp_path):
    env = dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "data"), KIVY_NO_ARGS="1")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(site_config(tmp_path))],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=ROOT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    assert result == {
        "error": None,
        "done_at_first_frame": False,
        "done_when_tapped": True,
        "screen": "category",
        "category": "我要找工作",
        "flow_screens": True,
        "components_started": 8,
    }


def _main(config_path: str) -> int:
    from kiosk.config import load_config
    from kiosk.screens.bootstrap import GuiOptions, start_gui

    result: dict = {"error": "the app stopped before the tap"}

    def on_first_frame(app, _seconds) -> None:
        from kiosk.screens.driver import ScenarioRunner, tap_at

        result["done_at_first_frame"] = app.startup.done
        tile = app.screens["home"].tile("我要找工作")
        x, y = tile.to_window(tile.x + tile.width / 2, tile.y + tile.height / 2)

        def script():
            yield from tap_at(x, y, settle=False)
            result["screen"] = app.current_screen
            result["category"] = app.screens["category"].category_name

        def on_finish(error) -> None:
            result["error"] = None if error is None else f"{type(error).__name__}: {error}"
            result["flow_screens"] = {"identify", "form", "confirm"} <= set(app.screens)
            result["components_started"] = len(app._started)
            app.allow_exit = True
            app.stop()

        original = app.startup.finish_now

        def finish_now() -> None:  # the first touch's call: was it still needed?
            original()
            result.setdefault("done_when_tapped", app.startup.done)

        app.startup.finish_now = finish_now
        ScenarioRunner(script(), on_finish).start(delay=0)

    start_gui(load_config(config_path), GuiOptions(fullscreen=False, on_first_frame=on_first_frame))
    print(RESULT_PREFIX + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(_main(sys.argv[1]))
