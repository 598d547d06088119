"""The wheel carries config/ and assets/, and an installed kiosk finds them far from any checkout.

Built as a vendor builds it (`pip wheel`, isolated build with the pinned setuptools), installed
with `pip install --no-deps` into a fresh venv outside the checkout. The venv borrows the
project venv's dependencies through a plain path line in a .pth file: Python does not run the
.pth files of a directory added that way, so the project's editable install (which would point
back into the checkout) stays out, and `kiosk` is the wheel's copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*command, cwd: Path, env: dict | None = None, timeout: float = 300):
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def test_an_installed_wheel_finds_its_config_and_assets_outside_the_checkout(tmp_path):
    seconds = {}
    started = time.monotonic()
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT,
        cwd=tmp_path)  # fmt: skip
    seconds["build"] = time.monotonic() - started
    (wheel,) = (tmp_path / "dist").glob("jinjinban_kiosk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.data/data/share/jinjinban-kiosk"
    assert f"{data}/config/default.toml" in names
    assert f"{data}/config/site.example.toml" in names
    assert f"{data}/assets/voice/take_receipt.wav" in names
    assert f"{data}/assets/voice/manifest.toml" in names
    assert f"{data}/assets/sounds/help-chime.wav" in names
    assert not [n for n in names if n.startswith("kiosk/config/") and n.endswith(".toml")]

    started = time.monotonic()
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                  cwd=tmp_path).stdout.strip()  # fmt: skip
    (Path(purelib) / "project-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel,
        cwd=tmp_path)  # fmt: skip
    seconds["install"] = time.monotonic() - started

    started = time.monotonic()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "KIOSK_CONFIG")
    }
    env["KIOSK_DATA_DIR"] = str(tmp_path / "data")
    kiosk = venv / "bin" / "kiosk"
    where = run(python, "-c", "import kiosk, kiosk.paths; print(kiosk.__file__); "
                "print(kiosk.paths.shipped_dir('config'))", cwd=tmp_path, env=env).stdout  # fmt: skip
    module, config_dir = where.split()
    assert Path(module).is_relative_to(venv) and not Path(module).is_relative_to(ROOT)
    share = venv / "share" / "jinjinban-kiosk"
    assert Path(config_dir) == share / "config"

    catalogue = json.loads(run(kiosk, "catalog", "--json", cwd=tmp_path, env=env).stdout)
    assert len(catalogue) == 40 and catalogue[0]["name"] == "固定工求职登记"
    prompts = json.loads(run(kiosk, "voice", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert len(prompts) == 83
    for row in prompts:
        assert Path(row["file"]).is_relative_to(share / "assets" / "voice"), row
        assert Path(row["file"]).is_file() and row["seconds"] >= 0.3
    seconds["commands"] = time.monotonic() - started
    print(json.dumps({"wheel_test_seconds": {k: round(v, 1) for k, v in seconds.items()}}))
