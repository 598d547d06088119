"""Start-up benchmark: seconds from process start to the first drawn home frame, and peak RSS.

Spawns ``kiosk run --windowed --exit-after-first-frame`` five times under the current display
(``make bench`` wraps it in xvfb-run) after one uncounted warm-up run, and prints one JSON object
with medians. ``first_frame_s`` is measured inside the child from the kernel's process start
time; ``process_wall_s`` is measured here, from just before spawning to the child's exit.
Peak RSS is the child's ``ru_maxrss`` (resident set including shared libraries such as Mesa's
llvmpipe, so higher than PSS); ``pss_mb`` is the proportional set size at the first frame.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
TIMEOUT_SECONDS = 120


def one_run(data_dir: str) -> dict:
    env = dict(os.environ, KIOSK_DATA_DIR=data_dir, KIVY_HOME=os.path.join(data_dir, "kivy"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--windowed", "--exit-after-first-frame"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env=env,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"kiosk run failed (exit {done.returncode}): {done.stderr.strip()}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = wall
    return report


def main() -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("no display: run under xvfb-run -a -s '-screen 0 1920x1920x24'", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as data_dir:
        warmup = one_run(data_dir)
        runs = [one_run(data_dir) for _ in range(RUNS)]
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "first_frame_s_median": round(
                    statistics.median(r["first_frame_s"] for r in runs), 3
                ),
                "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
                "pss_mb_median": round(statistics.median(r.get("pss_mb", 0.0) for r in runs), 1),
                "process_wall_s_median": round(
                    statistics.median(r["process_wall_s"] for r in runs), 3
                ),
                "first_frame_s_runs": [r["first_frame_s"] for r in runs],
                "warmup_first_frame_s": warmup["first_frame_s"],
                "runs": RUNS,
                "orientation": "portrait (display.orientation default)",
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
