"""`kiosk diag printer` end to end, in a subprocess, against the simulator on a pty."""

import json
import os
import subprocess
import sys

import pytest

from kiosk.devices.printer.simulator import PrinterSimulator


def run_cli(*args, data_dir):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "printer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def simulator(tmp_path):
    sim = PrinterSimulator(tmp_path / "receipts")
    sim.start()
    yield sim
    sim.stop()


def test_demo_config_starts_the_simulator_and_prints(data_dir):
    out = run_cli("--json", data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] is True and result["bytes_sent"] > 500
    assert result["status"] == {
        "online": True,
        "cover_open": False,
        "paper_end": False,
        "paper_near_end": False,
    }
    assert os.path.getsize(result["saved_png"]) > 1000


def test_given_port_prints_the_test_page_there(simulator, data_dir):
    out = run_cli("--port", simulator.port, data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    assert "test page printed" in out.stdout
    assert simulator.wait_for_receipts(1, timeout=30)


def test_out_of_paper_exits_non_zero_and_says_so(simulator, data_dir):
    simulator.set_paper("end")
    out = run_cli("--port", simulator.port, data_dir=data_dir)
    assert out.returncode == 1
    assert "out of paper" in out.stderr and "缺纸" in out.stderr
    out = run_cli("--port", simulator.port, "--json", data_dir=data_dir)
    result = json.loads(out.stdout)
    assert out.returncode == 1
    assert result["ok"] is False and result["status"]["paper_end"] is True
    assert result["bytes_sent"] == 0


def test_silent_port_is_unknown_not_ok(simulator, data_dir):
    simulator.set_offline(True)
    out = run_cli("--port", simulator.port, "--json", data_dir=data_dir)
    result = json.loads(out.stdout)
    assert out.returncode == 1
    assert result["status"]["online"] is None and result["error"] == "no_reply"
