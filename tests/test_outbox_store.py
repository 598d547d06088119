"""The kiosk store and the outbox's durability, encryption at rest and retention (no network)."""

from __future__ import annotations

import os
import sqlite3

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from kiosk.services.errors import BackendUnavailable
from kiosk.services.outbox import (
    RECEIPT_SAVED,
    Outbox,
    OutboxDepthChanged,
    OutboxStatus,
    backoff_delay,
)
from kiosk.services.store import (
    KEY_FILE_NAME,
    PayloadCipher,
    PayloadDecryptError,
    StoreKeyError,
    load_or_create_key,
    metadata,
    open_store,
    outbox_entries,
)

ID_NUMBER = "140431198807150023"
NAME = "王秀英"
PHONE = "13912345678"


def _offline(_path, _payload, _key):
    raise BackendUnavailable(code="connection_failed")


@pytest.fixture
def store(data_dir):
    store = open_store(data_dir)
    yield store
    store.close()


@pytest.fixture
def cipher(data_dir):
    return PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME)


def test_store_uses_wal_and_synchronous_full_on_every_connection(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"
    assert os.stat(store.path).st_mode & 0o777 == 0o600


def test_migrations_produce_exactly_the_declared_tables(store):
    inspector = sa.inspect(store.engine)
    for table in metadata.sorted_tables:
        declared = {c.name for c in table.columns}
        actual = {c["name"] for c in inspector.get_columns(table.name)}
        assert declared == actual, table.name
    assert {i["name"] for i in inspector.get_indexes("outbox_entries")} >= {"ix_outbox_status_due"}


def test_reopening_an_existing_store_keeps_its_rows(data_dir, cipher):
    store = open_store(data_dir)
    entry = Outbox(store, cipher, _offline).submit("registration", "/api/v1/x", {"a": 1})
    store.close()
    store = open_store(data_dir)
    try:
        assert Outbox(store, cipher, _offline).entry(entry.local_ref) is not None
    finally:
        store.close()


def test_a_file_that_is_not_a_database_is_a_clear_error_to_a_second_process(data_dir):
    """Only the kiosk itself sets a damaged file aside (tests/test_store_recovery.py); any
    other reader gets a clear error and leaves the file where it is."""
    (data_dir / "kiosk.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(sa.exc.DatabaseError):
        open_store(data_dir, quarantine=False)
    assert (data_dir / "kiosk.sqlite3").read_bytes() == b"this is not sqlite" * 100


def test_key_file_is_created_once_with_mode_0600_outside_the_database(data_dir):
    path = data_dir / KEY_FILE_NAME
    key = load_or_create_key(path)
    assert len(key) == 32
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    assert not list(data_dir.glob("*.tmp"))


@pytest.mark.parametrize(
    ("content", "mode", "reason"), [(b"k" * 32, 0o644, "0600"), (b"k", 0o600, "32")]
)
def test_bad_key_files_are_refused(data_dir, content, mode, reason):
    path = data_dir / KEY_FILE_NAME
    path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(StoreKeyError, match=reason):
        load_or_create_key(path)


def test_personal_payload_is_not_in_the_database_files_in_plaintext(data_dir, store, cipher):
    """GIVEN a registration with an ID number, name and phone WHEN it is committed THEN neither
    the database nor its WAL holds them in plaintext, and the outbox can still read them back."""
    outbox = Outbox(store, cipher, _offline)
    payload = {"id_number": ID_NUMBER, "name": NAME, "phone": PHONE}
    entry = outbox.submit("registration", "/api/v1/job-seekers", payload)
    raw = b"".join(p.read_bytes() for p in data_dir.glob("kiosk.sqlite3*"))
    assert len(raw) > 0
    for secret in (ID_NUMBER, NAME, PHONE):
        assert secret.encode("utf-8") not in raw
        assert secret.encode("utf-16-le") not in raw
    assert outbox.payload(entry.local_ref) == payload


def test_each_row_has_its_own_nonce_and_is_bound_to_its_idempotency_key(store, cipher):
    outbox = Outbox(store, cipher, _offline)
    first = outbox.submit("registration", "/p", {"id_number": ID_NUMBER})
    second = outbox.submit("registration", "/p", {"id_number": ID_NUMBER})
    with store.engine.begin() as conn:
        blobs = dict(
            conn.execute(sa.select(outbox_entries.c.local_ref, outbox_entries.c.payload)).all()
        )
        assert blobs[first.local_ref][:12] != blobs[second.local_ref][:12]
        # move the first row's ciphertext into the second row: it must not decrypt there
        conn.execute(
            outbox_entries.update()
            .where(outbox_entries.c.local_ref == second.local_ref)
            .values(payload=blobs[first.local_ref])
        )
    with pytest.raises(PayloadDecryptError):
        outbox.payload(second.local_ref)


def test_an_undecryptable_row_is_failed_visibly_not_sent_or_crashing(store, cipher, data_dir):
    sent = []
    outbox = Outbox(store, cipher, lambda p, b, k: sent.append(k) or {"reference_no": "R"})
    entry = outbox.submit("registration", "/p", {"id_number": ID_NUMBER})
    other_key = PayloadCipher(b"\x01" * 32)
    Outbox(store, other_key, _offline).run_once()  # a kiosk whose key file was replaced
    assert sent == []
    assert outbox.entry(entry.local_ref).status is OutboxStatus.FAILED
    assert outbox.entry(entry.local_ref).error_code == "undecryptable"


def test_submit_commits_before_returning_and_says_saved_while_offline(store, cipher):
    events = []
    outbox = Outbox(store, cipher, _offline, publish=events.append)
    entry = outbox.submit("application", "/api/v1/applications", {"item_no": 22})
    # a second, independent connection (another process would see the same) finds the row
    with sqlite3.connect(store.path) as conn:
        count = conn.execute(
            "SELECT count(*) FROM outbox_entries WHERE local_ref = ? AND status = 'pending'",
            (entry.local_ref,),
        ).fetchone()[0]
    assert count == 1
    assert entry.receipt_text == RECEIPT_SAVED
    assert events[-1] == OutboxDepthChanged(pending=1, failed=0)
    assert outbox.run_once() > 0  # offline: postponed, next attempt in the future
    after = outbox.entry(entry.local_ref)
    assert after.status is OutboxStatus.PENDING
    assert after.attempts == 1
    assert after.error_code == "connection_failed"


def test_a_payload_that_is_not_json_is_refused_before_anything_is_saved(store, cipher):
    outbox = Outbox(store, cipher, _offline)
    with pytest.raises(TypeError):
        outbox.submit("registration", "/p", {"when": object()})
    assert outbox.summary().pending == 0


def test_delivered_rows_are_purged_after_the_retention_period_and_others_kept(store, cipher):
    now = [1_000_000.0]
    outbox = Outbox(
        store,
        cipher,
        lambda p, b, k: {"reference_no": "BJ1"},
        retention_days=30,
        clock=lambda: now[0],
    )
    delivered = outbox.submit("registration", "/p", {"n": 1})
    outbox.run_once()
    assert outbox.entry(delivered.local_ref).status is OutboxStatus.DELIVERED
    outbox._deliver = _offline
    pending = outbox.submit("registration", "/p", {"n": 2})
    outbox.run_once()
    now[0] += 29 * 86_400
    assert outbox.purge() == 0
    now[0] += 2 * 86_400
    assert outbox.purge() == 1
    assert outbox.entry(delivered.local_ref) is None
    assert outbox.entry(pending.local_ref).status is OutboxStatus.PENDING  # never purged


def test_summary_counts_and_oldest_pending_age(store, cipher):
    now = [5_000.0]
    outbox = Outbox(store, cipher, _offline, clock=lambda: now[0])
    outbox.submit("registration", "/p", {"n": 1})
    now[0] += 90
    outbox.submit("registration", "/p", {"n": 2})
    now[0] += 10
    summary = outbox.summary()
    assert (summary.pending, summary.delivered, summary.failed) == (2, 0, 0)
    assert summary.oldest_pending_age_seconds == pytest.approx(100)


@given(
    attempts=st.integers(min_value=0, max_value=10_000),
    initial=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=0.01, max_value=3600),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_is_full_jitter_within_the_exponential_ceiling_and_the_cap(
    attempts, initial, cap, seed
):
    import random

    delay = backoff_delay(attempts, initial, cap, random.Random(seed))
    assert 0.0 <= delay <= min(cap, initial * 2 ** min(attempts, 62))


def test_backoff_grows_on_average_until_the_cap():
    import random

    rng = random.Random(7)
    means = [sum(backoff_delay(n, 1.0, 300.0, rng) for _ in range(400)) / 400 for n in range(12)]
    assert means[0] < means[3] < means[6]
    assert max(means) <= 300.0
    assert means[11] == pytest.approx(150.0, rel=0.2)  # uniform(0, cap) once capped
