"""`kiosk diag scanner` end to end, in a subprocess."""

import json
import os
import subprocess
import sys
import threading
import time

from kiosk.devices.scanner.simulator import ScannerSimulator


def run_cli(*args, data_dir, **kwargs):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", "diag", "scanner", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_demo_config_scans_a_demo_code(data_dir):
    proc = run_cli("--json", "--timeout", "30", data_dir=data_dir)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout) == {"ok": True, "code": "DEMO-ESSC-0000"}


def test_waits_for_one_scan_on_the_given_port(data_dir):
    with ScannerSimulator("CR") as sim:
        proc = run_cli("--port", sim.port, "--json", "--timeout", "60", data_dir=data_dir)
        stop = threading.Event()

        def keep_scanning():  # the CLI flushes input on open; scan until it has read one
            while not stop.is_set():
                sim.scan("REAL-CODE|01")
                time.sleep(0.5)

        scanner = threading.Thread(target=keep_scanning, daemon=True)
        scanner.start()
        stdout, stderr = proc.communicate(timeout=120)
        stop.set()
        scanner.join()
    assert proc.returncode == 0, stderr
    assert json.loads(stdout) == {"ok": True, "code": "REAL-CODE|01"}


def test_timeout_exits_non_zero(data_dir):
    with ScannerSimulator("CR") as sim:
        proc = run_cli("--port", sim.port, "--timeout", "1", data_dir=data_dir)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "no scan within 1 s" in stderr
