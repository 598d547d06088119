"""The backend benchmark of issue 6: job search latency and outbox delivery rate, one JSON object.

Runs benchmarks/backend_search.py (n-gram index vs LIKE over 100,000 postings, SQLite and, when
KIOSK_TEST_PG_URL is set, PostgreSQL) and benchmarks/backend_outbox.py (durable commits and delivery
to the embedded reference server over real HTTP) as subprocesses, so each measures in a fresh
process, and prints {"search": {...}, "outbox": {...}}. Extra arguments go to neither.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(script: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / script)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": f"{script} exited {out.returncode}", "stderr": out.stderr[-2000:]}
    lines = [line for line in out.stdout.splitlines() if line.strip().startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": f"{script} printed no JSON"}


def main() -> int:
    result = {"search": _run("backend_search.py"), "outbox": _run("backend_outbox.py")}
    print(json.dumps(result, ensure_ascii=False))
    return 1 if any("error" in part for part in result.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
