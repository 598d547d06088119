"""Shared fixtures for the backend client and outbox tests (no tests here).

- ``reference_server``: the real reference server (kiosk_backend) on 127.0.0.1, with a
  provisioned kiosk; yields a :class:`RunningServer`.
- ``scripted_server``: a real HTTP server on 127.0.0.1 that answers from a script of
  (status, body, headers) and records every request it received — for 5xx/redirect/garbage
  answers the reference server never gives.
- ``silent_server``: accepts TCP connections and never answers (a hung platform).
"""

from __future__ import annotations

import http.server
import json
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from kiosk.services.backend_client import BackendClient

KIOSK_ID = "test-kiosk-0001"


@dataclass
class RunningServer:
    url: str
    secret: bytes
    kiosk_id: str
    db_path: Path
    handle: object

    def client(self, **kwargs) -> BackendClient:
        kwargs.setdefault("connect_timeout", 5.0)
        kwargs.setdefault("read_timeout", 30.0)
        return BackendClient(requests.Session(), self.url, self.kiosk_id, self.secret, **kwargs)

    def essc_code(self, demo_label: str | None = None, **who: str) -> str:
        """A fresh e-SSC code minted by this platform (a demo label such as
        ``ESSC-DEMO-RESIDENT-04``, or ``person=`` / ``operator=``)."""
        from kiosk_backend.essc_codes import mint_in_database

        if demo_label is not None:
            who["demo_label"] = demo_label
        return mint_in_database(f"sqlite:///{self.db_path}", **who)


def start_reference_server(
    directory: Path, port: int = 0, secret: bytes | None = None, seed: bool = False
):
    from kiosk_backend.app import create_app
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.settings import ServerSettings
    from kiosk_backend.testing import TEST_PERSON_LIMIT

    secret = secret or secrets.token_bytes(32)
    db_path = directory / "server.sqlite3"
    settings = ServerSettings(
        db_url=f"sqlite:///{db_path}",
        seed_demo=seed,
        demo_kiosk_id=KIOSK_ID,
        demo_kiosk_secret_hex=secret.hex(),
        seed_postings=300,
        seed_persons=60,
        person_limit=TEST_PERSON_LIMIT,
    )
    handle = serve_in_thread(create_app(settings), host="127.0.0.1", port=port)
    return RunningServer(handle.url, secret, KIOSK_ID, db_path, handle)


@pytest.fixture
def reference_server(tmp_path):
    server = start_reference_server(tmp_path)
    yield server
    server.handle.stop()


@pytest.fixture
def seeded_server(tmp_path):
    """The reference server with (a small amount of) deterministic 沁源县 demo data."""
    server = start_reference_server(tmp_path, seed=True)
    yield server
    server.handle.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ScriptedServer:
    url: str
    script: list = field(default_factory=list)
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self):
        with self.lock:
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0]


@pytest.fixture
def scripted_server():
    """Answers each request with the next (status, body, headers) of ``server.script``; the last
    entry repeats. ``server.received`` holds (method, path, headers, body) per request."""
    state = ScriptedServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.received.append((self.command, self.path, dict(self.headers), body))
            status, payload, headers = state.next_answer()
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    state.script.append((200, {}, {}))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent_server():
    """A listening socket that accepts connections and never says a word; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()
