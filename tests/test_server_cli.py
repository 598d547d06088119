"""``kiosk backend add-kiosk|seed|serve`` as a real process, talking HTTP to it."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests

from kiosk_backend.testing import SignedClient

pytestmark = pytest.mark.slow


def _kiosk(*args: str, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "backend", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_add_kiosk_creates_a_private_secret_and_reuses_it(tmp_path):
    db = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    secret_file = tmp_path / "keys" / "kiosk-7.secret"
    first = _kiosk("add-kiosk", "--id", "kiosk-7", "--db", db, "--secret-file", str(secret_file))
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(bytes.fromhex(secret)) == 32
    again = _kiosk("add-kiosk", "--id", "kiosk-7", "--db", db, "--secret-file", str(secret_file))
    assert again.returncode == 0 and secret_file.read_text().strip() == secret
    assert secret not in first.stdout + first.stderr, "the secret is never printed"


def test_add_kiosk_rejects_a_malformed_secret_file(tmp_path):
    secret_file = tmp_path / "bad.secret"
    secret_file.write_text("not hex at all")
    result = _kiosk(
        "add-kiosk",
        "--id",
        "k1",
        "--db",
        f"sqlite:///{tmp_path / 'b.sqlite3'}",
        "--secret-file",
        str(secret_file),
    )
    assert result.returncode == 2 and "secret" in result.stderr


def test_serve_answers_signed_requests_from_a_provisioned_kiosk(tmp_path):
    db = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    secret_file = tmp_path / "k.secret"
    assert _kiosk("seed", "--db", db, "--postings", "200", "--persons", "30").returncode == 0
    assert _kiosk("seed", "--db", db).returncode == 1, "seeding twice is refused"
    assert (
        _kiosk(
            "add-kiosk", "--id", "site-kiosk-01", "--db", db, "--secret-file", str(secret_file)
        ).returncode
        == 0
    )
    port = _free_port()
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "backend",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/api/v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        client = SignedClient(base, "site-kiosk-01", secret_file.read_text().strip())
        jobs = client.get("/api/v1/jobs", params={"q": "司机"})
        assert jobs.status_code == 200 and jobs.json()["total"] > 0
        unsigned = requests.get(base + "/api/v1/jobs", timeout=10)
        assert unsigned.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        assert b"Traceback" not in server.stderr.read()


def test_serve_refuses_zero_workers():
    result = _kiosk("serve", "--workers", "0", "--db", "sqlite:///unused.sqlite3")
    assert result.returncode == 2
    assert "--workers: must be 1 or more" in result.stderr
