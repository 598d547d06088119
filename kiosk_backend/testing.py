"""A minimal signed HTTP client for tests and tools (not the kiosk's client, which lives in
kiosk.services): signs each request per the contract and adds an Idempotency-Key to POSTs.

Identity: :meth:`SignedClient.identify` opens an identity session the way a kiosk's card reader
does (card evidence) and returns the token; ``identity=token`` sends it. For tests about other
things than identity, :class:`IdentifiedClient` identifies the persons of each person-scoped
POST by itself (one session per set of persons, over the real HTTP contract)."""

from __future__ import annotations

import contextlib
import dataclasses
import json as jsonlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from kiosk_backend.server import ServerHandle
from kiosk_backend.settings import DEMO_KIOSK_ID
from kiosk_backend.signing import signed_headers

IDENTITY_HEADER = "X-Identity-Token"
IDENTITY_SESSIONS_PATH = "/api/v1/identity/sessions"
# Test servers are shared by many tests that each identify new persons: the per-kiosk limit
# is raised there (tests of the limit set their own).
TEST_PERSON_LIMIT = 100_000


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
        identity: str | None = None,
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
        if identity is not None:
            headers[IDENTITY_HEADER] = identity
        headers.update(extra_headers or {})
        return self.session.request(method, url, data=body, headers=headers, timeout=self.timeout)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def identify(
        self,
        id_number: str,
        *,
        evidence: str = "idcard_sam",
        role: str = "resident",
        token: str | None = None,
    ) -> str:
        """Open an identity session for *id_number* (join *token*'s, for 代办); the new token.

        Raises AssertionError with the server's answer when it refuses."""
        body = {"evidence": evidence, "id_number": id_number, "role": role}
        response = self.post(IDENTITY_SESSIONS_PATH, body, identity=token)
        assert response.status_code == 200, response.text
        return response.json()["token"]


