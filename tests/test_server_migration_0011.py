"""Migration 0011 on a database with postings (SQLite, and PostgreSQL when KIOSK_TEST_PG_URL is
set): every existing gram gets its posting's kind and dates, the search finds the old postings
newest first, the trigger keeps the copies in step, and the downgrade drops it all again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from test_server_migration_0003 import db_url  # noqa: F401  (fixture: SQLite and PostgreSQL)

from kiosk_backend.db import alembic_config, make_engine, make_session_factory, migrate
from kiosk_backend.search import grams_of_text, search_page

OLD_POSTINGS = (  # id, kind, title, posted_on, valid_until
    (1, "fixed", "货车司机", dt.date(2026, 11, 1), dt.date(2027, 1, 30)),
    (2, "odd", "司机", dt.date(2026, 11, 20), dt.date(2026, 12, 4)),
    (3, "fixed", "电工", dt.date(2026, 11, 25), dt.date(2027, 2, 23)),
)


def _grams(conn) -> set[tuple]:
    rows = conn.execute(
        sa.text("SELECT gram, posting_id, kind, posted_on, valid_until FROM posting_grams")
    )
    return {(g, pid, kind, _day(posted), _day(valid)) for g, pid, kind, posted, valid in rows}


def _day(value) -> dt.date:  # SQLite hands dates back as text through sa.text()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def test_existing_grams_get_kind_and_dates_and_stay_in_step(db_url):  # noqa: F811
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "0004")
        meta = sa.MetaData()
        meta.reflect(engine)
        postings, grams = meta.tables["job_postings"], meta.tables["posting_grams"]
        with engine.begin() as conn:
            for pid, kind, title, posted, valid in OLD_POSTINGS:
                conn.execute(
                    postings.insert().values(
                        id=pid, kind=kind, title=title, occupation="", employer_name="",
                        town="", village="", salary_min=1, salary_max=2, salary_unit="month",
                        headcount=1, description="", requirements="", contact_phone="",
                        posted_on=posted, valid_until=valid, search_text=title,
                    )
                )  # fmt: skip
                conn.execute(
                    grams.insert(), [{"gram": g, "posting_id": pid} for g in grams_of_text(title)]
                )
        migrate(engine)
        expected = {
            (g, pid, kind, posted, valid)
            for pid, kind, title, posted, valid in OLD_POSTINGS
            for g in grams_of_text(title)
        }
        with engine.connect() as conn:
            assert _grams(conn) == expected
        with make_session_factory(engine)() as session:
            total, rows = search_page(session, "司机", valid_on=dt.date(2026, 12, 4))
            assert (total, [r.id for r in rows]) == (2, [2, 1])
            total, rows = search_page(session, "司机", kind="fixed", valid_on=dt.date(2026, 12, 5))
            assert (total, [r.id for r in rows]) == (1, [1])
        with engine.begin() as conn:  # the trigger: a plain SQL update reaches the grams
            conn.execute(sa.text("UPDATE job_postings SET kind = 'odd' WHERE id = 3"))
        with engine.connect() as conn:
            assert {row[2] for row in _grams(conn) if row[1] == 3} == {"odd"}

        command.downgrade(alembic_config(engine), "0004")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("posting_grams")}
            assert columns == {"gram", "posting_id"}
            conn.execute(
                sa.text("UPDATE job_postings SET kind = 'fixed' WHERE id = 3")
            )  # no trigger
            conn.commit()
        migrate(engine)  # and up again
        with engine.connect() as conn:
            assert {row[2] for row in _grams(conn) if row[1] == 3} == {"fixed"}
    finally:
        engine.dispose()
