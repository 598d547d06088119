"""The platform's database and secrets at rest, checked on real files of a real server process.

Findings (issue 13): the backend SQLite file was created 0644 and held every kiosk's HMAC
secret in plain text. Now the database and its -wal/-shm files and the server key file are
created 0600 (under a shell's umask 022), and kiosk secrets are sealed with the server key.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from backend_process import backend_cli, serving

from kiosk_backend.db import alembic_config, make_engine
from kiosk_backend.testing import SignedClient

pytestmark = pytest.mark.slow

REGION = "140431"
HELP_CALLS = "/api/v1/help-requests"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _add_kiosk(db_url: str, kiosk_id: str, secret_file: Path, *extra: str) -> str:
    result = backend_cli(
        "add-kiosk", "--id", kiosk_id, "--db", db_url, "--secret-file", str(secret_file),
        "--region", REGION, *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return secret_file.read_text().strip()


def _bytes_on_disk(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


@pytest.fixture
def site(tmp_path):
    """A platform database the county provisioned one kiosk into, with the real command."""
    db_path = tmp_path / "platform" / "backend.sqlite3"
    db_url = f"sqlite:///{db_path}"
    secret = _add_kiosk(db_url, "qy-0001", tmp_path / "qy-0001.secret")
    return db_path, db_url, secret


def test_database_wal_shm_and_key_file_are_created_0600(site):
    db_path, db_url, secret = site
    with serving(db_url) as base:
        # a signed request writes (its nonce), so the -wal and -shm files exist now
        assert SignedClient(base, "qy-0001", secret).get("/api/v1/catalogue").status_code == 200
        files = {name: Path(f"{db_path}{name}") for name in ("", "-wal", "-shm", ".key")}
        assert {name: _mode(path) for name, path in files.items()} == {
            "": 0o600,
            "-wal": 0o600,
            "-shm": 0o600,
            ".key": 0o600,
        }


def test_a_kiosk_secret_is_sealed_with_the_server_key(site, tmp_path):
    db_path, db_url, secret = site
    with serving(db_url) as base:
        assert SignedClient(base, "qy-0001", secret).get("/api/v1/catalogue").status_code == 200
        on_disk = _bytes_on_disk(db_path)
    # the secret is nowhere in the database files, neither as hex nor as raw bytes
    assert secret.encode() not in on_disk
    assert bytes.fromhex(secret) not in on_disk
    # and it opens only with the server key: a server given another key refuses the kiosk
    other_key = tmp_path / "other.key"
    with serving(db_url, "--key-file", str(other_key)) as base:
        refused = SignedClient(base, "qy-0001", secret).get("/api/v1/catalogue")
    assert refused.status_code == 401


def test_the_upgrade_seals_the_secrets_of_an_existing_database(tmp_path):
    # GIVEN a database of the schema before the fix, holding a kiosk's secret in clear
    db_path = tmp_path / "old.sqlite3"
    db_url = f"sqlite:///{db_path}"
    secret = "5e" * 32
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "0003")
    finally:
        engine.dispose()
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO kiosks (id, kind, secret_hex, service_point, region_code, version, "
            "capabilities, registered_at, last_devices, paper_level, outbox_depth, enabled) "
            "VALUES ('qy-old', 'kiosk', ?, '城关服务点', ?, '', '[]', '2026-11-02 03:04:05', "
            "'[]', 'ok', 0, 1)",
            (secret, REGION),
        )
    # WHEN the server starts on it (it migrates first)
    with serving(db_url) as base:
        # THEN the kiosk still signs in with the secret it has
        assert SignedClient(base, "qy-old", secret).get("/api/v1/catalogue").status_code == 200
        # AND the clear secret is gone from the files: not in freed pages, not in the WAL
        assert secret.encode() not in _bytes_on_disk(db_path)


def test_rotating_the_server_key_keeps_kiosks_and_stored_answers_working(site):
    db_path, db_url, secret = site
    key_file = Path(f"{db_path}.key")
    with serving(db_url) as base:
        kiosk = SignedClient(base, "qy-0001", secret)
        first = kiosk.post(HELP_CALLS, {"screen": "home"}, idempotency_key=KEY)
        assert first.status_code == 200, first.text
    old_key = key_file.read_text()
    # WHEN the county rotates the server key (server stopped)
    rotated = backend_cli("rotate-key", "--db", db_url)
    assert rotated.returncode == 0, rotated.stderr
    # THEN the file holds a new key first and the old one after it, still 0600
    keys = [line for line in key_file.read_text().splitlines() if not line.startswith("#")]
    assert len(keys) == 2 and keys[1] in old_key and keys[0] not in old_key
    assert _mode(key_file) == 0o600
    with serving(db_url) as base:
        kiosk = SignedClient(base, "qy-0001", secret)
        # the kiosk signs in, and a retry of the earlier call gets the earlier answer
        again = kiosk.post(HELP_CALLS, {"screen": "home"}, idempotency_key=KEY)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


KEY = "6f0c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5"


def test_a_postgres_server_without_a_named_key_file_does_not_start():
    # the key check comes before any connection: no PostgreSQL server is needed
    result = backend_cli("serve", "--db", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.returncode == 2
    assert "--key-file" in result.stderr and "KIOSK_BACKEND_KEY_FILE" in result.stderr
