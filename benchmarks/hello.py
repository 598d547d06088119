"""The Kivy hello the kiosk's figures are compared with: a bare Kivy app with the kiosk's window
(1080×1920 portrait or 1920×1080 landscape, not fullscreen), its CJK font and a five-button
page (a title and five large labelled buttons, as the kiosk's home has). Nothing of ``kiosk`` is
imported but the font finder, so it is what any Kivy app pays on this machine.

    python benchmarks/hello.py first-frame [--orientation portrait]
        one JSON line at the first drawn frame: first_frame_s (from the kernel's process start,
        as ``kiosk run --exit-after-first-frame``), peak_rss_mb, pss_mb; then exits
    python benchmarks/hello.py render [--frames 34]
        one JSON line: the median and p95 milliseconds of the window's flip over forced
        full-frame redraws (what benchmarks/ui.py measures for each kiosk screen)

Used by benchmarks/startup.py and benchmarks/ui.py, which run it in the same run as the kiosk
and print the ratios; not a benchmark on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
BUTTONS = ("我要找工作", "我要学技能", "我要办社保", "我要办社保卡", "我的办件")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("first-frame", "render"))
    parser.add_argument("--orientation", choices=tuple(WINDOW_SIZES), default="portrait")
    parser.add_argument("--frames", type=int, default=34)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from kiosk.fonts import find_cjk_font  # pure Python: no Kivy, no kiosk services

    font = find_cjk_font()
    width, height = WINDOW_SIZES[args.orientation]
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-hello-"))
    os.makedirs(os.environ["KIVY_HOME"], exist_ok=True)  # Kivy exits silently without it
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "0")
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.text import LabelBase
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    LabelBase.register("Hello", str(font))

    class Hello(App):
        def build(self):
            Window.clearcolor = (0.93, 0.95, 0.98, 1)
            page = BoxLayout(orientation="vertical", padding=40, spacing=30)
            page.add_widget(
                Label(text="您好！请选择您要办理的业务", font_name="Hello", font_size=56,
                      color=(0.05, 0.25, 0.5, 1), size_hint_y=0.15)
            )  # fmt: skip
            for text in BUTTONS:
                page.add_widget(Button(text=text, font_name="Hello", font_size=48))
            return page

        def on_start(self):
            if args.mode == "first-frame":
                Window.bind(on_flip=self._first_flip)
            else:
                Clock.schedule_once(lambda _dt: self._render_when_laid_out(), 1.0)

        def _first_flip(self, *_args):
            Window.unbind(on_flip=self._first_flip)
            print(json.dumps(first_frame_report()), flush=True)
            self.stop()

        def _render_when_laid_out(self, still=0, last=None):
            # On a loaded machine the first layout can land after the first second: measured
            # earlier, the hello draws five default 100 px buttons and looks far cheaper.
            here = [(*w.pos, *w.size) for w in self.root.walk()]
            laid_out = tuple(self.root.size) == tuple(Window.size)
            still = still + 1 if laid_out and here == last else 0
            if still < 3:
                Clock.schedule_once(lambda _dt: self._render_when_laid_out(still, here), 0)
                return
            print(json.dumps(render_cost(Window, args.frames)), flush=True)
            self.stop()

    Hello().run()
    return 0


def first_frame_report() -> dict:
    """What ``kiosk run --exit-after-first-frame`` reports, measured the same way."""
    import resource

    sys.path.insert(0, str(ROOT))
    from kiosk.commands.run import _pss_kb

    with open("/proc/self/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    elapsed = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    report = {
        "first_frame_s": round(elapsed, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    pss = _pss_kb()
    if pss is not None:
        report["pss_mb"] = round(pss / 1024, 1)
    return report


def render_cost(window, frames: int) -> dict:
    """Median/p95 ms of full-frame redraws: the canvas drawn and the buffers swapped, timed
    around ``Window.flip`` after ``on_draw`` (GL calls are queued until the flip waits for them
    under software GL). ``cpu_ms_median``: the process's CPU time over the same span (llvmpipe's
    threads included), which a loaded machine stretches far less than the wall clock. Runs on
    the UI thread, blocking it for the duration."""
    import statistics

    timings, cpu = [], []
    for _ in range(frames + 2):
        started, cpu_started = time.perf_counter(), time.process_time()
        window.dispatch("on_draw")
        window.flip()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    timings = sorted(timings[2:])  # the first two warm caches (shaders, glyph atlas)
    return {
        "frames": frames,
        "frame_ms_median": round(statistics.median(timings), 2),
        "frame_ms_p95": round(timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))], 2),
        "cpu_ms_median": round(statistics.median(cpu[2:]), 2),
    }


if __name__ == "__main__":
    raise SystemExit(main())
