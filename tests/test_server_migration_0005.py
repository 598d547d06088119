"""Migration 0005 on a database with counter pre-applications (SQLite, and PostgreSQL when
KIOSK_TEST_PG_URL is set): one still waiting loses the due date counted from the booking; one
the desk already accepted gets ``accepted_on`` and the due date counted from that day; kiosk
items keep theirs; the check-code key table appears. The way back down to 0003 runs through
every later migration of the chain (… 0008 → 0004 is the head) and loses no row."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from test_server_migration_0003 import db_url  # noqa: F401  (fixture: SQLite and PostgreSQL)

from kiosk.domain.workdays import due_date
from kiosk_backend.db import alembic_config, make_engine, migrate


def _filler(column: sa.Column):
    """A value for a NOT NULL column of the old schema that this test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Numeric):
        return 0
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date(1960, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def _insert(conn, table: sa.Table, **values) -> None:
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and not c.primary_key and c.name not in values
    }
    conn.execute(table.insert().values(**row, **values))


def test_work_orders_count_from_acceptance_after_the_upgrade(db_url):  # noqa: F811
    engine = make_engine(db_url)
    booked = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)  # 12-03 09:00 in 沁源县
    accepted_at = dt.datetime(2026, 12, 6, 17, 30, tzinfo=dt.UTC)  # 12-07 01:30 (a Monday)
    try:
        command.upgrade(alembic_config(engine), "0003")
        meta = sa.MetaData()
        meta.reflect(engine)
        persons, applications = meta.tables["persons"], meta.tables["applications"]
        events = meta.tables["application_events"]
        with engine.begin() as conn:
            _insert(conn, persons, id=1, id_number="140431196001010011")
            rows = [
                (1, "BJ20261203000001", 34, "work_order", "waiting_counter", dt.date(2026, 12, 7)),
                (2, "BJ20261203000002", 28, "work_order", "submitted", dt.date(2026, 12, 7)),
                (3, "BJ20261203000003", 10, "flexible_employment", "submitted", None),
            ]
            for app_id, number, item, kind, status, due in rows:
                _insert(
                    conn,
                    applications,
                    id=app_id,
                    number=number,
                    person_id=1,
                    item_no=item,
                    kind=kind,
                    status=status,
                    submitted_at=booked,
                    due_date=due or dt.date(2026, 12, 10),
                )
            _insert(
                conn,
                events,
                application_id=2,
                at=accepted_at,
                actor="demo-county-140431",
                from_status="waiting_counter",
                to_status="submitted",
            )
        migrate(engine)
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT id, due_date, accepted_on FROM applications ORDER BY id")
            ).all()
            keys = conn.execute(sa.text("SELECT count(*) FROM platform_secrets")).scalar()
        as_dates = [
            (
                i,
                dt.date.fromisoformat(str(d)) if d else None,
                dt.date.fromisoformat(str(a)) if a else None,
            )
            for i, d, a in found
        ]
        accepted_on = dt.date(2026, 12, 7)
        assert as_dates == [
            (1, None, None),  # still waiting: no date was ever promised
            (2, due_date(accepted_on, 2).date, accepted_on),
            (3, dt.date(2026, 12, 10), None),  # kiosk items keep their filing-day clock
        ]
        assert keys == 0  # the key is made by the app on first start, not by the migration
        command.downgrade(alembic_config(engine), "0003")
        with engine.connect() as conn:
            columns = [c["name"] for c in sa.inspect(conn).get_columns("applications")]
            kept = conn.execute(sa.text("SELECT application_id FROM application_events")).all()
        assert "accepted_on" not in columns
        # Tables rebuilt on the way down keep what points at them (SQLite: no cascade).
        assert [tuple(row) for row in kept] == [(2,)]
    finally:
        engine.dispose()
