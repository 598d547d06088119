"""Run one GUI scenario script in a child process and hand back what it observed.

A Kivy App runs once per process, so every GUI test starts ``python <script> <scenario>
<orientation>`` under the current display (tests/gui_driver.py, tests/gui_flow_driver.py,
tests/test_maint_gui.py). The child prints one ``RESULT {json}`` line; a failing step, a
timeout or a crash comes back as an AssertionError carrying the child's output and log tail,
never as a hang.

Each child's data directory starts with a copy of a demo platform database seeded once per
test run: the demo seed (thousands of postings, hundreds of persons with histories) would
otherwise cost every scenario several seconds before its first screen.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

RESULT_PREFIX = "RESULT "
ROOT = Path(__file__).resolve().parents[1]
_seeded_template: Path | None = None


def seeded_platform_template() -> Path:
    """The demo platform database, seeded on first use in this process (same seed, same day)."""
    global _seeded_template
    if _seeded_template is None:
        from kiosk.config import load_config
        from kiosk.services.embedded_backend import (
            BACKEND_DB_FILE_NAME,
            start_embedded_backend,
        )

        # The demo kiosk's own id: the child re-keys it with its own secret on start.
        kiosk_id = load_config().kiosk.device_id
        directory = Path(tempfile.mkdtemp(prefix="kiosk-seeded-platform-"))
        _url, _secret, handle = start_embedded_backend(directory, kiosk_id)
        handle.stop()
        _seeded_template = directory / BACKEND_DB_FILE_NAME
    return _seeded_template


def give_seeded_platform(data_dir: Path) -> None:
    """Put a copy of the seeded demo platform database into *data_dir* (unless one is there),
    with its server key file (the secrets in it are sealed with that key), both 0600.

    SQLite's backup API copies a consistent database, WAL content included.
    """
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME
    from kiosk_backend.db import ensure_private_sqlite_file
    from kiosk_backend.server_keys import KEY_FILE_SUFFIX

    target = data_dir / BACKEND_DB_FILE_NAME
    if target.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    template = seeded_platform_template()
    key = Path(f"{template}{KEY_FILE_SUFFIX}").read_bytes()
    fd = os.open(f"{target}{KEY_FILE_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    ensure_private_sqlite_file(target)
    source = sqlite3.connect(template)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def run_child(
    script: Path,
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    env: dict[str, str] | None = None,
    timeout: float = 300,
    seeded: bool = True,
) -> dict:
    """Run scenario *name* of *script* in a child process; its observations (raises on failure)."""
    if seeded:
        give_seeded_platform(data_dir)
    child_env = {
        **os.environ,
        "KIOSK_DATA_DIR": str(data_dir),
        "KIVY_HOME": str(data_dir / "kivy"),
        "KIVY_NO_ARGS": "1",
        "KIOSK_ALLOW_SHORT_TIMERS": "1",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, str(script), name, orientation],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env,
        cwd=ROOT,
    )
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    log_file = data_dir / "logs" / "kiosk.log"
    log_tail = log_file.read_text(encoding="utf-8")[-4000:] if log_file.exists() else ""
    if done.returncode != 0 or not results:
        raise AssertionError(
            f"scenario {name} failed (exit {done.returncode})\n--- stdout\n{done.stdout[-3000:]}"
            f"\n--- stderr\n{done.stderr[-5000:]}\n--- log\n{log_tail}"
        )
    report = json.loads(results[-1][len(RESULT_PREFIX) :])
    if report["error"]:
        raise AssertionError(f"scenario {name}: {report['error']}\n--- log\n{log_tail}")
    return report["observations"]


def print_result(error: str | None, observations: dict) -> None:
    """The child's last word: the one line :func:`run_child` reads."""
    report = {"error": error, "observations": observations}
    print(RESULT_PREFIX + json.dumps(report, ensure_ascii=False, default=str))
