"""Migration 0003 on a database that used the old endpoints: legacy /api/v1/tickets rows move
into the 问题台账, responder desks become principals of kind ``desk`` (SQLite, and PostgreSQL
when KIOSK_TEST_PG_URL is set)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from alembic import command
from sqlalchemy import text

from kiosk_backend.db import alembic_config, make_engine, migrate
from kiosk_backend.server_keys import ServerKeys
from kiosk_backend.testing import scratch_postgres_database


def _db_params():
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@pytest.fixture(params=_db_params())
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    else:
        with scratch_postgres_database(os.environ["KIOSK_TEST_PG_URL"]) as url:
            yield url


def test_legacy_tickets_are_folded_into_the_ledger_and_desks_get_their_kind(db_url):
    engine = make_engine(db_url)
    created = dt.datetime(2026, 11, 2, 3, 4, 5, tzinfo=dt.UTC)
    try:
        command.upgrade(alembic_config(engine), "0002")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO kiosks (id, secret_hex, service_point, region_code, version, "
                    "capabilities, registered_at, last_devices, paper_level, outbox_depth, "
                    "enabled) VALUES (:id, :s, :sp, '140431', '', '[]', :at, '[]', 'ok', 0, "
                    ":on)"
                ),
                [
                    {
                        "id": "qy-0001",
                        "s": "ab" * 32,
                        "sp": "城关服务点",
                        "at": created,
                        "on": True,
                    },
                    {"id": "county-1", "s": "cd" * 32, "sp": "县", "at": created, "on": True},
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO ledger_responders (account, name, role, level, region_prefix, "
                    "enabled) VALUES ('county-1', '某', '', 'county', '140431', :on)"
                ),
                {"on": True},
            )
            conn.execute(
                text(
                    "INSERT INTO tickets (kiosk_id, category, kind, fault_key, description, "
                    "suggestion, state, created_at, closed_at, resolution) VALUES "
                    "(:k, :c, :kind, :f, :d, '', :st, :at, :closed, :r)"
                ),
                [
                    {
                        "k": "qy-0001",
                        "c": "device",
                        "kind": "device_fault",
                        "f": "printer.paper_end",
                        "d": "打印机缺纸",
                        "st": "closed",
                        "at": created,
                        "closed": created + dt.timedelta(hours=1),
                        "r": "已换纸",
                    },
                    {
                        "k": "qy-0001",
                        "c": "functional",
                        "kind": "problem_report",
                        "f": "",
                        "d": "查询页面字太小",
                        "st": "open",
                        "at": created,
                        "closed": None,
                        "r": "",
                    },
                ],
            )
        migrate(engine, ServerKeys.generate())  # 0002 → head (0007 seals the kiosk secrets)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT number, client_ref, state, level, reporter, service_point, "
                    "description, resolution FROM ledger_tickets ORDER BY id"
                )
            ).all()
            kinds = dict(conn.execute(text("SELECT id, kind FROM kiosks")).all())
            events = conn.execute(text("SELECT action, actor FROM ledger_events")).all()
            tables = set(
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type='table'"
                        if engine.dialect.name == "sqlite"
                        else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("WTLEGACY000001", "legacy-ticket-1", "closed", "county", "kiosk", "城关服务点",
         "打印机缺纸", "已换纸"),
        ("WTLEGACY000002", "legacy-ticket-2", "submitted", "province", "resident", "城关服务点",
         "查询页面字太小", ""),
    ]  # fmt: skip
    assert kinds == {"qy-0001": "kiosk", "county-1": "desk"}
    assert sorted(events) == [("submitted", "qy-0001"), ("submitted", "qy-0001")]
    assert "tickets" not in tables and "application_events" in tables


def test_the_downgrade_restores_the_old_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'down.sqlite3'}")
    try:
        migrate(engine)
        command.downgrade(alembic_config(engine), "0002")
        with engine.connect() as conn:
            columns = {row[1] for row in conn.execute(text("PRAGMA table_info(applications)"))}
            tables = set(
                conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
            )
        assert "agent_id_number" not in columns and "tickets" in tables
        migrate(engine)  # and up again
    finally:
        engine.dispose()