class IdentifiedClient(SignedClient):
    """A SignedClient that proves identity by itself: before a POST whose JSON body names
    persons (``id_number``, ``agent.id_number``) it identifies them by ID card evidence — as a
    kiosk whose reader read their cards — and sends the token, unless ``identity=`` is given.
    When the platform refuses the identification (an invalid ID number: 422 naming the field),
    that answer is returned, as the kiosk would meet it first. Tokens are reused per set of
    persons. With the platform's *db_url* it also mints e-SSC codes (:meth:`essc_code`), as the
    e-SSC service does for a resident's phone."""

    def __init__(self, *args: Any, db_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db_url = db_url
        self._tokens: dict[tuple[str, str], str] = {}

    def essc_code(self, demo_label: str | None = None, **who: str) -> str:
        """A fresh e-SSC code (see :meth:`RunningBackend.essc_code`)."""
        from kiosk_backend.essc_codes import mint_in_database

        if not self.db_url:
            raise RuntimeError("this client was made without the platform's db_url")
        if demo_label is not None:
            who["demo_label"] = demo_label
        return mint_in_database(self.db_url, **who)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        body = kwargs.get("json")
        if (
            method.upper() == "POST"
            and kwargs.get("identity") is None
            and isinstance(body, dict)
            and isinstance(body.get("id_number"), str)
            and not path.startswith((IDENTITY_SESSIONS_PATH, "/api/v1/essc/"))
        ):
            token = self._token_for(body["id_number"], _agent_number(body))
            if isinstance(token, requests.Response):
                return token
            kwargs["identity"] = token
        return super().request(method, path, **kwargs)

    def _token_for(self, id_number: str, agent_number: str) -> str | requests.Response:
        key = (id_number, agent_number)
        if key in self._tokens:
            return self._tokens[key]
        token = None
        for number, role in ((id_number, "resident"), (agent_number, "agent")):
            if not number:
                continue
            body = {"evidence": "idcard_sam", "id_number": number, "role": role}
            answer = super().request("POST", IDENTITY_SESSIONS_PATH, json=body, identity=token)
            if answer.status_code != 200:
                return answer
            token = answer.json()["token"]
        self._tokens[key] = token
        return token


def _agent_number(body: dict[str, Any]) -> str:
    agent = body.get("agent")
    number = agent.get("id_number") if isinstance(agent, dict) else None
    return number if isinstance(number, str) else ""


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
    """A seeded server on a real socket plus a client signed as the demo kiosk (an
    :class:`IdentifiedClient`: it identifies the persons it asks about by itself)."""

    handle: ServerHandle
    client: IdentifiedClient
    kiosk_id: str
    secret_hex: str
    db_url: str
    key_file: str
    _desks: dict[str, SignedClient] = dataclasses.field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.handle.url

    def client_for(self, kiosk_id: str, secret_hex: str) -> SignedClient:
        return SignedClient(self.handle.url, kiosk_id, secret_hex)

    def essc_code(self, demo_label: str | None = None, **who: str) -> str:
        """A fresh e-SSC code: for a demo label (``ESSC-DEMO-RESIDENT-04``), or ``person=`` an
        ID number / ``operator=`` an account (see :func:`kiosk_backend.essc_codes.mint_for`)."""
        return self.client.essc_code(demo_label, **who)

    def desk_client(self, desk: Any) -> SignedClient:
        """A client signing as responder desk *desk* (a ``seed.desks.DemoDesk`` or alike),
        re-keyed once per server (the administrator's step; the demo secrets are held by
        nobody)."""
        from kiosk_backend.ledger import add_responder
        from kiosk_backend.provision import new_secret_hex

        cached = self._desks.get(desk.account)
        if cached is None:
            secret = new_secret_hex()
            add_responder(
                self.db_url,
                desk.account,
                name=desk.name,
                role=desk.role,
                level=desk.level,
                region_prefix=desk.region_prefix,
                secret_hex=secret,
                business_line=getattr(desk, "business_line", ""),
                key_file=self.key_file,
            )
            cached = self._desks[desk.account] = self.client_for(desk.account, secret)
        return cached


@contextlib.contextmanager
def running_backend(
    db_url: str, *, seed_postings: int = 1500, seed_persons: int = 200, **settings: Any
) -> Iterator[RunningBackend]:
    """Create, seed and serve the app on 127.0.0.1 (free port); stop it afterwards.

    A database without a key file of its own (PostgreSQL) gets a throw-away server key file;
    ``RunningBackend.key_file`` names the one in use (pass it to ``add_kiosk`` and the like).
    """
    from kiosk_backend.app import create_app
    from kiosk_backend.provision import new_secret_hex
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.server_keys import key_file_for
    from kiosk_backend.settings import ServerSettings

    secret = new_secret_hex()
    with contextlib.ExitStack() as stack:
        key_file = key_file_for(db_url, settings.pop("key_file", None))
        if key_file is None:
            key_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="server-key-"))
            key_file = Path(key_dir) / "backend.key"
        app = create_app(
            ServerSettings(
                db_url=db_url,
                seed_demo=True,
                demo_kiosk_secret_hex=secret,
                seed_postings=seed_postings,
                seed_persons=seed_persons,
                key_file=str(key_file),
                **{"person_limit": TEST_PERSON_LIMIT, **settings},
            )
        )
        handle = serve_in_thread(app)
        try:
            yield RunningBackend(
                handle,
                IdentifiedClient(handle.url, DEMO_KIOSK_ID, secret, db_url=db_url),
                DEMO_KIOSK_ID,
                secret,
                db_url,
                str(key_file),
            )
        finally:
            handle.stop()


@contextlib.contextmanager
def server_key_environment(db_url: str) -> Iterator[Path | None]:
    """For a database without a key file of its own (PostgreSQL), point
    ``$KIOSK_BACKEND_KEY_FILE`` at a throw-away key file for the block, so this process and the
    servers it starts (:func:`start_served`) share one server key ring; yields the file (None
    when the database has its own, e.g. beside an SQLite file)."""
    from kiosk_backend.server_keys import KEY_FILE_ENV, key_file_for

    if key_file_for(db_url) is not None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="server-key-") as key_dir:
        key_file = Path(key_dir) / "backend.key"
        os.environ[KEY_FILE_ENV] = str(key_file)
        try:
            yield key_file
        finally:
            os.environ.pop(KEY_FILE_ENV, None)


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
    extra_args: tuple[str, ...] = (),
) -> ServedProcess:
    """Start ``python -m kiosk backend serve --workers N`` on 127.0.0.1 (*extra_args* appended,
    e.g. ``("--person-limit", "1000")``); return once ``/api/v1/health`` answers. Raises
    RuntimeError (with the server's stderr) if it exits during start-up. Stop it with
    :meth:`ServedProcess.stop`."""
    import subprocess
    import sys
    import tempfile
    import time

    port = port or free_port()
    command = [sys.executable, "-m", "kiosk", "backend", "serve", "--db", db_url]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", log_level]
    if seed_demo:
        command.append("--seed-demo")
    command += extra_args
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
