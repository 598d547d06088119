"""UI benchmark: tap-to-next-screen-drawn latency over the main resident flows, and memory
after many sessions. Prints one JSON object.

Runs the real app (portrait) under the current display — or under ``xvfb-run`` when there is
none — with the reference backend and the device simulators (the rig of
tests/gui_flow_driver.py). Latency: from the finger lifting to the first frame drawn after the
next screen (with its results, for backend-bound steps) is ready. Memory: RSS and live widget
count after 10 and after N simulated sessions (identify, form, records, list, receipt with its
image, 我的办件, end) that reuse the screens built once; a leak shows as growth.

    python benchmarks/ui.py [--rounds 5] [--sessions 1000]
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
            env={"BENCH_ROUNDS": str(args.rounds), "BENCH_SESSIONS": str(args.sessions)},
            timeout=3600,
        )
    seen.pop("sizes", None)
    print(json.dumps({"benchmark": "ui", **seen}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
