"""Start-up benchmark: seconds from process start to the first drawn home frame, and memory then,
for the kiosk in site mode, in demo mode and for a Kivy hello (benchmarks/hello.py: the same
window, font and a five-button page) in the same run, with the ratios. One JSON object.

Each run spawns ``kiosk run --config <site.toml> --windowed --exit-after-first-frame`` (site
mode: config/site.example.toml with a temporary data directory — no embedded platform; the
platform's address does not answer and the devices are absent, which the kiosk reports and
carries on), the same without ``--config`` (demo mode: the embedded platform, the simulators)
and ``benchmarks/hello.py first-frame``, interleaved, RUNS times after one uncounted warm-up of
each, under the current display (``make bench`` wraps it in xvfb-run). Medians are printed.

``first_frame_s`` is measured inside each child from the kernel's process start time;
``process_wall_s`` here, from just before spawning to the child's exit. ``pss_mb`` is the
proportional set size at the first frame (shared libraries counted pro rata); ``peak_rss_mb``
the child's ``ru_maxrss`` at the first frame (Mesa's llvmpipe included, so higher). The kiosk
builds what home does not need right after its first frame (kiosk/startup_steps.py):
``ready_s`` / ``ready_pss_mb`` are taken when that has finished (every screen built, the
components started) — a tap before then waits for it. Goals (issue 14): site mode first frame
≤ 1.5 s and ≤ 2.5× the hello's, PSS ≤ 1.3× the hello's.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
TIMEOUT_SECONDS = 120
FIELDS = ("first_frame_s", "pss_mb", "peak_rss_mb", "ready_s", "ready_pss_mb", "process_wall_s")


def one_run(command: list[str], data_dir: str) -> dict:
    env = dict(os.environ, KIOSK_DATA_DIR=data_dir, KIVY_HOME=os.path.join(data_dir, "kivy"))
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=env, cwd=ROOT
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[1:4]} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = wall
    return report


def site_config(directory: Path) -> Path:
    """config/site.example.toml with its data directory moved into *directory*."""
    text = (ROOT / "config" / "site.example.toml").read_text(encoding="utf-8")
    data = directory / "site-data"
    text = re.sub(r'(?m)^data_dir = ".*"$', f'data_dir = "{data}"', text, count=1)
    path = directory / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("no display: run under xvfb-run -a -s '-screen 0 1920x1920x24'", file=sys.stderr)
        return 3
    runs = int(os.environ.get("BENCH_RUNS", RUNS))
    kiosk = [sys.executable, "-m", "kiosk", "run", "--windowed", "--exit-after-first-frame"]
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        site = site_config(Path(tmp))
        commands = {
            "site": [*kiosk, "--config", str(site)],
            "demo": kiosk,
            "hello": [sys.executable, str(ROOT / "benchmarks" / "hello.py"), "first-frame"],
        }
        data_dirs = {name: os.path.join(tmp, name) for name in commands}
        results: dict[str, list[dict]] = {name: [] for name in commands}
        for round_no in range(runs + 1):  # round 0: the warm-up (caches, the demo database)
            for name, command in commands.items():
                report = one_run(command, data_dirs[name])
                if round_no:
                    results[name].append(report)
    medians = {
        name: {
            f"{field}_median": round(statistics.median(r[field] for r in reports), 3)
            for field in FIELDS
            if all(field in r for r in reports)
        }
        | {"first_frame_s_runs": [r["first_frame_s"] for r in reports]}
        for name, reports in results.items()
    }
    hello = medians["hello"]

    def ratio(name: str, field: str) -> float:
        return round(medians[name][f"{field}_median"] / hello[f"{field}_median"], 2)

    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": runs,
                "orientation": "portrait (display.orientation default)",
                **medians,
                "ratios_to_hello": {
                    name: {
                        "first_frame": ratio(name, "first_frame_s"),
                        "pss": ratio(name, "pss_mb"),
                    }
                    for name in ("site", "demo")
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
