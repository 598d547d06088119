"""UI benchmark: tap-to-next-screen-drawn latency over the main resident flows, each main
screen's full-frame render cost against a Kivy hello's in the same run, and memory after many
sessions. Prints one JSON object. Milliseconds throughout.

Runs the real app (portrait) under the current display — or under ``xvfb-run`` when there is
none — in demo mode: the embedded reference backend and the device simulators (the scenario
``benchmark`` of tests/gui_flow_driver.py). Fields:

- ``latency_ms.total``: from the finger lifting to the first frame drawn (its flip returned)
  after the next screen — with its results, for backend-bound steps — is ready;
- ``latency_ms.python``: from the finger lifting to that frame's draw calls submitted, less the
  flips of frames drawn in between: our Python (events, layout, text, the HTTP wait of
  backend-bound steps), what a kiosk with a working GPU still waits for;
  each with ``navigation`` / ``backend_bound`` / ``all`` and ``by_step`` p50/p95/p99/max;
- ``render_ms``: per main screen, median/p95 of forced full-frame redraws (``on_draw`` + the
  window's ``flip``; under Mesa llvmpipe the GL work happens there), and ``hello_render_ms``
  the same for benchmarks/hello.py (same window, font, five buttons), ``render_ratio`` the
  medians' ratio (goal ≤ 1.5); ``render_cpu_ratio`` the same with CPU time (``cpu_ms_median``),
  steadier on a loaded machine, where the hello (a process of its own, measured later) may
  meet another load than the kiosk did;
- ``memory``: RSS and live widget count after 10 and after N simulated sessions (identify,
  form, records, list, receipt with its image, 我的办件, end) that reuse the screens built once;
  a leak shows as growth.

    python benchmarks/ui.py [--rounds 5] [--sessions 1000] [--frames 34]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=34, help="redraws per render cost")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1920x24", sys.executable, *sys.argv]
        return subprocess.call(command)
    sys.path.insert(0, str(ROOT / "tests"))
    from gui_flow_driver import run_flow_scenario

    with tempfile.TemporaryDirectory(prefix="kiosk-ui-bench-") as tmp:
        seen = run_flow_scenario(
            "benchmark",
            Path(tmp),
            env={
                "BENCH_ROUNDS": str(args.rounds),
                "BENCH_SESSIONS": str(args.sessions),
                "BENCH_RENDER_FRAMES": str(args.frames),
            },
            timeout=3600,
        )
    hello = hello_render(args.frames)
    seen.pop("sizes", None)
    seen["hello_render_ms"] = hello
    seen["render_ratio"] = {
        name: round(cost["frame_ms_median"] / hello["frame_ms_median"], 2)
        for name, cost in seen.get("render_ms", {}).items()
    }
    seen["render_cpu_ratio"] = {
        name: round(cost["cpu_ms_median"] / hello["cpu_ms_median"], 2)
        for name, cost in seen.get("render_ms", {}).items()
    }
    print(json.dumps({"benchmark": "ui", **seen}, ensure_ascii=False))
    return 0


def hello_render(frames: int) -> dict:
    """benchmarks/hello.py's render cost, in a process of its own under the same display."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "hello.py"), "render", "--frames", str(frames)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"hello.py render failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    raise SystemExit(main())
