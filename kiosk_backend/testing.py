"""A minimal signed HTTP client for tests and tools (not the kiosk's client, which lives in
kiosk.services): signs each request per the contract and adds an Idempotency-Key to POSTs."""

from __future__ import annotations

import contextlib
import dataclasses
import json as jsonlib
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
    _desks: dict[str, SignedClient] = dataclasses.field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.handle.url

    def client_for(self, kiosk_id: str, secret_hex: str) -> SignedClient:
        return SignedClient(self.handle.url, kiosk_id, secret_hex)

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
            )
            cached = self._desks[desk.account] = self.client_for(desk.account, secret)
        return cached


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
