"""A minimal signed HTTP client for tests and tools (not the kiosk's client, which lives in
kiosk.services): signs each request per the contract and adds an Idempotency-Key to POSTs."""

from __future__ import annotations

import contextlib
import dataclasses
import json as jsonlib
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from kiosk_backend.server import ServerHandle
from kiosk_backend.settings import DEMO_KIOSK_ID
from kiosk_backend.signing import signed_headers


class SignedClient:
    """``get``/``post`` against *base_url* as kiosk *kiosk_id*; returns ``requests.Response``."""

    def __init__(
        self,
        base_url: str,
        kiosk_id: str,
        secret_hex: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.secret = bytes.fromhex(secret_hex)
        self.session = session or requests.Session()
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        body: bytes | None = None,
        idempotency_key: str | None = None,
        extra_headers: dict[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> requests.Response:
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        if body is None:
            body = b"" if json is None else jsonlib.dumps(json, ensure_ascii=False).encode()
        url = self.base_url + path + ("?" + query if query else "")
        raw_path = urlsplit(url).path
        headers = {"Content-Type": "application/json"} if body else {}
        if sign:
            headers.update(
                signed_headers(
                    self.kiosk_id,
                    self.secret,
                    method,
                    raw_path,
                    query,
                    body,
                    timestamp=timestamp,
                    nonce=nonce,
                )
            )
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        headers.update(extra_headers or {})
        return self.session.request(method, url, data=body, headers=headers, timeout=self.timeout)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)


@contextlib.contextmanager
def scratch_postgres_database(admin_url: str) -> Iterator[str]:
    """Create a throw-away database on the server of *admin_url*; yield its URL; drop it after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclasses.dataclass
class RunningBackend:
    """A seeded server on a real socket plus a client signed as the demo kiosk."""

    handle: ServerHandle
    client: SignedClient
    kiosk_id: str
    secret_hex: str
    db_url: str

    @property
    def url(self) -> str:
        return self.handle.url

    def client_for(self, kiosk_id: str, secret_hex: str) -> SignedClient:
        return SignedClient(self.handle.url, kiosk_id, secret_hex)


@contextlib.contextmanager
def running_backend(
    db_url: str, *, seed_postings: int = 1500, seed_persons: int = 200, **settings: Any
) -> Iterator[RunningBackend]:
    """Create, seed and serve the app on 127.0.0.1 (free port); stop it afterwards."""
    from kiosk_backend.app import create_app
    from kiosk_backend.provision import new_secret_hex
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.settings import ServerSettings

    secret = new_secret_hex()
    app = create_app(
        ServerSettings(
            db_url=db_url,
            seed_demo=True,
            demo_kiosk_secret_hex=secret,
            seed_postings=seed_postings,
            seed_persons=seed_persons,
            **settings,
        )
    )
    handle = serve_in_thread(app)
    try:
        yield RunningBackend(
            handle, SignedClient(handle.url, DEMO_KIOSK_ID, secret), DEMO_KIOSK_ID, secret, db_url
        )
    finally:
        handle.stop()


@dataclasses.dataclass
class ServedProcess:
    """``kiosk backend serve`` running as its own process (see :func:`start_served`)."""

    process: Any  # subprocess.Popen
    url: str
    port: int

    def worker_pids(self) -> list[int]:
        """The pids of the server's worker processes (its own pid when it runs one worker)."""
        children = _child_pids(self.process.pid)
        return children or [self.process.pid]

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (SIGKILL after 30 s), or SIGKILL at once with *kill* (a crash)."""
        import signal
        import subprocess

        if self.process.poll() is not None:
            return
        if kill:
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _child_pids(pid: int) -> list[int]:
    from pathlib import Path

    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        found += [int(child) for child in children]
    # uvicorn's spawn start method leaves a resource tracker beside the workers
    return [c for c in found if b"resource_tracker" not in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_served(
    db_url: str,
    *,
    workers: int = 1,
    port: int | None = None,
    seed_demo: bool = False,
    env: dict[str, str] | None = None,
    start_timeout: float = 120.0,
    log_level: str = "warning",
) -> ServedProcess:
    """Start ``python -m kiosk backend serve --workers N`` on 127.0.0.1; return once
    ``/api/v1/health`` answers. Raises RuntimeError (with the server's stderr) if it exits
    during start-up. Stop it with :meth:`ServedProcess.stop`."""
    import subprocess
    import sys
    import tempfile
    import time

    port = port or free_port()
    command = [sys.executable, "-m", "kiosk", "backend", "serve", "--db", db_url]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", log_level]
    if seed_demo:
        command.append("--seed-demo")
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **(env or {})}
    )
    served = ServedProcess(process, f"http://127.0.0.1:{port}", port)
    deadline = time.monotonic() + start_timeout
    while True:
        try:
            if requests.get(served.url + "/api/v1/health", timeout=2).ok:
                return served
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            served.stop(kill=True)
            stderr.seek(0)
            raise RuntimeError(
                "kiosk backend serve did not start: "
                + stderr.read().decode("utf-8", "replace")[-2000:]
            )
        time.sleep(0.2)


@contextlib.contextmanager
def served_process(db_url: str, **options: Any) -> Iterator[ServedProcess]:
    """:func:`start_served` for the length of a ``with`` block (stopped with SIGTERM)."""
    served = start_served(db_url, **options)
    try:
        yield served
    finally:
        served.stop()
