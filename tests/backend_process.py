"""The platform run as a county runs it: the real ``kiosk backend`` command in its own process
(under the umask of a typical shell, so a file's mode is the code's choice), serving on
127.0.0.1. For tests in tests/ and tests/security/."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import requests

SHELL_UMASK = "022"  # what a root shell on Debian has: files 0644 unless created otherwise


def _command(*args: str) -> list[str]:
    """``kiosk backend ARGS`` under ``umask 022``, so a file's mode is the code's choice."""
    launcher = f'umask {SHELL_UMASK} && exec "$@"'
    return ["sh", "-c", launcher, "sh", sys.executable, "-m", "kiosk", "backend", *args]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "KIOSK_BACKEND_KEY_FILE"}
    return {**base, **(env or {})}


def backend_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``kiosk backend ARGS`` to completion; the result keeps stdout and stderr."""
    return subprocess.run(
        _command(*args), capture_output=True, text=True, timeout=180, env=_environment(env)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(db_url: str, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``kiosk backend serve --db DB_URL ARGS`` until the block ends; yields its base URL.

    On leaving, the server gets SIGTERM and must shut down cleanly, without a traceback.
    """
    port = free_port()
    with tempfile.TemporaryFile() as stderr:
        command = _command(
            "serve", "--db", db_url, "--port", str(port), "--log-level", "warning", *args
        )
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr, env=_environment(env)
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if requests.get(base + "/api/v1/health", timeout=2).ok:
                        break
                except requests.ConnectionError:
                    pass
                assert server.poll() is None, _text(stderr)
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then re-raises the signal it caught
            assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Traceback" not in _text(stderr)


def _text(stream) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", errors="replace")
