"""What the security tests share: a reference platform served on 127.0.0.1 (one or several
workers on one database), signed clients of provisioned kiosks, and a log of the SQL the
platform ran (to prove a refusal came before any person data was read)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from kiosk.domain.identity import build_id_number
from kiosk_backend.testing import SignedClient, scratch_postgres_database

API = "/api/v1"
DEMO_PENSIONER = "ESSC-DEMO-RESIDENT-04"  # an enterprise pension retiree with payment records
DEMO_EMPLOYED = "ESSC-DEMO-RESIDENT-07"
# Tables that hold a person's data: a refusal must come before any statement touches them.
PERSON_TABLES = (
    "persons",
    "contributions",
    "payments",
    "applications",
    "job_seekers",
    "employment_certificates",
    "person_archives",
    "odd_job_demands",
)
STATUS = f"{API}/persons/enterprise-pension/status"


def db_params() -> list:
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@contextlib.contextmanager
def database(kind: str, tmp_path) -> Iterator[str]:
    """A scratch database URL of *kind* (``sqlite`` / ``postgres``)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'platform.sqlite3'}"
        return
    with scratch_postgres_database(os.environ["KIOSK_TEST_PG_URL"]) as url:
        yield url


class StatementLog:
    """Every SQL statement an engine runs while :meth:`recording` (thread-safe)."""

    def __init__(self, engine) -> None:
        self._lock = threading.Lock()
        self._on = False
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        with self._lock:
            if self._on:
                self.statements.append(statement.lower())

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        with self._lock:
            self.statements = []
            self._on = True
        try:
            yield self.statements
        finally:
            with self._lock:
                self._on = False

    @staticmethod
    def touching_persons(statements: list[str]) -> list[str]:
        return [
            s
            for s in statements
            if any(f" {table}" in s or f'"{table}"' in s for table in PERSON_TABLES)
        ]


@dataclasses.dataclass
class Platform:
    """The reference platform on 127.0.0.1: ``apps``/``urls`` per worker, one database."""

    db_url: str
    apps: list[Any]
    handles: list[Any]
    demo_secret_hex: str

    @property
    def url(self) -> str:
        return self.handles[0].url

    def kiosk(self, kiosk_id: str = "", *, worker: int = 0) -> SignedClient:
        """A signed client of a freshly provisioned kiosk (never registered), or of *kiosk_id*
        when given (the demo kiosk: ``demo-kiosk-0001``)."""
        from kiosk_backend.provision import new_secret_hex, upsert_kiosk
        from kiosk_backend.settings import DEMO_KIOSK_ID

        if kiosk_id == DEMO_KIOSK_ID:
            return SignedClient(self.handles[worker].url, kiosk_id, self.demo_secret_hex)
        kiosk_id = kiosk_id or f"qy-{os.urandom(4).hex()}"
        secret = new_secret_hex()
        with self.apps[0].state.sessions() as session:
            upsert_kiosk(
                session,
                kiosk_id,
                secret,
                "沁源县郭道镇测试服务点",
                keys=self.apps[0].state.server_keys,
                region_code="140431",  # the county provisions it in its region
            )
            session.commit()
        return SignedClient(self.handles[worker].url, kiosk_id, secret)

    def kiosk_on_every_worker(self) -> list[SignedClient]:
        """Clients of one freshly provisioned kiosk, one per worker."""
        first = self.kiosk()
        secret = first.secret.hex()
        return [first] + [SignedClient(h.url, first.kiosk_id, secret) for h in self.handles[1:]]

    def essc_code(self, demo_label: str | None = None, **who: Any) -> str:
        from kiosk_backend.essc_codes import mint_for

        if demo_label is not None:
            who["demo_label"] = demo_label
        with self.apps[0].state.sessions() as session:
            return mint_for(session, **who)

    def id_number_of(self, demo_label: str) -> str:
        from kiosk_backend.models import Person

        with self.apps[0].state.sessions() as session:
            return session.scalar(select(Person.id_number).where(Person.essc_qr == demo_label))

    def count(self, model, *where) -> int:
        with self.apps[0].state.sessions() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))

    def stop(self) -> None:
        for handle in self.handles:
            handle.stop()
        for app in self.apps:
            app.state.engine.dispose()


@contextlib.contextmanager
def serve(db_url: str, *, workers: int = 1, seed_persons: int = 40, **settings: Any):
    """Migrate, seed and serve the platform with *workers* app instances on one database and
    one server key ring (beside an SQLite file; a throw-away key file for PostgreSQL)."""
    from kiosk_backend.app import create_app
    from kiosk_backend.provision import new_secret_hex
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.server_keys import key_file_for
    from kiosk_backend.settings import ServerSettings

    secret = new_secret_hex()
    apps, handles = [], []
    with contextlib.ExitStack() as stack:
        key_file = key_file_for(db_url, settings.pop("key_file", None))
        if key_file is None:
            key_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="server-key-"))
            key_file = Path(key_dir) / "backend.key"
        try:
            for _worker in range(workers):
                app = create_app(
                    ServerSettings(
                        db_url=db_url,
                        seed_demo=True,
                        demo_kiosk_secret_hex=secret,
                        seed_postings=100,
                        seed_persons=seed_persons,
                        key_file=str(key_file),
                        **settings,
                    )
                )
                apps.append(app)
                handles.append(serve_in_thread(app))
            yield Platform(db_url, apps, handles, secret)
        finally:
            for handle in handles:
                handle.stop()
            for app in apps:
                app.state.engine.dispose()


def new_id_number(sequence: int, age: int = 40) -> str:
    """A valid ID number of a person the demo seed does not have."""
    today = dt.date.today()
    return build_id_number("140431", dt.date(today.year - age, 3, 9), 700 + sequence)


def identify(client: SignedClient, id_number: str, *, token: str | None = None, **extra) -> str:
    """Open (or join) an identity session by ID card evidence; the token."""
    body = {"evidence": "idcard_sam", "id_number": id_number, **extra}
    response = client.post(f"{API}/identity/sessions", body, identity=token)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def refused_for_identity(response) -> bool:
    return response.status_code == 403 and response.json()["code"] == "identity_required"
