"""`kiosk tour` writes one PNG per screen, with stable names, for both orientations."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image

from kiosk.screens.theme import PALETTE

pytestmark = [
    pytest.mark.gui,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

EXPECTED = [
    "01-home",
    "02-category-1",
    "03-item-1",
    "04-idle-prompt",
    "05-category-2",
    "06-category-3",
    "07-category-4",
    "08-item-23",
    "09-item-32",
    "10-help",
    # The resident flows, reached by taps through the demo devices and backend.
    "11-flow-identify",
    "12-flow-form-eligibility",
    "13-flow-form",
    "14-flow-keypad",
    "15-flow-picker",
    "16-flow-confirm",
    "17-flow-match",
    "18-flow-my-applications",
    "19-flow-search-list",
    "20-flow-search-detail",
    "21-flow-records",
    "22-flow-certificate",
    "23-flow-counter-notice",
    "24-flow-work-order",
    "25-flow-pinyin",
]


# The tour's own limit (400 s, two orientations from an empty data dir) must be the one that
# stops it, with its output, rather than the suite's 300 s per-test default.
@pytest.mark.timeout(420)
def test_tour_writes_every_screen_in_both_orientations(data_dir, tmp_path):
    out = tmp_path / "screens"
    env = dict(os.environ, KIOSK_DATA_DIR=str(data_dir), KIVY_HOME=str(data_dir / "kivy"))
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "tour", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=400,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    expected = {f"{o}-{name}.png" for o in ("portrait", "landscape") for name in EXPECTED}
    assert {p.name for p in out.iterdir()} == expected
    top_bar = tuple(round(c * 255) for c in PALETTE.primary[:3])
    for orientation, size in (("portrait", (1080, 1920)), ("landscape", (1920, 1080))):
        with Image.open(out / f"{orientation}-01-home.png") as image:
            assert image.size == size
            rgb = image.convert("RGB")
            # The top bar is drawn opaque in the theme colour (no transparent background).
            assert rgb.getpixel((size[0] // 2, 10)) == top_bar
            assert len(rgb.getcolors(maxcolors=1 << 20)) > 100  # text and icons, not a blank
